"""``POST /v1/entries`` answered without FastAPI's routing (issue 12).

Single submissions are the API's hottest path: many clients, one small envelope
each, so the cost of the request around the append counts. Routing through
FastAPI (matching the path against every API and console route, solving the
endpoint's dependencies, the exception middleware) cost about as much CPU as
the rest of the request. :class:`IngestFront` is a pure ASGI layer placed just
inside the body limit (:class:`api.app.BodyLimit` still refuses an oversized body
first, and while it streams) that calls the route's own function,
:func:`api.routes.entries.submit_one`, for exactly ``POST /v1/entries``; every
other request goes on, untouched, to the app behind it.

Its answers are the route's: the same function (rate limit, media type, strict
parsing, the group committer, 201/200 with ``Location``), and an exception it
raises is answered by the app's own exception handlers, looked up as Starlette
does (by the exception's class, nearest first). What no handler below the
catch-all knows goes up to it (the 500 ``internal`` answer), as for any route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.routes.entries import submit_one

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

PATH = "/v1/entries"


class IngestFront:
    """Serve ``POST /v1/entries`` with :func:`submit_one`; pass the rest to ``app``.

    ``handlers`` is the app's ``exception_handlers`` (exception class to handler)."""

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Handler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await submit_one(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise  # the catch-all (ServerErrorMiddleware) answers 500, as for any route
            answer = handler(request, exc)
            response = await answer if isinstance(answer, Awaitable) else answer
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Handler | None:
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None
