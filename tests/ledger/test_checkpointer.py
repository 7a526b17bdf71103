"""WAL checkpoints on the checkpointer's thread (:mod:`ledger.store.checkpointer`):
the pages reach the database file without the appending connection
checkpointing, nothing is lost, and closing stops the thread."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ledger.audit import audit
from ledger.store.checkpointer import Checkpointer
from tests.support import World, q, site


def _wait(cond: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies pages back
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    return conn


def test_pages_reach_the_database_file_on_the_checkpointer_thread(tmp_path: Path):
    path = tmp_path / "x.db"
    conn = _writer(path)
    size0 = path.stat().st_size
    conn.executemany("INSERT INTO t (body) VALUES (?)", [(bytes(4000),) for _ in range(200)])
    wal = Path(str(path) + "-wal").stat().st_size
    assert wal > 800_000
    assert path.stat().st_size == size0
    cp = Checkpointer(str(path), wal_bytes=wal // 2)
    try:
        cp.poke()
        assert _wait(lambda: cp.checkpoints == 1)
        assert path.stat().st_size > size0 + 800_000
        conn.execute("INSERT INTO t (body) VALUES (x'00')")  # the writer goes on
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (201,)
    finally:
        cp.close()
        conn.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT count(*) FROM t").fetchone() == (201,)
    check.close()


def test_a_small_wal_wakes_nothing_and_close_stops_the_thread(tmp_path: Path):
    path = tmp_path / "x.db"
    conn = _writer(path)
    conn.execute("INSERT INTO t (body) VALUES (x'01')")
    cp = Checkpointer(str(path), wal_bytes=1 << 30)
    cp.poke()
    assert cp._thread is None  # nothing to do: no thread started
    cp.wal_bytes = 1
    cp.poke()
    assert _wait(lambda: cp.checkpoints == 1)
    thread = cp._thread
    cp.close()
    assert thread is not None
    assert not thread.is_alive()
    cp.poke()  # after close: nothing starts again
    assert cp._thread is thread
    assert cp.checkpoints == 1
    conn.close()


def test_a_ledger_appending_with_its_checkpointer_loses_nothing(world: World):
    store = world.ledger.store
    assert store._checkpointer is not None
    store._checkpointer.wal_bytes = 1  # every append wakes it
    farm = world.party("farm", "Farm")
    for i in range(30):
        farm.submit(
            "origin",
            lot={"id": f"L{i}", "material": "cotton.seed", "quantity": q(10 + i), "unit": "kg"},
            site=site(),
        )
    assert _wait(lambda: store._checkpointer is not None and store._checkpointer.checkpoints > 0)
    size = world.ledger.size()
    checkpoint = world.ledger.checkpoint()
    assert audit(store).ok
    world.close()
    reopened = world.home.open()
    assert reopened.size() == size
    assert reopened.checkpoint() == checkpoint
    assert audit(reopened.store).ok
    reopened.store.close()
