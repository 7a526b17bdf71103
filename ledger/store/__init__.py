"""Storage: the one narrow seam between the ledger and its database.

SQLModel tables on SQLAlchemy, serving SQLite (the embedded default, WAL
mode, ``synchronous=FULL``) and PostgreSQL (``CUSTODY_DB_URL``). Storage
holds verbatim leaf bytes and the hash of every perfect Merkle subtree, so
any inclusion or consistency proof is answered from O(log n) rows read in one
query. It also keeps the derived custody state (parties, keys, lots,
holdings, dispatches) so appends judge a statement with a handful of indexed
reads, and a lot → statement index for provenance and visibility queries.

This package is the only code that speaks SQL. Its modules:

* :mod:`~ledger.store.tables`: the SQLModel tables;
* :mod:`~ledger.store.bulk`: the append path's bulk inserts and pair lookups;
* :mod:`~ledger.store.records`: values read and written, row ↔ record conversion;
* :mod:`~ledger.store.engine`: engines, :class:`Store`, the append lock;
* :mod:`~ledger.store.read`: :class:`ReadTx`, head, entries, tree, state lookups;
* :mod:`~ledger.store.walk`: the upstream walk and the visibility reads;
* :mod:`~ledger.store.write`: :class:`WriteTx`, one batch per transaction;
* :mod:`~ledger.store.peek`: reads without SQLAlchemy (a SQLite ledger's latest
  checkpoint; public keys for the workers of a bulk command).

The names below are imported from those modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store.bulk import ENTRY_COLUMNS, MULTIROW_PARAMS, PAIR_CHUNK, BulkSql, bulk_sql
    from ledger.store.engine import (
        WRITER_CACHE_KIB,
        WRITER_WAL_CHECKPOINT_PAGES,
        Store,
        drop_all,
        make_engine,
        ping,
    )
    from ledger.store.read import ReadTx
    from ledger.store.records import (
        ZERO,
        EntryTuple,
        Head,
        PrefetchedState,
        StoredEntry,
        chunks,
        index_rows,
    )
    from ledger.store.tables import (
        CHECKPOINTS,
        DISPATCHES,
        ENTRIES,
        HEAD,
        HOLDINGS,
        KEYS,
        LOT_REFS,
        LOTS,
        META,
        NODE_INDEX_BITS,
        NODES,
        PARTIES,
        PARTY_REFS,
        STATE_TABLES,
        CheckpointRow,
        DispatchRow,
        EntryRow,
        HeadRow,
        HoldingRow,
        KeyRow,
        LotRefRow,
        LotRow,
        MetaRow,
        NodeRow,
        PartyRefRow,
        PartyRow,
        node_id,
    )
    from ledger.store.walk import StatementFilter, StatementRow, TraceRows
    from ledger.store.write import WriteTx


if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """The names below, imported from their module on first use: a caller that
        needs only :mod:`ledger.store.peek` (``custody ledger checkpoint``) does not
        load SQLAlchemy."""
        if name in __all__:
            for sub in _SUBMODULES:
                module = importlib.import_module(f"{__name__}.{sub}")
                if name in vars(module):
                    value = getattr(module, name)
                    globals()[name] = value
                    return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_SUBMODULES = ("tables", "records", "bulk", "read", "walk", "write", "engine")

__all__ = [
    "CHECKPOINTS",
    "DISPATCHES",
    "ENTRIES",
    "ENTRY_COLUMNS",
    "HEAD",
    "HOLDINGS",
    "KEYS",
    "LOTS",
    "LOT_REFS",
    "META",
    "MULTIROW_PARAMS",
    "NODES",
    "NODE_INDEX_BITS",
    "PAIR_CHUNK",
    "PARTIES",
    "PARTY_REFS",
    "STATE_TABLES",
    "WRITER_CACHE_KIB",
    "WRITER_WAL_CHECKPOINT_PAGES",
    "ZERO",
    "BulkSql",
    "CheckpointRow",
    "DispatchRow",
    "EntryRow",
    "EntryTuple",
    "Head",
    "HeadRow",
    "HoldingRow",
    "KeyRow",
    "LotRefRow",
    "LotRow",
    "MetaRow",
    "NodeRow",
    "PartyRefRow",
    "PartyRow",
    "PrefetchedState",
    "ReadTx",
    "StatementFilter",
    "StatementRow",
    "Store",
    "StoredEntry",
    "TraceRows",
    "WriteTx",
    "bulk_sql",
    "chunks",
    "drop_all",
    "index_rows",
    "make_engine",
    "node_id",
    "ping",
]
