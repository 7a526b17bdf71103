"""The tlog-tiles reads answered ahead of the FastAPI stack (issue 16).

``GET /checkpoint`` and ``GET /tile/...`` are the log's public, static-like
resources: every transparency-log client and mirror polls them, and a tile's
bytes cost less to read than a request costs to route through FastAPI (route
matching over every API and console route, dependency solving, the request
object, the console's middleware). :class:`TileFront` is a pure ASGI layer,
outermost in the app, that answers exactly those requests itself and hands
everything else, untouched, to the app behind it.

The answers are byte for byte those of :mod:`api.routes.tiles` (which still
documents the routes in the OpenAPI schema and serves them when the app is
used without this layer): the same content types, the checkpoint's short cache,
a year-long ``immutable`` cache for tiles, the same 404 JSON errors
(``not_found.tile``, ``not_found.tile_path``, never cached), and the same
security headers the console adds to every page outside ``/v1``. Tiles come
from the same in-memory cache (:class:`api.routes.tiles.TileCache`); a tile not
cached is read on the event loop from SQLite (a millisecond of CPU, cheaper than
handing it to a thread and back) and on a worker thread from PostgreSQL. Only GET
is served here; other methods, ``/tile`` without a slash and ``/checkpoint/``
take the app's path (405, redirects) as before. A read that fails other than
with a custody error is answered by the app itself, so database errors keep
their usual mapping (503 ``unavailable`` and the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from api.console.web import CSP
from api.errors import error_response
from api.routes.tiles import CHECKPOINT_CACHE, IMMUTABLE, OCTETS, TileCache, read_tile
from api.services import Services
from ledger import tiles
from ledger.errors import CustodyError

Headers = list[tuple[bytes, bytes]]
T = TypeVar("T")

SECURITY: Headers = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
"""The console's security headers (:class:`api.console.web.SecurityHeaders`), which
every response outside ``/v1`` carries."""

_TILE: Headers = [(b"cache-control", IMMUTABLE.encode()), (b"content-type", OCTETS.encode())]
_CHECKPOINT: Headers = [
    (b"cache-control", CHECKPOINT_CACHE.encode()),
    (b"content-type", b"text/plain; charset=utf-8"),
]
_ERROR = {"Cache-Control": "no-store", **{k.decode(): v.decode() for k, v in SECURITY}}


class TileFront:
    """Answer ``GET /checkpoint`` and ``GET /tile/...`` directly; pass the rest to ``app``."""

    def __init__(self, app: ASGIApp, services: Services, cache: TileCache) -> None:
        self.app = app
        self.services = services
        self.cache = cache
        # A SQLite read is a millisecond of CPU in this process, without waiting on a
        # socket: done on the event loop it saves two thread hand-overs, which cost
        # as much again (more on a busy machine). A server's reads wait on the network.
        self.inline = services.ledger.store.engine.dialect.name == "sqlite"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith("/tile/"):
                await self._tile(path[1:], scope, receive, send)
                return
            if path == "/checkpoint":
                await self._checkpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _tile(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        data = self.cache.get(path)  # a served tile's path is its canonical path
        if data is None:
            try:
                wanted = tiles.parse_tile_path(path)
                data = self.cache.get(wanted.path)
                if data is None:
                    data = await self._run(partial(read_tile, self.services.ledger.store, wanted))
                    self.cache.put(wanted.path, data)
            except CustodyError as e:
                await _error(e, scope, receive, send)
                return
            except Exception:  # noqa: BLE001 (the app maps it, as for any route)
                await self.app(scope, receive, send)
                return
        await _answer(data, _TILE, send)

    async def _run(self, fn: Callable[[], T]) -> T:
        """``fn()``: inline for SQLite, on a worker thread otherwise."""
        if self.inline:
            return fn()
        return await to_thread.run_sync(fn)

    async def _checkpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            note = await self._run(self.services.ledger.checkpoint)
        except CustodyError as e:
            await _error(e, scope, receive, send)
            return
        except Exception:  # noqa: BLE001 (the app maps it, as for any route)
            await self.app(scope, receive, send)
            return
        await _answer(note.encode("utf-8"), _CHECKPOINT, send)


async def _answer(body: bytes, headers: Headers, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", b"%d" % len(body)), *SECURITY],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _error(error: CustodyError, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(error)
    response.headers.update(_ERROR)
    await response(scope, receive, send)
