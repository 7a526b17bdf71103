"""The C2SP tlog-tiles read API at the root of the server (https://c2sp.org/tlog-tiles).

* ``GET /checkpoint``: the latest signed checkpoint, ``text/plain; charset=utf-8``,
  not cached beyond a few seconds;
* ``GET /tile/<L>/<N>[.p/<W>]``: hash tiles, ``application/octet-stream``;
* ``GET /tile/entries/<N>[.p/<W>]``: entry bundles, ``application/octet-stream``.

Tiles are immutable (their bytes depend on their path only), so they are served
with a year-long ``immutable`` cache and the most recently served ones are kept in
memory (:class:`TileCache`, 64 MiB); a tile the tree does not hold yet is a 404.
Public, like checkpoints and proofs. Paths and bytes: :mod:`ledger.tiles`.

``custody serve`` answers these GETs from :class:`api.tilefront.TileFront`, ahead of
the FastAPI stack, with the same bytes and headers; the routes here document them
in the OpenAPI schema and answer them when the app runs without that layer.
"""

from __future__ import annotations

from collections import OrderedDict

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import PUBLIC_ERRORS, services
from ledger import tiles
from ledger.store import Store

router = APIRouter(tags=["tiles"])

IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=2"
OCTETS = "application/octet-stream"


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (tlog-tiles)",
    description="The C2SP tlog-checkpoint as a signed note, exactly as signed. Public.",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **PUBLIC_ERRORS},
)
def checkpoint(request: Request) -> Response:
    note = services(request).ledger.checkpoint()
    return Response(
        note.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


class TileCache:
    """The most recently served tiles, up to ``max_bytes`` (every tile is immutable: its
    bytes depend on its path only). Used from the event loop thread only."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.tiles: OrderedDict[str, bytes] = OrderedDict()

    def get(self, path: str) -> bytes | None:
        data = self.tiles.get(path)
        if data is not None:
            self.tiles.move_to_end(path)
        return data

    def put(self, path: str, data: bytes) -> None:
        if path in self.tiles or len(data) > self.max_bytes:
            return
        self.tiles[path] = data
        self.size += len(data)
        while self.size > self.max_bytes:
            _, old = self.tiles.popitem(last=False)
            self.size -= len(old)


def cache_of(request: Request) -> TileCache:
    """The app's tile cache (``app.state.tile_cache``, shared with :mod:`api.tilefront`)."""
    cache: TileCache | None = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        cache = request.app.state.tile_cache = TileCache()
    return cache


@router.get(
    "/tile/{path:path}",
    summary="A tlog tile or entry bundle",
    description=(
        "`/tile/<L>/<N>[.p/<W>]`: 32-byte RFC 6962 hashes of the tree at level 8·L; "
        "`/tile/entries/<N>[.p/<W>]`: the leaves, each prefixed by its big-endian uint16 "
        "length. `<N>` in 3-digit groups (`x001/x234/067`). Public, immutable."
    ),
    responses={
        200: {"content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}}},
        **PUBLIC_ERRORS,
    },
)
async def tile(request: Request, path: str) -> Response:
    wanted = tiles.parse_tile_path("tile/" + path)
    cache = cache_of(request)
    data = cache.get(wanted.path)
    if data is None:  # read on a worker thread; a recently served tile costs no read
        data = await to_thread.run_sync(read_tile, services(request).ledger.store, wanted)
        cache.put(wanted.path, data)
    return Response(data, media_type=OCTETS, headers={"Cache-Control": IMMUTABLE})


def read_tile(store: Store, wanted: tiles.Tile) -> bytes:
    """The bytes of ``wanted`` from ``store`` (blocking: call it on a worker thread)."""
    with store.read() as r:
        return tiles.read(r, wanted)
