"""The tlog-tiles reads answered ahead of the FastAPI stack (``api.tilefront``) are the
answers of the FastAPI routes, byte for byte and header for header."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ledger.test_tiles import _origins
from tests.support import World

PATHS = (
    "/checkpoint",
    "/tile/0/000",
    "/tile/0/001.p/44",
    "/tile/1/000.p/1",
    "/tile/entries/000",
    "/tile/entries/001.p/44",
    "/tile/0/000?ignored=1",
    "/tile/0/001",  # not in the tree yet
    "/tile/0/001.p/45",
    "/tile/entries/002",
    "/tile/0/1",  # not a tile path
    "/tile/0/000.p/256",
    "/tile/x/000",
    "/tile/",
    "/tile",
    "/checkpoint/",
    "/tile/0/%30%30%30",
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """SQLite (tiles read on the event loop) or PostgreSQL (on a worker thread)."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_front_answers_exactly_as_the_routes(tmp_path: Path, db_url: str | None) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from api.tilefront import TileFront

    world = World(tmp_path / "home", db_url=db_url)
    _origins(world, 300)
    world.close()
    fast = create_app(Settings(home=tmp_path / "home", db_url=db_url))
    plain = create_app(Settings(home=tmp_path / "home", db_url=db_url))
    assert fast.user_middleware[0].kwargs["services"] is fast.state.services
    dialect = fast.state.services.ledger.store.engine.dialect.name
    assert dialect == ("postgresql" if db_url else "sqlite")
    assert any(m.cls is TileFront for m in fast.user_middleware)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not TileFront]
    with TestClient(fast) as a, TestClient(plain) as b:
        for path in PATHS:
            for _ in range(2):  # the second time from the tile cache
                got, want = a.get(path), b.get(path)
                assert got.status_code == want.status_code, path
                assert got.content == want.content, path
                assert sorted(got.headers.items()) == sorted(want.headers.items()), path
        for method in ("HEAD", "POST", "PUT"):
            got, want = a.request(method, "/tile/0/000"), b.request(method, "/tile/0/000")
            assert (got.status_code, got.content) == (want.status_code, want.content)
        assert "tile/0/000" in fast.state.tile_cache.tiles
        assert "tile/0/001" not in fast.state.tile_cache.tiles  # a 404 is never cached


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_front_hands_a_failed_read_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that fails other than with a custody error (the database went away) gets
    the app's usual answer, 503 ``unavailable``, not a half-written response."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from api import tilefront
    from api.app import create_app
    from api.routes import tiles as tile_routes
    from api.settings import Settings

    world = World(tmp_path / "home")
    _origins(world, 10)
    world.close()
    app = create_app(Settings(home=tmp_path / "home"))

    def gone(*_: object) -> bytes:
        raise OperationalError("SELECT", {}, Exception("unable to open database file"))

    with TestClient(app, raise_server_exceptions=False) as http:
        assert http.get("/tile/0/000.p/5").status_code == 200
        monkeypatch.setattr(tilefront, "read_tile", gone)
        monkeypatch.setattr(tile_routes, "read_tile", gone)
        assert http.get("/tile/0/000.p/5").status_code == 200  # from the cache
        resp = http.get("/tile/0/000.p/4")
        assert resp.status_code == 503
        assert resp.json()["error"]["code"] == "unavailable"
        assert resp.headers["cache-control"] == "no-store"
