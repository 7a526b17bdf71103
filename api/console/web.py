"""What every console page shares: templates, the session cookie, CSRF, security headers.

* **Templates**: one Jinja2 environment (autoescape, strict undefined) over
  ``api/console/templates``; :func:`page` renders a whole page.
* **Session**: the console keeps the API's own bearer token (``api.tokens``:
  stored server-side only as its hash, 15 minutes) in an ``HttpOnly``,
  ``SameSite=Strict`` cookie; :func:`signed_in` turns it into the
  :class:`api.visibility.Caller` through :func:`api.auth.authenticate`, the very
  check ``/v1`` makes, so sign-out, expiry and key revocation end a console
  session exactly as they end an API token.
* **CSRF**: every state-changing console request carries a token derived from
  the session token (:func:`csrf_token`: a page of this origin can read it from
  its ``<meta>``, another origin cannot compute it) in ``X-CSRF-Token``, and
  its ``Origin`` must be this server's.
* **Headers** (:class:`SecurityHeaders`): a strict Content-Security-Policy on
  every console response (``script-src 'self'``: no inline scripts, no eval),
  ``nosniff``, the referrer only to this origin, no framing by other sites.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import authenticate
from api.errors import ForbiddenError, UnauthorizedError, status_of
from api.services import Services
from api.visibility import Caller
from ledger.errors import CustodyError
from provenance.report.format import fmt_share, place_name, short

HERE: Final = Path(__file__).parent
COOKIE: Final = "custody_session"
CSRF_HEADER: Final = "x-csrf-token"
SESSION_GRACE: Final = 12 * 3600
"""The cookie outlives its token by this much, so that a page opened after the token
expired can say so (the token itself is refused by the server at once)."""

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "base-uri 'none'"
)
"""The console's Content-Security-Policy: scripts and styles only from files of this
origin (no inline script or style, no eval), requests only to this origin."""

REPORT_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)
"""The evidence report (``report.html``, inline CSS and SVG, no script) shown in a frame:
sandboxed, no script at all, nothing fetched."""

_API_PREFIXES: Final = ("/v1/", "/docs", "/redoc", "/openapi.json")


class SecurityHeaders:
    """Add the console's security headers to every response outside ``/v1`` and the
    OpenAPI pages (a route that sets its own Content-Security-Policy keeps it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"x-frame-options": b"SAMEORIGIN",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                for name, value in extra.items():
                    if name not in names:
                        headers.append((name, value))
                if b"cache-control" not in names and not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# ------------------------------------------------------------------ templates


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = short
    env.filters["share"] = fmt_share
    env.filters["place"] = lambda c, s=None: place_name(c, s)
    env.filters["lotpath"] = lot_path
    return env


def lot_path(lot: str) -> str:
    """The console URL of a lot (``/`` kept, everything else percent-encoded)."""
    return "/lots/" + quote(lot, safe="/:@-._~")


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(context)


def page(
    request: Request,
    template: str,
    *,
    caller: Caller | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole console page: ``template`` with the signed-in party (if any) and its CSRF token."""
    token = request.cookies.get(COOKIE)
    html = render(
        template,
        caller=caller,
        csrf=csrf_token(token) if caller is not None and token else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: CustodyError, caller: Caller | None) -> Response:
    """A custody error as a console page, with the API's status and code."""
    if isinstance(error, UnauthorizedError):
        return to_sign_in("expired" if error.code != "unauthorized.key_revoked" else "revoked")
    status = status_of(error)
    response = page(
        request,
        "error.html.j2",
        caller=caller,
        status=200 if is_navigation(request) else status,
        code=error.code,
        message=error.message,
        title="Not visible" if status == 403 else ("Not found" if status == 404 else "Error"),
    )
    response.headers["X-Custody-Status"] = str(status)
    return response


def is_navigation(request: Request) -> bool:
    """A browser opening a page (``Sec-Fetch-Mode: navigate``, ``Sec-Fetch-Dest: document``).

    A refused page is shown to a browser with status 200 (a browser logs every 4xx page
    as a console error, though the page is the expected answer); every other client gets
    the API's status. Both get the real status in ``X-Custody-Status``."""
    headers = request.headers
    return headers.get("sec-fetch-mode") == "navigate" and headers.get("sec-fetch-dest") in (
        "document",
        "iframe",
    )


# ------------------------------------------------------------------ session


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: bound to it, unguessable without the cookie."""
    return hashlib.sha256(b"custody-console-csrf/1\n" + session_token.encode()).hexdigest()


def signed_in(request: Request) -> Caller | None:
    """The party of the session cookie, or None (no cookie, expired, revoked)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    svc = services(request)
    try:
        return authenticate(svc.ledger, svc.tokens, token)
    except UnauthorizedError:
        return None


def require(request: Request) -> Caller:
    """The signed-in party, or UnauthorizedError (pages turn it into the sign-in page)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise UnauthorizedError("sign in first", code="unauthorized.missing_token")
    svc = services(request)
    return authenticate(svc.ledger, svc.tokens, token)


def check_csrf(request: Request, form_token: str | None = None) -> None:
    """Refuse a state-changing request without this session's CSRF token (the
    ``X-CSRF-Token`` header, or ``form_token`` read from a form) or from another
    origin (403 ``forbidden.csrf``)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise ForbiddenError("request from another origin", code="forbidden.csrf")
    token = request.cookies.get(COOKIE)
    sent = form_token if form_token is not None else request.headers.get(CSRF_HEADER, "")
    if not token or not hmac.compare_digest(sent, csrf_token(token)):
        raise ForbiddenError("missing or wrong CSRF token; reload the page", code="forbidden.csrf")


def check_origin(request: Request) -> None:
    """Requests made before sign-in (JSON only) must come from this origin."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise ForbiddenError("request from another origin", code="forbidden.csrf")


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def set_session(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age + SESSION_GRACE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def to_sign_in(reason: str, next_path: str = "") -> Response:
    """Back to the sign-in page, saying why (``expired``, ``revoked``, ``signed-out``) and
    where to return after signing in."""
    query = {k: v for k, v in (("m", reason), ("next", next_path)) if v}
    response = RedirectResponse("/?" + urlencode(query) if query else "/", status_code=303)
    clear_session(response)
    return response


def safe_next(value: str | None) -> str:
    """A path of this site to return to after signing in ("" if it is not one)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    return value if len(value) <= 1000 and value.isprintable() else ""


def gate(request: Request) -> Caller | Response:
    """The signed-in party, or the way to the sign-in page: with the reason when a session
    has ended (expired, or its key revoked) and this page to come back to."""
    token = request.cookies.get(COOKIE)
    reason = ""
    if token:
        svc = services(request)
        try:
            return authenticate(svc.ledger, svc.tokens, token)
        except UnauthorizedError as e:
            reason = "revoked" if e.code == "unauthorized.key_revoked" else "expired"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return to_sign_in(reason, here)
