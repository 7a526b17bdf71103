"""Request bodies through the one strict JSON reader (:mod:`ledger.strictjson`).

Every JSON body the API reads goes through ``ledger.strictjson``: invalid UTF-8,
duplicate keys, ``NaN`` and nesting deeper than its limit are a 400 with a stable
code, never a ``RecursionError`` or a 500.

* :class:`StrictJsonRoute` is the ``route_class`` of every router with a JSON
  body that FastAPI parses (a pydantic model): its requests' ``json()`` is strict,
  and a refusal is ``invalid_input.json`` 400 with the reason in ``details``.
* :func:`decode_json` serves the routes that read their body themselves (a batch of
  envelopes; a single envelope is ``ledger.envelope.parse_envelope``, strict too):
  refusals are ``invalid_envelope.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.errors import HTTPStatusError
from ledger import strictjson
from ledger.errors import EnvelopeError


class StrictJsonRequest(Request):
    """A request whose ``json()`` is :func:`ledger.strictjson.loads`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = strictjson.loads(body)
            except strictjson.JsonError as e:
                raise HTTPStatusError(
                    400,
                    "invalid_input.json",
                    f"the request body is not valid JSON: {e}",
                    {"reason": e.reason},
                ) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is parsed by :class:`StrictJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler


def decode_json(raw: bytes | str, message: str = "not valid JSON") -> Any:
    """Strict JSON of a submitted body or line; refusals are ``invalid_envelope.json``."""
    try:
        return strictjson.loads(raw)
    except strictjson.JsonError as e:
        raise EnvelopeError(
            f"{message}: {e}", code="invalid_envelope.json", details={"reason": e.reason}
        ) from None
