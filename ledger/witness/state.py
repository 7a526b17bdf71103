"""The witness's state: one SQLite database in the witness's own folder.

Tables:

* ``log_keys(id, origin, vkey)`` — the logs the witness accepts: for each origin,
  the operator verifier keys it trusts (``<origin>+<8 hex>+<base64>``), in the
  order they were added (``id``). A log that rotated its key has two rows; the
  later one is the newer key (docs/decisions/0007);
* ``latest(origin, vkey, size, root, note, cosigned_at)`` — the latest checkpoint
  the witness cosigned for each log, keyed by origin alone (c2sp.org/tlog-witness),
  so the consistency state carries across a key rotation; ``vkey`` is the trusted
  key that verified it;
* ``evidence(...)`` — operator-signed checkpoints the witness refused because
  they conflict with what it cosigned before: the split-view evidence.

:meth:`WitnessState.advance` is the compare-and-swap the protocol needs: in one
``BEGIN IMMEDIATE`` transaction it checks that the stored size is the request's
old size and writes the new checkpoint; a crash leaves either the old or the new
row, never a mix (SQLite journal, ``synchronous=FULL``). This module is a
database of the witness, not of a ledger; it speaks SQL through the standard
library's :mod:`sqlite3` and nothing else.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ledger.errors import ConfigError

__all__ = ["Evidence", "Latest", "WitnessState"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    vkey TEXT NOT NULL,
    UNIQUE (origin, vkey)
);
CREATE TABLE IF NOT EXISTS latest (
    origin TEXT PRIMARY KEY,
    vkey TEXT NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    held_size INTEGER NOT NULL,
    held_note TEXT NOT NULL,
    offered_size INTEGER NOT NULL,
    offered_note TEXT NOT NULL,
    old_size INTEGER NOT NULL,
    proof TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint the witness cosigned for one log."""

    origin: str
    vkey: str
    size: int
    root: bytes
    note: str
    cosigned_at: float


@dataclass(frozen=True)
class Evidence:
    """Two operator-signed checkpoints of one log that cannot both be honest.

    ``kind`` is ``same_size`` (one size, two roots: conclusive on its own) or
    ``inconsistent`` (the offered checkpoint came with a consistency proof from the
    held one that does not verify; conclusive once the log cannot produce one).
    """

    id: int
    origin: str
    kind: str
    held_size: int
    held_note: str
    offered_size: int
    offered_note: str
    old_size: int
    proof: tuple[str, ...]
    received_at: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "origin": self.origin,
            "kind": self.kind,
            "held": {"size": self.held_size, "note": self.held_note},
            "offered": {"size": self.offered_size, "note": self.offered_note},
            "old_size": self.old_size,
            "proof": list(self.proof),
            "received_at": self.received_at,
        }


