"""Typed results: the console's own scripts get an expected refusal as a 200 with a body.

A browser logs every 4xx answer to ``fetch`` as a console error ("Failed to load
resource"), even when the page expected it and shows it next to the field: an unknown
key at sign-in, an over-dispatch, a tampered bundle. The console's scripts therefore
ask for *typed results* (request header ``X-Custody-Result: typed``) from the console's
own endpoints; a JSON error answer is then sent as ``200`` with the body
``{"ok": false, "status": 409, "error": {"code", "message", "field", "details"}}``
(``field``: the form field the refusal concerns, or null). The error itself is the one
the route raised, through the API's exception handlers: nothing else changes. Without
the header (any other client) and under ``/v1`` the status codes are the API's.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TYPED_HEADER: Final = b"x-custody-result"
_API_PREFIXES: Final = ("/v1/", "/docs", "/redoc", "/openapi.json", "/static/")


def field_of(error: dict[str, Any]) -> str | None:
    """The form field an error concerns (``details.form_field``, else ``details.field``)."""
    details = error.get("details")
    if not isinstance(details, dict):
        return None
    for key in ("form_field", "field"):
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def typed_body(status: int, body: bytes) -> bytes:
    """The typed result of a JSON error answer (``body``, sent with ``status``)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        error = {"code": f"http.{status}", "message": f"The server answered {status}."}
    out = {
        "ok": False,
        "status": status,
        "error": {
            "code": str(error.get("code", f"http.{status}")),
            "message": str(error.get("message", "")),
            "field": field_of(error),
            "details": error.get("details") if isinstance(error.get("details"), dict) else {},
        },
    }
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


class TypedResults:
    """Turn a console endpoint's 4xx JSON answer into a 200 typed result when asked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _wants_typed(scope):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        status = 0

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if not 400 <= status < 500 or not _is_json(message):
                    status = 0  # not an expected refusal: pass it through untouched
                    await send(message)
                    return
                held.append(message)
                return
            if status == 0 or message["type"] != "http.response.body":
                await send(message)
                return
            held.append(message)
            if message.get("more_body", False):
                return
            body = b"".join(m.get("body", b"") for m in held[1:])
            out = typed_body(status, body)
            start = held[0]
            headers = [
                (k, v)
                for k, v in start.get("headers", [])
                if k.lower() not in (b"content-length", b"content-type")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(out)).encode()),
                (b"x-custody-status", str(status).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": out})

        await self.app(scope, receive, capture)


def _wants_typed(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    if path.startswith(_API_PREFIXES):
        return False
    return any(k.lower() == TYPED_HEADER and v == b"typed" for k, v in scope.get("headers", []))


def _is_json(start: Message) -> bool:
    for k, v in start.get("headers", []):
        if k.lower() == b"content-type":
            return bytes(v).split(b";")[0].strip().lower() == b"application/json"
    return False
