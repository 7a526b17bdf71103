"""Engines and the :class:`Store`: SQLite and PostgreSQL connections, the
append lock and the read snapshot.

Write transactions are serialised across processes: SQLite by
``BEGIN IMMEDIATE``; PostgreSQL by ``SELECT ... FOR UPDATE`` on the single
``head`` row. Reads run in one snapshot (``REPEATABLE READ`` on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import SQLModel

from ledger.errors import ConfigError
from ledger.store.checkpointer import Checkpointer
from ledger.store.read import ReadTx
from ledger.store.statistics import Statistics
from ledger.store.tables import HEAD
from ledger.store.write import WriteTx


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


WRITER_CACHE_KIB = 65536
"""SQLite page cache of the appending connection: the hot pages of the indexes an
append touches stay in memory as the ledger grows (the default is 2 MiB)."""

WRITER_WAL_CHECKPOINT_PAGES = 40000
"""Pages of WAL after which an appending commit checkpoints itself: a backstop, as
the store's :class:`~ledger.store.checkpointer.Checkpointer` thread checkpoints at
a quarter of that (SQLite's default is 1,000 pages, about one batch of 1,000
statements; index pages that every batch rewrites are copied into the database
once per several batches rather than once per batch). Durability is the WAL's,
with ``synchronous=FULL``, either way."""


def make_engine(url: str, *, writer: bool = False) -> Engine:
    """An engine for ``url`` with the pragmas and locking custody relies on.

    ``writer``: the engine :meth:`Store.write` uses — its connections are
    reused most-recent-first and, on SQLite, get a larger page cache and
    checkpoint the WAL less often.
    """
    try:
        if _is_sqlite(url):
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 60},
                pool_use_lifo=writer,
            )

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                try:
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=FULL")
                    cur.execute("PRAGMA busy_timeout=60000")
                    cur.execute("PRAGMA foreign_keys=ON")
                    if writer:
                        cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
                        cur.execute(f"PRAGMA wal_autocheckpoint={WRITER_WAL_CHECKPOINT_PAGES}")
                except sqlite3.DatabaseError as e:  # a damaged or foreign file
                    raise ConfigError(f"cannot open the SQLite ledger {url!r}: {e}") from None
                finally:
                    cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                write = conn.get_execution_options().get("custody_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        else:
            engine = create_engine(url, pool_pre_ping=True, pool_use_lifo=writer)
    except (SQLAlchemyError, ValueError, ImportError) as e:
        raise ConfigError(f"cannot use database URL {url!r}: {e}") from e
    return engine


class Store:
    """The storage seam: append, read ranges, head, and the state lookups."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = _is_sqlite(url)
        self._writer: Engine | None = None
        self._writer_lock = threading.Lock()
        self._statistics = None if self.is_sqlite else Statistics(self.engine)
        path = make_url(url).database if self.is_sqlite else None
        self._checkpointer = Checkpointer(path) if path and path != ":memory:" else None

    @property
    def write_engine(self) -> Engine:
        """The engine of :meth:`write`, apart from :attr:`engine`: SQLite keeps a
        page cache per connection and drops it when another connection has
        written, so appends sharing a pool with reads would start cold every time."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = make_engine(self.url, writer=True)
            return self._writer

    def create_schema(self) -> None:
        try:
            SQLModel.metadata.create_all(self.engine)
        except OperationalError as e:
            raise ConfigError(f"cannot open the ledger database: {e.orig}") from e

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.settle()
        self.engine.dispose()
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.dispose()

    def settle(self) -> None:
        """Wait for what an append started in the background: the planner
        statistics (:mod:`ledger.store.statistics`)."""
        if self._statistics is not None:
            self._statistics.wait()

    def after_append(self, size: int) -> None:
        """An append committed with ``size`` entries: keep the planner statistics
        where nothing else does (:mod:`ledger.store.statistics`), and on SQLite
        checkpoint the WAL on the checkpointer's thread once it has grown
        (:mod:`ledger.store.checkpointer`)."""
        if self._statistics is not None:
            self._statistics.after_append(size)
        if self._checkpointer is not None:
            self._checkpointer.poke()

    # ------------------------------------------------------ transactions

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """One serialised write transaction (the append lock)."""
        with self.write_engine.connect() as conn:
            conn = conn.execution_options(custody_write=True)
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(select(HEAD.c.id).where(HEAD.c.id == 1).with_for_update())
                yield WriteTx(conn)

    @contextmanager
    def read(self) -> Iterator[ReadTx]:
        """A consistent read snapshot."""
        with self.engine.connect() as conn, conn.begin():
            if not self.is_sqlite:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield ReadTx(conn)


def drop_all(url: str) -> None:
    """Drop every custody table (tests)."""
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
