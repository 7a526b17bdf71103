"""Values read from and written to storage, and the row ↔ record conversions.

:func:`index_rows` is the one derivation of the ``lot_refs`` / ``party_refs``
rows of a statement from what :func:`ledger.custody.apply` returned: the
append path writes them and ``ledger audit`` recomputes them with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ledger.custody import (
    Changes,
    DispatchRecord,
    KeyRecord,
    LotRecord,
    PartyRecord,
    StatementRecord,
    StateReader,
)

ZERO = Decimal(0)

CHUNK = 900
"""Bound parameters per ``IN (...)`` list (SQLite allows 999 in old builds)."""


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``."""
    seq = list(items)
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


@dataclass(frozen=True)
class Head:
    size: int
    last_leaf_hash: bytes
    received_at: str


class StoredEntry(NamedTuple):
    """One ``entries`` row. A named tuple: a trace reads ten thousand of them, and
    a tuple is made at a third of the cost of a frozen dataclass."""

    seq: int
    leaf_hash: bytes
    leaf: bytes
    digest: str
    issuer: str
    stmt_id: str
    type: str
    received_at: str


EntryTuple = tuple[int, bytes, bytes, str, str, str, str, str]
"""An entries row in :data:`ledger.store.bulk.ENTRY_COLUMNS` order."""


def index_rows(
    seq: int, changes: Changes
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """The ``lot_refs`` rows ``(lot, seq, role)`` and ``party_refs`` rows
    ``(party, seq)`` of the statement at ``seq`` whose :func:`ledger.custody.apply`
    returned ``changes`` (each once, in first-mention order)."""
    refs, parties = changes.refs, changes.party_refs
    lot_refs = [(lot, seq, role) for lot, role in (refs if len(refs) < 2 else dict.fromkeys(refs))]
    party_refs = [(p, seq) for p in (parties if len(parties) < 2 else dict.fromkeys(parties))]
    return lot_refs, party_refs


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def party_record(r: Any) -> PartyRecord:
    return PartyRecord(
        r.id,
        r.name,
        r.country,
        r.subdivision,
        tuple(r.roles.split(",")) if r.roles else (),
        int(r.seq),
    )


def key_record(r: Any) -> KeyRecord:
    return KeyRecord(
        r.kid,
        r.party,
        bytes(r.public_key),
        int(r.added_seq),
        None if r.revoked_seq is None else int(r.revoked_seq),
        r.reason,
        None if r.effective is None else datetime.fromisoformat(r.effective),
    )


def lot_record(r: Any) -> LotRecord:
    return LotRecord(r.id, r.creator, r.material, r.unit, Decimal(r.quantity), int(r.seq))


def dispatch_record(r: Any) -> DispatchRecord:
    return DispatchRecord(
        r.digest,
        int(r.seq),
        r.lot,
        r.sender,
        r.to,
        Decimal(r.quantity),
        dec(r.received),
        None if r.receipt_seq is None else int(r.receipt_seq),
    )


class PrefetchedState:
    """A StateReader over bulk-read rows; falls back to the live transaction
    for anything not prefetched."""

    def __init__(self, operator: str | None) -> None:
        self._op = operator
        self.parties: dict[str, PartyRecord] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.lots: dict[str, LotRecord] = {}
        self.holdings: dict[tuple[str, str], Decimal] = {}
        self.dispatches: dict[str, DispatchRecord] = {}
        self.known_parties: set[str] = set()
        self.known_kids: set[str] = set()
        self.known_lots: set[str] = set()
        self.known_holdings: set[tuple[str, str]] = set()
        self.known_dispatches: set[str] = set()
        self.fallback: StateReader | None = None

    def operator(self) -> str | None:
        return self._op

    def party(self, party_id: str) -> PartyRecord | None:
        if party_id in self.known_parties or self.fallback is None:
            return self.parties.get(party_id)
        return self.fallback.party(party_id)

    def key(self, kid: str) -> KeyRecord | None:
        if kid in self.known_kids or self.fallback is None:
            return self.keys.get(kid)
        return self.fallback.key(kid)

    def lot(self, lot_id: str) -> LotRecord | None:
        if lot_id in self.known_lots or self.fallback is None:
            return self.lots.get(lot_id)
        return self.fallback.lot(lot_id)

    def holding(self, lot_id: str, party: str) -> Decimal:
        if (lot_id, party) in self.known_holdings or self.fallback is None:
            return self.holdings.get((lot_id, party), ZERO)
        return self.fallback.holding(lot_id, party)

    def dispatch(self, digest: str) -> DispatchRecord | None:
        if digest in self.known_dispatches or self.fallback is None:
            return self.dispatches.get(digest)
        return self.fallback.dispatch(digest)

    def statement(self, digest: str) -> StatementRecord | None:
        return None if self.fallback is None else self.fallback.statement(digest)
