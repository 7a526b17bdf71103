"""The tlog-tiles read API served by a real ``custody serve``: a client written from the
spec proves every entry from ``/checkpoint`` and ``/tile/...``; content types, caching
and refusals as C2SP tlog-tiles says."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.support import Server
from tests.ledger.test_tiles import _origins
from tests.support import World
from tests.tiles_client import verify_log


def test_custody_serve_serves_tiles_a_spec_client_verifies(tmp_path: Path) -> None:
    world = World(tmp_path / "home")
    _origins(world, 300)
    vkey = world.ledger.verifier_key()
    world.close()
    with Server(tmp_path / "home") as srv, httpx.Client(base_url=srv.url, timeout=10) as http:

        def fetch(path: str) -> bytes:
            resp = http.get("/" + path)
            assert resp.status_code == 200, (path, resp.text)
            return resp.content

        cp, entries = verify_log(fetch, vkey)
        assert cp.size == len(entries) == 300

        resp = http.get("/checkpoint")
        assert resp.headers["content-type"] == "text/plain; charset=utf-8"
        assert "immutable" not in resp.headers["cache-control"]
        assert resp.text == http.get("/v1/checkpoint").text

        for path in ("/tile/0/000", "/tile/0/001.p/44", "/tile/1/000.p/1", "/tile/entries/000"):
            resp = http.get(path)
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/octet-stream"
            assert "immutable" in resp.headers["cache-control"]
        assert len(http.get("/tile/0/000").content) == 8192
        assert len(http.get("/tile/0/001.p/10").content) == 320  # a narrower partial tile

        for path in ("/tile/0/001", "/tile/0/001.p/45", "/tile/2/000.p/1", "/tile/entries/002"):
            resp = http.get(path)
            assert resp.status_code == 404, path
            assert resp.json()["error"]["code"] == "not_found.tile"
        for path in ("/tile/0/1", "/tile/0/000.p/256", "/tile/x/000", "/tile/0/x000/001"):
            resp = http.get(path)
            assert resp.status_code == 404, path
            assert resp.json()["error"]["code"] == "not_found.tile_path"


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_tiles_in_process_cache_serves_the_same_bytes(tmp_path: Path) -> None:
    """The app keeps served tiles in memory: a second GET answers the same bytes without a
    read, a 404 is never cached, and a partial tile stays what it was as the log grows."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    world = World(tmp_path / "home")
    _origins(world, 260)
    app = create_app(Settings(home=tmp_path / "home"))
    with TestClient(app) as http:
        first = http.get("/tile/0/001.p/4")
        assert first.status_code == 200
        assert "tile/0/001.p/4" in app.state.tile_cache.tiles
        assert http.get("/tile/0/001.p/4").content == first.content
        assert http.get("/tile/0/001").status_code == 404
        assert "tile/0/001" not in app.state.tile_cache.tiles
        _origins(world, 600)
        full = http.get("/tile/0/001")
        assert full.status_code == 200
        assert full.content[: 4 * 32] == first.content
    world.close()
