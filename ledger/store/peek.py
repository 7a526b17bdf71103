"""Reads without SQLAlchemy: the latest checkpoint of a SQLite ledger, public keys.

``custody ledger checkpoint`` prints one row, and a worker process of ``custody
submit`` (:mod:`ledger.prepare_lines`) needs the public keys of a block's keyids;
loading SQLAlchemy and the SQLModel tables would cost several times the command
(or, on every bulk command, half a second of a core before its workers' first
signature). These read the same rows as :meth:`ledger.store.ReadTx.latest_checkpoint`
and :meth:`ledger.store.ReadTx.keys_by_kid`: from SQLite through the standard
library's ``sqlite3``, opening the existing file only (never creating one), and
(the keys) from PostgreSQL through psycopg, on one connection a process keeps.
They answer ``None`` whenever they cannot answer plainly (another kind of URL,
no such file, no table, no checkpoint yet, any database error), and the caller
then asks the :class:`ledger.store.Store`, which reports the problem as it
always does.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import quote

SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_PREFIXES = ("postgresql+psycopg://", "postgresql://")
"""SQLAlchemy URLs of the psycopg dialect: libpq URIs once the scheme is ``postgresql``."""
BUSY_TIMEOUT_S = 60
IN_LIST = 500
"""Values a query's ``IN`` list (SQLite allows at least 999 parameters)."""


def _open(url: str) -> sqlite3.Connection | None:
    """A connection to the existing SQLite ledger at ``url``, or ``None``."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path = Path(url.removeprefix(SQLITE_PREFIX))
    if not path.is_file():
        return None
    try:
        return sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return None


def latest_checkpoint(url: str) -> tuple[int, str] | None:
    """``(size, note)`` of the newest checkpoint in the SQLite ledger at ``url``, or
    ``None`` when this cannot say (see the module docstring)."""
    conn = _open(url)
    if conn is None:
        return None
    try:
        row = conn.execute(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    return int(row[0]), str(row[1])


def public_keys(url: str, kids: Collection[str]) -> dict[str, bytes] | None:
    """The public key of each of ``kids`` registered in the ledger at ``url``
    (revoked or not: when a key signs is the custody rules' question), or ``None``
    when this cannot say (see the module docstring)."""
    if url.startswith(POSTGRESQL_PREFIXES):
        return _pg_public_keys(url, kids)
    conn = _open(url)
    if conn is None:
        return None
    wanted = list(kids)
    out: dict[str, bytes] = {}
    try:
        with conn:  # one read transaction: one snapshot for every chunk
            conn.execute("BEGIN")
            for i in range(0, len(wanted), IN_LIST):
                chunk = wanted[i : i + IN_LIST]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT kid, public_key FROM keys WHERE kid IN ({marks})"  # noqa: S608 (placeholders only)
                out.update((str(kid), bytes(pk)) for kid, pk in conn.execute(sql, chunk))
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return out


_PG: dict[str, tuple[int, Any]] = {}
"""URL → (pid, psycopg connection) that :func:`public_keys` keeps (autocommit); a
connection is used only by the process that opened it, never by a forked child."""


@atexit.register
def close_connections() -> None:
    """Close the connections :func:`public_keys` keeps (this process's own)."""
    while _PG:
        pid, conn = _PG.popitem()[1]
        if pid == os.getpid():
            conn.close()


def _pg_public_keys(url: str, kids: Collection[str]) -> dict[str, bytes] | None:
    import psycopg

    kept = _PG.get(url)
    conn = kept[1] if kept is not None and kept[0] == os.getpid() else None
    try:
        if conn is None or conn.closed:
            rest = url.split("://", 1)[1]
            conn = psycopg.connect(f"postgresql://{rest}", autocommit=True)
            _PG[url] = (os.getpid(), conn)
        rows = conn.execute(
            "SELECT kid, public_key FROM keys WHERE kid = ANY(%s)", (list(kids),)
        ).fetchall()
    except (psycopg.Error, ValueError):
        dropped = _PG.pop(url, None)
        if dropped is not None and dropped[0] == os.getpid():
            dropped[1].close()
        return None
    return {str(kid): bytes(pk) for kid, pk in rows}
