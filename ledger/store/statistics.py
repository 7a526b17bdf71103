"""Planner statistics where nothing else keeps them: PostgreSQL with autovacuum off.

PostgreSQL's planner chooses how to run the upstream walk of a trace (a
recursive query over ``lot_refs``, ``dispatches`` and ``entries``) from table
statistics that ``ANALYZE`` gathers; autovacuum runs it as tables grow. Where
autovacuum is off, a ledger filled in bulk has no statistics at all, and at 10^7
entries the walk of a 10,000-statement trace went from 0.2 s to minutes. So on
PostgreSQL with autovacuum off the ledger analyses the tables the walk joins after an
append that doubled ``entries`` since the last ``ANALYZE`` (:data:`GROWTH`; and
grew it by at least :data:`MIN_ROWS` rows): three or four times per tenfold
growth, with a small sample (:data:`TARGET`) of the tables the walk joins
(:data:`WALKED`). Row counts off by up to a factor of two do not change the
plan of the walk; no statistics at all do. (A full ``ANALYZE`` of every table
took 4.5 s at 10^7 entries; analysing that way at every fifth of growth, as
autovacuum would in the background, cost a bulk load of 10^5 entries a quarter
of its rate on two cores; these small ones cost it nothing measurable.)
With autovacuum on, and on SQLite, nothing is done here.

The ``ANALYZE`` runs on a thread of its own, on a connection of the store's read
pool, after the append that called for it committed: the append (and the next
ones) do not wait for it; one runs at a time, :meth:`Statistics.wait` (which
:meth:`ledger.store.Store.close` calls) waits for the one running, and a process
ends only once it is done. A ``custody submit`` of 10^5 envelopes on PostgreSQL
had waited 0.15–0.25 s in all for its seven analyses (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["GROWTH", "MIN_ROWS", "WALKED", "Statistics"]

log = logging.getLogger(__name__)

GROWTH: Final = 1.0
"""Analyse when ``entries`` grew by this share of its size at the last ``ANALYZE``..."""
MIN_ROWS: Final = 1000
"""... and by at least this many rows."""
TARGET: Final = 10
"""``default_statistics_target`` of these analyses (PostgreSQL's default is 100)."""
WALKED: Final = ("entries", "lot_refs", "dispatches", "lots", "holdings", "party_refs")
"""The tables the upstream walk and the visibility reads join (``ledger.store.walk``);
the rest are read by primary key, whatever the statistics."""


class Statistics:
    """Keeps the planner statistics of one PostgreSQL ledger (see the module docstring)."""

    def __init__(self, engine: Engine, min_rows: int = MIN_ROWS) -> None:
        self.engine = engine
        self.min_rows = min_rows
        self.enabled: bool | None = None  # known once the first append asks
        self._analysed_at: int | None = None  # entries at the last ANALYZE
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def after_append(self, size: int) -> None:
        """Called once an append committed with the ledger at ``size`` entries."""
        if self.enabled is False:
            return
        with self._lock:
            try:
                if self.enabled is None:
                    self._start(size)
                if not self.enabled or self._analysed_at is None:
                    return
                grown = size - self._analysed_at
                if grown < max(self.min_rows, GROWTH * self._analysed_at):
                    return
                if self._running is not None and self._running.is_alive():
                    return  # one at a time: a later append asks again
                self._analysed_at = size
                # not a daemon: a process that ends right after the append (a CLI
                # command) finishes the ANALYZE rather than dropping it
                self._running = threading.Thread(
                    target=self._analyse_logged, name="custody-analyze"
                )
                self._running.start()
            except SQLAlchemyError as e:  # statistics are an optimisation: never fail an append
                self._failed(e)

    def wait(self) -> None:
        """Until the ``ANALYZE`` running, if any, is done."""
        running = self._running
        if running is not None:
            running.join()

    def _failed(self, e: SQLAlchemyError) -> None:
        log.warning("could not analyse the ledger's tables: %s", e)
        self.enabled = False

    def _analyse_logged(self) -> None:
        try:
            self._analyse()
        except SQLAlchemyError as e:
            self._failed(e)

    def _start(self, size: int) -> None:
        with self.engine.connect() as conn:
            autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
            self.enabled = str(autovacuum).lower() in ("off", "false", "0")
            if not self.enabled:
                return
            inserted = conn.execute(
                text(
                    "SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                    "WHERE relname = 'entries' AND schemaname = current_schema()"
                )
            ).scalar_one_or_none()
        self._analysed_at = max(0, size - int(inserted or 0))

    def _analyse(self) -> None:
        tables = ", ".join(f'"{t}"' for t in WALKED)
        with self.engine.connect() as conn, conn.begin():
            # a small sample (3,000 rows a table, not 30,000): the row counts and
            # distinct values the walk's plan needs, at a tenth of the cost
            conn.execute(text(f"SET LOCAL default_statistics_target = {TARGET}"))
            conn.execute(text(f"ANALYZE {tables}"))
        log.info("analysed the ledger's tables (autovacuum is off)")
