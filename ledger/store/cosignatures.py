"""The ``cosignatures`` table: witnesses' cosignature/v1 lines over the log's
checkpoints (:mod:`ledger.cosignature`), as the server's witnessing task stored
them after checking each against the witness's key.

Not derived from the leaves (``ledger audit`` leaves it alone): a row says that
the witness ``witness`` (its verifier key) cosigned the stored checkpoint of
``size`` at ``timestamp`` with ``line``. The table is created on first use, so
ledgers made before it existed gain it without a migration.

The table stays small: each store also prunes it (:func:`prune`), keeping only
the rows at the sizes someone still needs — every witness's latest cosigned size
(a bundle export and ``custody ledger checkpoint`` look for the newest
checkpoint covering their leaves, and each witness's next request starts from
its latest size) and the size of the checkpoint :func:`cosigned_checkpoint`
serves (most witnesses, then the larger). Every witness's row at a kept size is
kept, so a quorum that exists is never broken. At most ``W × (W + 1)`` rows
remain for ``W`` witnesses, however long the log runs; a bundle already exported
carries its cosignatures itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, text

from ledger.store.engine import Store
from ledger.store.read import ReadTx
from ledger.store.tables import CHECKPOINTS, COSIGNATURES

__all__ = [
    "CosignedCheckpoint",
    "cosigned_checkpoint",
    "ensure_table",
    "latest_by_witness",
    "prune",
    "store_cosignature",
]


_RECENT_ROWS = 4096
"""The newest cosignature rows a search for the cosigned checkpoint looks at (the
table grows by a row per witness per checkpoint witnessed)."""


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A stored checkpoint with the cosignature lines witnesses gave it."""

    size: int
    note: str
    """The operator-signed note followed by every stored cosignature line."""
    witnesses: tuple[str, ...]
    """The verifier keys of the witnesses whose lines are appended, sorted."""


def ensure_table(store: Store) -> None:
    """Create the table if the database does not have it yet."""
    COSIGNATURES.create(store.engine, checkfirst=True)


def store_cosignature(store: Store, size: int, witness: str, line: str, timestamp: int) -> None:
    """Keep (replace) ``witness``'s cosignature of the checkpoint of ``size``."""
    with store.engine.begin() as conn:
        conn.execute(
            delete(COSIGNATURES).where(
                COSIGNATURES.c.size == size, COSIGNATURES.c.witness == witness
            )
        )
        conn.execute(
            insert(COSIGNATURES).values(size=size, witness=witness, line=line, timestamp=timestamp)
        )
        prune(conn)


_PRUNE = text(
    "DELETE FROM cosignatures WHERE size NOT IN "
    "(SELECT max(size) FROM cosignatures GROUP BY witness) AND size <> "
    "(SELECT size FROM cosignatures GROUP BY size ORDER BY count(*) DESC, size DESC LIMIT 1)"
)
"""One plain SQL statement (SQLite and PostgreSQL): a tenth of the CPU of the same
delete built with the expression language, which is compiled on every call."""


def prune(conn: Connection) -> int:
    """Delete the rows at sizes nobody needs any more (see the module docstring),
    in one statement in the caller's write transaction; the number deleted."""
    gone = conn.execute(_PRUNE)
    return int(gone.rowcount or 0)


def _has_table(conn: Connection) -> bool:
    return bool(conn.dialect.has_table(conn, COSIGNATURES.name))


def latest_by_witness(r: ReadTx) -> dict[str, int]:
    """The largest checkpoint size each witness has cosigned."""
    if not _has_table(r.conn):
        return {}
    rows = r.conn.execute(
        select(COSIGNATURES.c.witness, func.max(COSIGNATURES.c.size)).group_by(
            COSIGNATURES.c.witness
        )
    )
    return {str(w): int(s) for w, s in rows}


def cosigned_checkpoint(r: ReadTx, min_size: int = 0) -> CosignedCheckpoint | None:
    """The stored checkpoint of at least ``min_size`` that the most witnesses
    cosigned (the larger on a tie), with their lines; None when there is none."""
    if not _has_table(r.conn):
        return None
    rows = r.conn.execute(
        select(COSIGNATURES.c.size, COSIGNATURES.c.witness, COSIGNATURES.c.line)
        .where(COSIGNATURES.c.size >= min_size)
        .order_by(COSIGNATURES.c.size.desc())
        .limit(_RECENT_ROWS)
    ).all()
    by_size: dict[int, dict[str, str]] = defaultdict(dict)
    for size, witness, line in rows:
        by_size[int(size)][str(witness)] = str(line)
    if not by_size:
        return None
    size = max(by_size, key=lambda s: (len(by_size[s]), s))
    note = r.conn.execute(select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.size == size)).scalar()
    if note is None:
        return None
    lines = by_size[size]
    witnesses = tuple(sorted(lines))
    return CosignedCheckpoint(size, str(note) + "".join(lines[w] for w in witnesses), witnesses)
