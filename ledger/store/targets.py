"""Statements looked up by digest for the custody rules (a ``retract`` or
``replaces`` target), with the seq of the statement that retracted each.

A retraction indexes every lot its target touched under the role
``retract`` in ``lot_refs``; the retractions of a statement are found among
the entries indexed so for its lots after it, so the lookup reads a handful of
rows whatever the size of the ledger.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from ledger.custody import StatementRecord
from ledger.leaf import decode_leaf
from ledger.statements import Receipt, Statement
from ledger.store.tables import DISPATCHES, ENTRIES, LOT_REFS


class TargetReads:
    """The :meth:`statement` lookup of :class:`ledger.store.ReadTx`."""

    conn: Connection

    def _statement_at(self, seq: int) -> Statement:
        leaf = self.conn.execute(select(ENTRIES.c.leaf).where(ENTRIES.c.seq == seq)).scalar_one()
        return decode_leaf(bytes(leaf)).statement

    def statement(self, digest: str) -> StatementRecord | None:
        """The appended statement with ``digest`` and when it was retracted, if it was."""
        t = ENTRIES.c
        seq = self.conn.execute(
            select(t.seq).where(t.digest == digest).order_by(t.seq).limit(1)
        ).scalar()
        if seq is None:
            return None
        stmt = self._statement_at(int(seq))
        lots = list(stmt.lots_referenced())
        if isinstance(stmt, Receipt):
            lot = self.conn.execute(
                select(DISPATCHES.c.lot).where(DISPATCHES.c.digest == stmt.dispatch)
            ).scalar()
            lots += [] if lot is None else [lot]
        r = LOT_REFS.c
        later = self.conn.execute(
            select(r.seq)
            .where(r.lot.in_(lots), r.role == "retract", r.seq > seq)
            .distinct()
            .order_by(r.seq)
        ).scalars()
        for other in list(later):
            if self._statement_at(int(other)).retracts() == digest:
                return StatementRecord(int(seq), stmt, int(other))
        return StatementRecord(int(seq), stmt)

    def statement_of(self, digest: str) -> StatementRecord | None:
        """The appended statement with ``digest``, without its retraction (for a
        replay that finds retractions itself, ``ledger audit``)."""
        seq = self.conn.execute(
            select(ENTRIES.c.seq).where(ENTRIES.c.digest == digest).order_by(ENTRIES.c.seq).limit(1)
        ).scalar()
        return None if seq is None else StatementRecord(int(seq), self._statement_at(int(seq)))
