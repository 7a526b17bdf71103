"""C2SP tlog-tiles: paths and widths against the spec's own examples; every entry of
ledgers around tile boundaries proven from the tiles and the checkpoint alone by a
client written from the spec (``tests/tiles_client.py``), on SQLite and PostgreSQL;
the static export (incremental) served by ``python -m http.server``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from ledger import merkle, tiles
from ledger.checkpoint import Checkpoint, sign_note
from ledger.custody import Changes
from ledger.envelope import sign_envelope
from ledger.errors import NotFoundError
from ledger.log import Ledger
from ledger.statements import build_statement
from ledger.store import Head, node_id
from ledger.tiles_export import export_tiles
from tests.api.support import free_port
from tests.support import T0, World
from tests.tiles_client import ClientError, tile_index_path, verify_log


@pytest.mark.parametrize(
    ("n", "path"),
    [(0, "000"), (1, "001"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
    ids=["zero", "one", "999", "1000", "spec-example"],
)
def test_index_encoding_matches_the_spec(n: int, path: str) -> None:
    assert tiles.encode_index(n) == path == tile_index_path(n)
    assert tiles.parse_tile_path(f"tile/0/{path}") == tiles.Tile(0, n)


def test_tree_of_70000_has_the_tiles_the_spec_lists() -> None:
    """tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles,
    one partial level 0 tile of width 112, one full level 1 tile, one partial level 1
    tile of width 17, and one partial level 2 tile of width 1"."""
    found = list(tiles.tiles_for_size(70_000))
    level0 = [t for t in found if t.level == 0]
    assert sum(t.full for t in level0) == 273
    assert [t.width for t in level0 if not t.full] == [112]
    assert [t.width for t in found if t.level == 1] == [256, 17]
    assert [t.width for t in found if t.level == 2] == [1]
    assert [t.path for t in found if t.level is None][-1] == "tile/entries/273.p/112"
    # "a tree of size 256 will be represented by a full level 0 tile and a partial
    # level 1 tile of width 1"
    assert [t.path for t in tiles.tiles_for_size(256) if t.level is not None] == [
        "tile/0/000",
        "tile/1/000.p/1",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0001",
        "tile/00/000",
        "tile/0/x000/001",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/012",
        "tile/64/000",
        "tile/0/x1/000",
        "tile/data/000",
        "tile/0/000/",
    ],
)
def test_malformed_tile_paths_are_not_found(path: str) -> None:
    with pytest.raises(NotFoundError):
        tiles.parse_tile_path(path)


def test_entry_bundle_framing() -> None:
    bundle = tiles.encode_entries([b"a", b"", b"x" * 300])
    assert bundle == b"\x00\x01a\x00\x00\x01\x2c" + b"x" * 300
    assert tiles.decode_entries(bundle) == [b"a", b"", b"x" * 300]
    with pytest.raises(NotFoundError) as e:
        tiles.encode_entries([b"x" * 65_536], first=7)
    assert e.value.code == "not_found.entry_too_large"
    assert e.value.details["seq"] == 7


def _origins(world: World, total: int) -> None:
    """Real signed origin statements until the ledger holds ``total`` entries."""
    farm = world.parties.get("farm") or world.party("farm")
    have = world.ledger.size()
    for start in range(have, total, 500):
        envs = []
        for i in range(start, min(total, start + 500)):
            payload = build_statement(
                "origin",
                f"o/{i}",
                "farm",
                T0 + timedelta(seconds=i),
                lot={"id": f"farm/{i}", "material": "cotton", "quantity": Decimal(1), "unit": "kg"},
                site={"name": "Field", "country": "US"},
            )
            envs.append(sign_envelope(payload, [farm.key]))
        assert all(r.error is None for r in world.ledger.submit(envs))
    assert world.ledger.size() == total


def _bulk_leaves(ledger: Ledger, total: int) -> None:
    """Grow the tree to ``total`` leaves through the store's bulk insert (opaque leaves
    of varied lengths; tiles do not read them), with a signed checkpoint."""
    key = ledger.operator_key
    assert key is not None
    with ledger.store.write() as w:
        head = w.head()
        frontier_map = w.nodes(merkle.frontier_coords(head.size))
        frontier = [frontier_map[c] for c in merkle.frontier_coords(head.size)]
        leaves = [b"leaf %d " % s + b"x" * (s % 97) for s in range(head.size, total)]
        hashes = [merkle.leaf_hash(b) for b in leaves]
        done, new_frontier = merkle.completed_nodes(head.size, hashes, frontier)
        nodes = [(node_id(0, s), h) for s, h in enumerate(hashes, head.size)]
        nodes += [(node_id(lv, ix), h) for lv, ix, h in done]
        rows = [
            (s, h, b, "sha256:" + hashlib.sha256(b).hexdigest(), "bulk", f"b/{s}", "origin", "t")
            for s, (h, b) in enumerate(zip(hashes, leaves, strict=True), head.size)
        ]
        body = Checkpoint(ledger.origin, total, merkle.root_from_frontier(new_frontier), ()).body()
        note = sign_note(body, ledger.origin, key.sign, key.public_key)
        w.append_rows(rows, nodes, [], [], Head(total, hashes[-1], "t"), Changes(), (total, note))


