"""The C2SP tlog-tiles read API at the root of the server (https://c2sp.org/tlog-tiles).

* ``GET /checkpoint``: the latest signed checkpoint, ``text/plain; charset=utf-8``,
  not cached beyond a few seconds;
* ``GET /tile/<L>/<N>[.p/<W>]``: hash tiles, ``application/octet-stream``;
* ``GET /tile/entries/<N>[.p/<W>]``: entry bundles, ``application/octet-stream``.

Tiles are immutable (their bytes depend on their path only), so they are served
with a year-long ``immutable`` cache; a tile the tree does not hold yet is a 404.
Public, like checkpoints and proofs. Paths and bytes: :mod:`ledger.tiles`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import PUBLIC_ERRORS, services
from ledger import tiles

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
def tile(request: Request, path: str) -> Response:
    wanted = tiles.parse_tile_path("tile/" + path)
    store = services(request).ledger.store
    with store.read() as r:
        data = tiles.read(r, wanted)
    return Response(data, media_type=OCTETS, headers={"Cache-Control": IMMUTABLE})
