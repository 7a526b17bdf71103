"""In-memory states: :class:`MemoryState` (a whole state, or an overlay over
another reader) and :class:`ScopedState` (a replay over a subset of the ledger)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from ledger.custody.records import (
    ZERO,
    Changes,
    DispatchRecord,
    KeyRecord,
    LotRecord,
    PartyRecord,
    StatementRecord,
    StateReader,
)

Lookup = Callable[[str], StatementRecord | None]


class MemoryState:
    """A state held in dicts, optionally layered over another reader.

    Used as a whole state (audit, bundle verification) and as the per-batch
    overlay over a storage snapshot (append). ``lookup`` finds statements by
    digest for a whole state replayed from a ledger (``ledger audit``): then
    only the retracted ones are kept in memory.
    """

    def __init__(self, base: StateReader | None = None, lookup: Lookup | None = None) -> None:
        self.base = base
        self.lookup = lookup
        self.changes = Changes()

    def operator(self) -> str | None:
        if self.changes.operator is not None:
            return self.changes.operator
        return self.base.operator() if self.base else None

    def party(self, party_id: str) -> PartyRecord | None:
        p = self.changes.parties.get(party_id)
        if p is None and self.base is not None:
            return self.base.party(party_id)
        return p

    def key(self, kid: str) -> KeyRecord | None:
        k = self.changes.keys.get(kid)
        if k is None and self.base is not None:
            return self.base.key(kid)
        return k

    def lot(self, lot_id: str) -> LotRecord | None:
        lot = self.changes.lots.get(lot_id)
        if lot is None and self.base is not None:
            return self.base.lot(lot_id)
        return lot

    def holding(self, lot_id: str, party: str) -> Decimal:
        h = self.changes.holdings.get((lot_id, party))
        if h is None:
            return self.base.holding(lot_id, party) if self.base else ZERO
        return h

    def dispatch(self, digest: str) -> DispatchRecord | None:
        d = self.changes.dispatches.get(digest)
        if d is None and self.base is not None:
            return self.base.dispatch(digest)
        return d

    def statement(self, digest: str) -> StatementRecord | None:
        rec = self.changes.statements.get(digest)
        if rec is None and self.base is not None:
            return self.base.statement(digest)
        if rec is None and self.lookup is not None:
            return self.lookup(digest)
        return rec

    def commit(self, changes: Changes) -> None:
        if self.lookup is not None and changes.statements:
            kept = {d: r for d, r in changes.statements.items() if r.retracted_seq is not None}
            changes = replace(changes, statements=kept)
        self.changes.merge(changes)

    # Read-outs used by `lots show` and the tests.
    def holdings_of_lot(self, lot_id: str) -> dict[str, Decimal]:
        return {p: q for (lot, p), q in self.changes.holdings.items() if lot == lot_id and q}

    def in_transit(self, lot_id: str | None = None) -> list[DispatchRecord]:
        return [
            d
            for d in self.changes.dispatches.values()
            if d.received is None and (lot_id is None or d.lot == lot_id)
        ]


class ScopedState(MemoryState):
    """A replay over a subset of the ledger (a trace, a bundle).

    Lots in ``scope`` are judged exactly: the subset holds every statement
    that creates, draws on, dispatches or receives them. Lots outside it are
    stand-ins of unlimited holding, so a transform that draws on one traced
    lot and one untraced lot is judged on the traced one alone.
    """

    def __init__(self, scope: set[str]) -> None:
        super().__init__()
        self.scope = scope

    def lot(self, lot_id: str) -> LotRecord | None:
        if lot_id in self.scope:
            return super().lot(lot_id)
        return LotRecord(lot_id, "", "", "*", Decimal("Infinity"), -1, placeholder=True)

    def holding(self, lot_id: str, party: str) -> Decimal:
        if lot_id in self.scope:
            return super().holding(lot_id, party)
        return Decimal("Infinity")
