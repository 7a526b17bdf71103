"""Signing in to the console with the party's own key, in the browser.

The browser reads the party's key file (the PKCS#8 PEM ``custody keys generate``
writes), imports the Ed25519 private key into WebCrypto and keeps it, not
extractable, in the browser's own storage; it is never sent anywhere. Then:

1. ``POST /session/challenge {"kid"}``: the console names the party the key is
   registered to (or says plainly that the key is unknown or revoked) and opens
   a login challenge of the API (:meth:`api.tokens.TokenStore.new_challenge`);
2. the browser signs the login message of :mod:`ledger.login` with WebCrypto;
3. ``POST /session`` with the ``/v1/auth/token`` body: the console runs the
   API's own :func:`api.auth.issue_token` and keeps the bearer token in an
   ``HttpOnly``, ``SameSite=Strict`` cookie (:mod:`api.console.web`), so no
   script of the page ever sees it.

``POST /session/sign-out`` revokes the token. Both login steps are rate-limited
like ``/v1/auth``; they take JSON only, from this origin.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ConfigDict, Field

from api.auth import format_ms
from api.bodies import StrictJsonRoute
from api.console.web import (
    COOKIE,
    check_csrf,
    check_origin,
    clear_session,
    services,
    set_session,
)
from api.deps import rate_limit
from api.errors import UnauthorizedError
from api.routes.auth import login
from api.schemas import TokenRequest
from api.schemas.common import KID_PATTERN, ApiModel

router = APIRouter(route_class=StrictJsonRoute, include_in_schema=False)


class KeyChallengeRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")
    kid: str = Field(pattern=KID_PATTERN)


def _challenge(request: Request, kid: str) -> dict[str, str]:
    svc = services(request)
    with svc.ledger.store.read() as r:
        key = r.key(kid)
    if key is None:
        raise UnauthorizedError(
            "This key is not registered with this ledger. Send your public key "
            "(the .pub file) to the ledger operator to be registered, or choose "
            "your party's current key file.",
            code="unauthorized.unknown_key",
        )
    if key.revoked_seq is not None:
        raise UnauthorizedError(
            f"This key of {key.party} was revoked (ledger entry {key.revoked_seq}); "
            "it can no longer sign in. Use the party's current key.",
            code="unauthorized.key_revoked",
            details={"party": key.party},
        )
    nonce, expires = svc.tokens.new_challenge(key.party, kid, svc.settings.limits.challenge_ttl)
    return {
        "party": key.party,
        "kid": kid,
        "nonce": nonce,
        "origin": svc.ledger.origin,
        "expires_at": format_ms(expires),
    }


@router.post("/session/challenge")
async def challenge(request: Request, body: KeyChallengeRequest) -> JSONResponse:
    check_origin(request)
    svc = services(request)
    rate_limit(svc.auth_limiter, request, 1, "sign-in requests")
    return JSONResponse(await run_in_threadpool(_challenge, request, body.kid))


@router.post("/session")
async def sign_in(request: Request, body: TokenRequest) -> JSONResponse:
    check_origin(request)
    issued = await login(request, body, "sign-in requests")
    lim = services(request).settings.limits
    response = JSONResponse(
        {"party": issued.party, "expires_at": format_ms(issued.expires_at), "next": "/home"}
    )
    set_session(response, request, issued.token, lim.token_ttl)
    return response


@router.post("/session/sign-out")
def sign_out(request: Request) -> Response:
    check_csrf(request)
    token = request.cookies.get(COOKIE)
    if token:
        services(request).tokens.revoke(token)
    response = JSONResponse({"next": "/?m=signed-out"})
    clear_session(response)
    return response
