"""Shared fixtures. PostgreSQL tests use the real server at 127.0.0.1:5432
(``CUSTODY_TEST_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``):
each test session creates a fresh database and drops it at the end. Without a
reachable server they are skipped with a notice, except with ``CI=true``,
where a missing PostgreSQL is a failure."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import durations
from tests.support import World

PG_ADMIN = os.environ.get("CUSTODY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _shared_dir() -> Path:
    """The project's shared folder (SPEC, test vectors): ``CUSTODY_SHARED``, else
    ``../shared`` beside the checkout, else ``/work/shared``."""
    candidates = [
        os.environ.get("CUSTODY_SHARED", ""),
        str(Path(__file__).resolve().parents[2] / "shared"),
        "/work/shared",
    ]
    for c in candidates:
        if c and (Path(c) / "vectors").is_dir():
            return Path(c)
    return Path(candidates[1])


SHARED = _shared_dir()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "home")
    yield w
    w.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; yields its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.exec_driver_sql("SELECT 1")
    except Exception as e:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN}: {e}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}; skipping PostgreSQL tests")
    name = f"custody_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The session database, emptied of custody tables before each test."""
    from ledger.store import drop_all

    drop_all(pg_server)
    yield pg_server
    drop_all(pg_server)


@pytest.fixture
def pg_world(tmp_path: Path, pg_url: str) -> Iterator[World]:
    w = World(tmp_path / "home", db_url=pg_url)
    yield w
    w.close()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# ---------------------------------------------------------------- scheduling (tests/durations.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        metavar="FILE",
        default=None,
        help="Write the tests that took 2 s or more, with their seconds, into FILE "
        "(tests/durations.json orders the suite longest first).",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if getattr(config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        _name_groups(items)
    durations.longest_first(items, durations.load())


def _name_groups(items: list[pytest.Item]) -> None:
    """Give each ``xdist_group`` test the ``@group`` suffix by which ``--dist
    loadgroup`` sends a group to one worker. pytest-xdist 3.8 writes it to
    ``item._nodeid``, which pytest 9 no longer reads (the id is ``item._id``), so
    the groups were dealt out test by test; set it where pytest reads it."""
    from _pytest.nodeid import NodeId

    for item in items:
        group = durations.group_of(item)
        if group is None or item.nodeid.endswith(f"@{group}") or not hasattr(item, "_id"):
            continue
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


_recorders: list[durations.Recorder] = []


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--record-durations")
    if path and not hasattr(config, "workerinput"):  # the controller records; workers report
        _recorders.append(durations.Recorder(Path(path)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for recorder in _recorders:
        recorder.add(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for recorder in _recorders:
        recorder.write()