def _fetch_store(ledger: Ledger) -> Callable[[str], bytes]:
    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            return ledger.checkpoint().encode()
        with ledger.store.read() as r:
            return tiles.read(r, tiles.parse_tile_path(path))

    return fetch


@pytest.mark.parametrize("size", [255, 256, 257])
def test_every_entry_proven_from_tiles_sqlite(world: World, size: int) -> None:
    _origins(world, size)
    cp, entries = verify_log(_fetch_store(world.ledger), world.ledger.verifier_key())
    assert cp.size == size
    with world.ledger.store.read() as r:
        assert entries == [e.leaf for e in r.entries(0, size)]  # the leaf bytes, as hashed


def test_every_entry_proven_from_tiles_postgres(pg_world: World) -> None:
    _origins(pg_world, 257)
    cp, _ = verify_log(_fetch_store(pg_world.ledger), pg_world.ledger.verifier_key())
    assert cp.size == 257


@pytest.mark.parametrize("size", [65_536, 65_537])
def test_every_entry_proven_at_level_boundaries(world: World, size: int) -> None:
    _bulk_leaves(world.ledger, size)
    cp, entries = verify_log(_fetch_store(world.ledger), world.ledger.verifier_key())
    assert cp.size == size
    assert entries[-1].startswith(b"leaf %d " % (size - 1))


def test_tiles_are_immutable_and_partial_tiles_stay(world: World) -> None:
    _origins(world, 300)
    with world.ledger.store.read() as r:
        partial = tiles.read(r, tiles.Tile(0, 1, 44))
        full0 = tiles.read(r, tiles.Tile(0, 0))
        with pytest.raises(NotFoundError):
            tiles.read(r, tiles.Tile(0, 1))  # not full yet
        with pytest.raises(NotFoundError):
            tiles.read(r, tiles.Tile(0, 1, 45))  # wider than the tree
        with pytest.raises(NotFoundError):
            tiles.read(r, tiles.Tile(None, 2, 1))
    _origins(world, 600)
    with world.ledger.store.read() as r:
        assert tiles.read(r, tiles.Tile(0, 1, 44)) == partial
        assert tiles.read(r, tiles.Tile(0, 0)) == full0
        assert tiles.read(r, tiles.Tile(0, 1))[: 44 * 32] == partial
        # a tile at level 1 hashes full level-0 tiles: MTH of the 256 leaf hashes
        level1 = tiles.read(r, tiles.Tile(1, 0, 2))
        assert level1[:32] == merkle.root(tiles.split_hashes(full0))


def test_a_tampered_tile_is_caught_by_the_client(world: World) -> None:
    _origins(world, 257)
    fetch = _fetch_store(world.ledger)

    def bad(path: str) -> bytes:
        data = fetch(path)
        if path == "tile/0/000":
            data = data[:64] + bytes(32) + data[96:]
        return data

    with pytest.raises(ClientError):
        verify_log(bad, world.ledger.verifier_key())


class StaticServer:
    """``python -m http.server`` over a directory, on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("http.server did not come up")

    def fetch(self, path: str) -> bytes:
        resp = httpx.get(self.url + path, timeout=10)
        resp.raise_for_status()
        return resp.content

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def test_static_export_served_by_a_plain_static_server(world: World, tmp_path: Path) -> None:
    _origins(world, 257)
    out = tmp_path / "mirror"
    result = export_tiles(world.ledger.store, out)
    assert result.size == 257
    assert result.written == 6  # 0/000, 0/001.p/1, 1/000.p/1, two entry bundles, checkpoint
    assert result.kept == 0
    srv = StaticServer(out)
    try:
        cp, entries = verify_log(srv.fetch, world.ledger.verifier_key())
        assert cp.size == len(entries) == 257
        # grow, export again: full tiles already written are kept, the rest written
        _origins(world, 600)
        again = export_tiles(world.ledger.store, out)
        assert again.kept == 2  # tile/0/000 and tile/entries/000
        cp, entries = verify_log(srv.fetch, world.ledger.verifier_key())
        assert cp.size == len(entries) == 600
    finally:
        srv.close()
    with world.ledger.store.read() as r:
        for tile in tiles.tiles_for_size(600):
            assert (out / tile.path).read_bytes() == tiles.read(r, tile)
    assert not list(out.rglob(".tmp-*"))