class WitnessState:
    """The witness's SQLite database (created on first open)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            _migrate_logs(conn)
        except sqlite3.Error as e:
            raise ConfigError(f"{path}: not a usable witness state database ({e})") from e
        self._conn = conn
        self._lock = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, args).fetchall())

    # --------------------------------------------------------------- logs

    def add_log(self, origin: str, vkey: str) -> bool:
        """Trust ``vkey`` for ``origin`` (after the keys it trusts already); False
        when it was trusted already. The state held for the origin is kept."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO log_keys(origin, vkey) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (origin, vkey),
            )
            return bool(cur.rowcount)

    def remove_log_key(self, vkey: str) -> str | None:
        """Stop trusting ``vkey``; the origin it was trusted for, or None if it was
        not. The state held for the origin is kept (re-adding a key continues it)."""
        with self._tx() as c:
            row = c.execute("SELECT origin FROM log_keys WHERE vkey = ?", (vkey,)).fetchone()
            if row is None:
                return None
            c.execute("DELETE FROM log_keys WHERE vkey = ?", (vkey,))
            return str(row[0])

    def logs(self) -> dict[str, list[str]]:
        """Every origin the witness follows, with its trusted keys, oldest first."""
        found: dict[str, list[str]] = {}
        for o, v in self._read("SELECT origin, vkey FROM log_keys ORDER BY origin, id"):
            found.setdefault(str(o), []).append(str(v))
        return found

    def log_keys(self, origin: str) -> list[str]:
        """The keys trusted for ``origin``, oldest first (empty: an unknown log)."""
        rows = self._read("SELECT vkey FROM log_keys WHERE origin = ? ORDER BY id", (origin,))
        return [str(r[0]) for r in rows]

    # ------------------------------------------------------------- latest

    def latest(self, origin: str) -> Latest | None:
        rows = self._read(
            "SELECT origin, vkey, size, root, note, cosigned_at FROM latest WHERE origin = ?",
            (origin,),
        )
        return _latest(rows[0]) if rows else None

    def all_latest(self) -> list[Latest]:
        rows = self._read(
            "SELECT origin, vkey, size, root, note, cosigned_at FROM latest ORDER BY origin"
        )
        return [_latest(r) for r in rows]

    def advance(
        self,
        origin: str,
        decide: Callable[[Latest | None], T],
        accept: Callable[[T], Latest | None],
    ) -> T:
        """Compare-and-swap: ``decide`` sees the stored row inside the write
        transaction and returns a decision; ``accept`` maps it to the new row to
        store (or None to store nothing). Both run before the commit."""
        with self._tx() as c:
            row = c.execute(
                "SELECT origin, vkey, size, root, note, cosigned_at FROM latest WHERE origin = ?",
                (origin,),
            ).fetchone()
            decision = decide(None if row is None else _latest(row))
            new = accept(decision)
            if new is not None:
                c.execute(
                    "INSERT INTO latest(origin, vkey, size, root, note, cosigned_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET "
                    "vkey = excluded.vkey, size = excluded.size, root = excluded.root, "
                    "note = excluded.note, cosigned_at = excluded.cosigned_at",
                    (new.origin, new.vkey, new.size, new.root, new.note, new.cosigned_at),
                )
        return decision

    # ----------------------------------------------------------- evidence

    def record_evidence(
        self, held: Latest, kind: str, offered_size: int, offered_note: str, old: int, proof: str
    ) -> None:
        with self._tx() as c:
            dup = c.execute(
                "SELECT 1 FROM evidence WHERE origin = ? AND held_note = ? AND offered_note = ?",
                (held.origin, held.note, offered_note),
            ).fetchone()
            if dup is None:
                c.execute(
                    "INSERT INTO evidence(origin, kind, held_size, held_note, offered_size, "
                    "offered_note, old_size, proof, received_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        held.origin,
                        kind,
                        held.size,
                        held.note,
                        offered_size,
                        offered_note,
                        old,
                        proof,
                        time.time(),
                    ),
                )

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        sql = (
            "SELECT id, origin, kind, held_size, held_note, offered_size, offered_note, "
            "old_size, proof, received_at FROM evidence"
        )
        args: tuple[str, ...] = ()
        if origin is not None:
            sql += " WHERE origin = ?"
            args = (origin,)
        rows = self._read(sql + " ORDER BY id", args)
        return [
            Evidence(
                int(r[0]),
                str(r[1]),
                str(r[2]),
                int(r[3]),
                str(r[4]),
                int(r[5]),
                str(r[6]),
                int(r[7]),
                tuple(p for p in str(r[8]).split("\n") if p),
                float(r[9]),
            )
            for r in rows
        ]


def _latest(row: tuple[Any, ...]) -> Latest:
    origin, vkey, size, root, note, at = row
    return Latest(str(origin), str(vkey), int(size), bytes(root), str(note), float(at))


def _migrate_logs(conn: sqlite3.Connection) -> None:
    """A state written before ``log_keys`` had ``logs(origin PRIMARY KEY, vkey)``:
    move its rows (one key per origin) and drop it, in one transaction."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='logs'").fetchone():
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR IGNORE INTO log_keys(origin, vkey) "
                "SELECT origin, vkey FROM logs ORDER BY origin"
            )
            conn.execute("DROP TABLE logs")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
