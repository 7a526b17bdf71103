"""C2SP tlog-tiles: the ledger's Merkle tree and leaves as static tiles.

https://c2sp.org/tlog-tiles. Tile height 8, width 256, SHA-256 (RFC 6962 hashes):

* ``tile/<L>/<N>[.p/<W>]``: the ``n``-th tile at level ``l`` is the sequence of the
  Merkle Tree Hashes ``MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l])`` for
  ``i`` in ``0 .. W-1``, 32 bytes each. In this ledger's tree those are exactly the
  stored perfect subtrees at tree level ``8*l``, indices ``n*256 .. n*256 + W - 1``
  (level 0: the leaf hashes), so a tile is one range scan of the node table.
* ``tile/entries/<N>[.p/<W>]``: the entry bundle, each leaf (the bytes hashed into
  the tree, SPEC §5) prefixed by its length as a big-endian uint16.
* ``<N>`` is written in zero-padded 3-digit path elements, all but the last
  prefixed with ``x`` (1234067 is ``x001/x234/067``); ``<W>`` (1 to 255) is present
  only for a partial tile. The partial tile at level ``l`` of a tree of size ``s``
  has ``floor(s / 256**l) mod 256`` hashes; empty tiles do not exist.

A tile's bytes depend only on its coordinates and width, never on a later tree
size, so full tiles (and partial tiles of a given width) are immutable. A leaf
longer than 65,535 bytes cannot be written in an entry bundle; the bundle that
would hold it is refused (``not_found.entry_too_large``, see docs/operations.md).

Pure path and width arithmetic here; :func:`read_tile` and :func:`read_entries`
read inside the caller's read transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ledger.errors import InputError, NotFoundError
from ledger.store import ReadTx

__all__ = [
    "HASH_SIZE",
    "MAX_ENTRY",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Tile",
    "decode_entries",
    "encode_entries",
    "encode_index",
    "parse_tile_path",
    "read",
    "read_entries",
    "read_tile",
    "split_hashes",
    "tile_width",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
HASH_SIZE = 32
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # an entry bundle's uint16 length prefix

ENTRIES = "entries"  # the level word of an entry bundle path


@dataclass(frozen=True, order=True)
class Tile:
    """Tile coordinates: ``level`` (``None`` for an entry bundle), ``index``, ``width``
    (256 for a full tile, 1 to 255 for a partial one)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise InputError(f"tile level {self.level} is outside 0..{MAX_LEVEL}")
        if self.index < 0:
            raise InputError(f"tile index {self.index} is negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise InputError(f"tile width {self.width} is outside 1..{TILE_WIDTH}")

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
        level = ENTRIES if self.level is None else str(self.level)
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    def as_full(self) -> Tile:
        return Tile(self.level, self.index)


def encode_index(n: int) -> str:
    """``<N>`` as zero-padded 3-digit path elements, all but the last prefixed with ``x``."""
    if n < 0:
        raise ValueError(f"tile index {n} is negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


_PATH = re.compile(
    r"tile/(?P<level>0|[1-9][0-9]?|entries)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> Tile:
    """The tile named by ``tile/...`` (strict: the exact spelling the spec allows)."""
    m = _PATH.fullmatch(path)
    if m is None:
        raise NotFoundError(f"{path!r} is not a tlog tile path", code="not_found.tile_path")
    level_word, index_word, width_word = m.group("level", "index", "width")
    level = None if level_word == ENTRIES else int(level_word)
    index = int(index_word.replace("x", "").replace("/", ""))
    width = TILE_WIDTH if width_word is None else int(width_word)
    if (level is not None and level > MAX_LEVEL) or (width_word and width >= TILE_WIDTH):
        raise NotFoundError(f"{path!r} is not a tlog tile path", code="not_found.tile_path")
    if encode_index(index) != index_word:  # e.g. x000/001: leading zero groups
        raise NotFoundError(f"{path!r} is not a tlog tile path", code="not_found.tile_path")
    return Tile(level, index, width)


def tile_width(size: int, level: int, index: int) -> int:
    """How many hashes tile ``level``/``index`` holds in a tree of ``size`` (0: none)."""
    count = size >> (TILE_HEIGHT * level)  # complete subtrees of 256**level leaves
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every hash tile and entry bundle a tree of ``size`` leaves has: the full ones and
    the rightmost partial ones, level by level, entry bundles with level 0."""
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)
        if count == 0:
            return
        full, rest = divmod(count, TILE_WIDTH)
        kinds: tuple[int | None, ...] = (0, None) if level == 0 else (level,)
        for kind in kinds:
            for n in range(full):
                yield Tile(kind, n)
            if rest:
                yield Tile(kind, full, rest)
        level += 1


def _check_available(tile: Tile, size: int) -> None:
    have = tile_width(size, tile.level or 0, tile.index)
    if have < tile.width:
        raise NotFoundError(
            f"{tile.path} does not exist in the tree of size {size}",
            code="not_found.tile",
            details={"tile": tile.path, "size": size},
        )


def read_tile(r: ReadTx, tile: Tile, size: int | None = None) -> bytes:
    """The bytes of hash tile ``tile`` (``size``: a tree it must exist in; by default, the
    stored tree: one range scan, nothing else read)."""
    if tile.level is None:
        raise ValueError("an entry bundle is read with read_entries")
    if size is not None:  # else: a stored node exists only once its subtree is complete
        _check_available(tile, size)
    start = tile.index * TILE_WIDTH
    hashes = r.node_range(tile.level * TILE_HEIGHT, start, start + tile.width)
    if len(hashes) != tile.width:
        raise NotFoundError(
            f"{tile.path} does not exist in this tree (yet)",
            code="not_found.tile",
            details={"tile": tile.path, "found": len(hashes)},
        )
    return b"".join(hashes)


def encode_entries(leaves: Iterable[bytes], first: int = 0) -> bytes:
    """An entry bundle: each leaf prefixed by its length as a big-endian uint16."""
    out = bytearray()
    for seq, leaf in enumerate(leaves, first):
        if len(leaf) > MAX_ENTRY:
            raise NotFoundError(
                f"entry {seq} is {len(leaf)} bytes, more than an entry bundle can hold "
                f"({MAX_ENTRY})",
                code="not_found.entry_too_large",
                details={"seq": seq, "length": len(leaf)},
            )
        out += len(leaf).to_bytes(2, "big")
        out += leaf
    return bytes(out)


def decode_entries(data: bytes) -> list[bytes]:
    """The leaves of an entry bundle (strict: no trailing bytes)."""
    leaves: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise InputError("entry bundle ends inside a length prefix")
        n = int.from_bytes(data[at : at + 2], "big")
        at += 2
        if at + n > len(data):
            raise InputError("entry bundle ends inside an entry")
        leaves.append(data[at : at + n])
        at += n
    return leaves


def read_entries(r: ReadTx, tile: Tile, size: int | None = None) -> bytes:
    """The bytes of entry bundle ``tile`` (``size`` as in :func:`read_tile`)."""
    if tile.level is not None:
        raise ValueError("a hash tile is read with read_tile")
    if size is not None:  # else: the entries are there or not (no entry is ever removed)
        _check_available(tile, size)
    start = tile.index * TILE_WIDTH
    rows = r.leaves(start, start + tile.width)
    if [seq for seq, _ in rows] != list(range(start, start + tile.width)):
        raise NotFoundError(
            f"{tile.path} does not exist in this tree (yet)",
            code="not_found.tile",
            details={"tile": tile.path},
        )
    return encode_entries((leaf for _, leaf in rows), start)


def read(r: ReadTx, tile: Tile, size: int | None = None) -> bytes:
    """The bytes served at ``tile.path``: a hash tile or an entry bundle."""
    return read_entries(r, tile, size) if tile.level is None else read_tile(r, tile, size)


def split_hashes(data: bytes) -> Sequence[bytes]:
    """A hash tile's bytes as its 32-byte hashes."""
    if len(data) % HASH_SIZE:
        raise InputError(f"a tile of {len(data)} bytes is not a whole number of hashes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
