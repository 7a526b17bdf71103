"""One read without SQLAlchemy: the latest checkpoint of a SQLite ledger.

``custody ledger checkpoint`` prints one row; loading SQLAlchemy and the SQLModel
tables would cost several times the whole command. This reads the same row as
:meth:`ledger.store.ReadTx.latest_checkpoint` through the standard library's
``sqlite3``, opening the existing file only (never creating one). It answers
``None`` whenever it cannot answer plainly (not a SQLite URL, no such file, no
table, no checkpoint yet, any SQLite error), and the caller then asks the
:class:`ledger.store.Store`, which reports the problem as it always does.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

SQLITE_PREFIX = "sqlite:///"
BUSY_TIMEOUT_S = 60


def latest_checkpoint(url: str) -> tuple[int, str] | None:
    """``(size, note)`` of the newest checkpoint in the SQLite ledger at ``url``, or
    ``None`` when this cannot say (see the module docstring)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path = Path(url.removeprefix(SQLITE_PREFIX))
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
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
