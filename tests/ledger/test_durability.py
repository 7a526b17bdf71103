"""Tampering, crashes and concurrent writers on real databases."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.home import Home
from ledger.keys import save_private_key
from ledger.store import node_id
from tests.support import World, q, site

ROOT = Path(__file__).resolve().parents[2]


def _populate(world: World, n: int = 12) -> None:
    farm = world.party("farm", "Farm")
    for i in range(n):
        farm.submit(
            "origin",
            lot={"id": f"L{i}", "material": "cotton.seed", "quantity": q(10 + i), "unit": "kg"},
            site=site(),
        )


def _db(world: World) -> sqlite3.Connection:
    path = world.home.path / "ledger.db"
    world.ledger.store.close()
    return sqlite3.connect(path)


def _first_bad(world: World) -> int | None:
    report = audit(world.ledger.store)
    assert not report.ok
    assert report.first is not None
    return report.first.seq


def test_changed_leaf_byte_is_named(world: World):
    _populate(world)
    db = _db(world)
    (leaf,) = db.execute("SELECT leaf FROM entries WHERE seq = 7").fetchone()
    tampered = bytearray(leaf)
    i = tampered.index(b'"received_at":"') + 20
    tampered[i] = ord("9") if tampered[i] != ord("9") else ord("8")
    db.execute("UPDATE entries SET leaf = ? WHERE seq = 7", (bytes(tampered),))
    db.commit()
    db.close()
    assert _first_bad(world) == 7


def test_deleted_row_is_named(world: World):
    _populate(world)
    db = _db(world)
    db.execute("DELETE FROM entries WHERE seq = 5")
    db.commit()
    db.close()
    report = audit(world.ledger.store)
    assert report.first is not None
    assert report.first.seq == 5
    assert "missing" in report.first.message


def test_swapped_rows_are_named(world: World):
    _populate(world)
    db = _db(world)
    a = db.execute("SELECT leaf, leaf_hash FROM entries WHERE seq = 4").fetchone()
    b = db.execute("SELECT leaf, leaf_hash FROM entries WHERE seq = 9").fetchone()
    db.execute("UPDATE entries SET leaf = ?, leaf_hash = ? WHERE seq = 4", b)
    db.execute("UPDATE entries SET leaf = ?, leaf_hash = ? WHERE seq = 9", a)
    db.commit()
    db.close()
    assert _first_bad(world) == 4


def test_edited_interior_hash_is_named(world: World):
    _populate(world)  # 14 entries: node (2, 1) covers seq 4..7
    db = _db(world)
    db.execute("UPDATE nodes SET hash = ? WHERE id = ?", (b"\x11" * 32, node_id(2, 1)))
    db.commit()
    db.close()
    report = audit(world.ledger.store)
    assert report.first is not None
    assert report.first.seq == 7
    assert "seq 4..7" in report.first.message


def test_edited_holding_is_found(world: World):
    _populate(world)
    db = _db(world)
    db.execute("UPDATE holdings SET quantity = '99999' WHERE lot = 'L3'")
    db.commit()
    db.close()
    report = audit(world.ledger.store)
    assert any(p.check == "state" and "L3" in p.message for p in report.problems)


def _appender(
    home: Path,
    key: Path,
    party: str,
    prefix: str,
    batches: int,
    size: int,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ledger.appender",
            str(home),
            str(key),
            party,
            prefix,
            str(batches),
            str(size),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _acks(lines: list[str]) -> dict[int, str]:
    acked: dict[int, str] = {}
    for line in lines:
        if line.startswith("ACK "):
            for item in line.split()[2:]:
                seq, digest = item.split(":", 1)
                acked[int(seq)] = digest
    return acked


@pytest.mark.slow
def test_acknowledged_appends_survive_sigkill(world: World, tmp_path: Path):
    farm = world.party("farm", "Farm")
    key = tmp_path / "farm.key"
    save_private_key(key, farm.key)
    world.ledger.store.close()
    rng = random.Random(7)
    acked: dict[int, str] = {}
    for round_ in range(5):
        child = _appender(world.home.path, key, "farm", f"r{round_}", 1000, 50)
        lines: list[str] = []
        deadline = time.monotonic() + rng.uniform(0.8, 2.5)
        assert child.stdout is not None
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate()
        lines.extend(rest.splitlines())
        acked.update(_acks(lines))
        # after each kill the ledger must be whole
        ledger = Home(world.home.path).open(with_key=False)
        report = audit(ledger.store)
        assert report.ok, report.problems[:3]
        with ledger.store.read() as r:
            for seq, digest in acked.items():
                assert r.entry(seq).digest == digest
        ledger.store.close()
    assert len(acked) >= 50


def _concurrent_appends(world: World, tmp_path: Path, env: dict[str, str]) -> None:
    writers = []
    for i in range(4):
        actor = world.party(f"farm{i}", f"Farm {i}")
        key = tmp_path / f"farm{i}.key"
        save_private_key(key, actor.key)
        writers.append((f"farm{i}", key))
    world.ledger.store.close()
    base = 5
    children = [
        _appender(world.home.path, key, party, f"w{i}", 15, 20, env)
        for i, (party, key) in enumerate(writers)
    ]
    acked: dict[int, str] = {}
    for c in children:
        out, err = c.communicate(timeout=300)
        assert c.returncode == 0, err[-2000:]
        for seq, digest in _acks(out.splitlines()).items():
            assert seq not in acked, f"seq {seq} acknowledged twice"
            acked[seq] = digest
    assert sorted(acked) == list(range(base, base + 4 * 15 * 20))
    saved = os.environ.copy()
    os.environ.update(env)
    try:
        ledger = Home(world.home.path).open(with_key=False)
        report = audit(ledger.store)
        assert report.ok, report.problems[:3]
        assert report.size == base + 4 * 15 * 20
        ledger.store.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.slow
def test_concurrent_writers_sqlite_form_one_chain(world: World, tmp_path: Path):
    _concurrent_appends(world, tmp_path, {})


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_writers_postgres_form_one_chain(pg_world: World, tmp_path: Path, pg_url: str):
    _concurrent_appends(pg_world, tmp_path, {"CUSTODY_DB_URL": pg_url})
