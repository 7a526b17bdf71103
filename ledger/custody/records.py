"""The custody state's records, the :class:`StateReader` protocol the rules read
through, and :class:`Changes`, what one statement does to the state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from ledger.errors import RejectedError
from ledger.statements import (
    Statement,
)
from ledger.units import dimension_of

MAX_CLOCK_SKEW = timedelta(minutes=5)
ZERO = Decimal(0)

SigCheck = Callable[[bytes, bytes, bytes], bool]
"""``(public_key, signature, message) -> ok``; lets callers memoise verification."""


@dataclass(frozen=True)
class PartyRecord:
    id: str
    name: str
    country: str
    subdivision: str | None
    roles: tuple[str, ...]
    seq: int


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    party: str
    public_key: bytes
    added_seq: int
    revoked_seq: int | None = None
    reason: str | None = None
    effective: datetime | None = None


@dataclass(frozen=True)
class LotRecord:
    id: str
    creator: str
    material: str
    unit: str
    quantity: Decimal  # in the base unit of the lot's dimension
    seq: int
    placeholder: bool = False  # a lot outside a scoped replay's scope

    @property
    def void(self) -> bool:
        """The statement that created the lot was retracted (at ``seq``); created
        quantities are > 0, so a stored quantity of 0 marks it."""
        return not self.quantity and not self.placeholder

    @property
    def dimension(self) -> str:
        return dimension_of(self.unit)  # raises for an unknown unit, as a Quantity would


@dataclass(frozen=True)
class DispatchRecord:
    digest: str
    seq: int
    lot: str
    sender: str
    to: str
    quantity: Decimal  # base unit
    received: Decimal | None = None
    receipt_seq: int | None = None

    @property
    def void(self) -> bool:
        """The dispatch was retracted (at ``receipt_seq``); receipts are for > 0,
        so a received quantity of 0 marks it."""
        return self.received is not None and not self.received


@dataclass(frozen=True)
class StatementRecord:
    """An appended statement another one may name (a ``retract`` or ``replaces``
    target), and the seq of the statement that retracted it, if any."""

    seq: int
    statement: Statement
    retracted_seq: int | None = None


@dataclass(frozen=True)
class EntryRef:
    """The statement at the point of the ledger being judged."""

    seq: int
    received_at: datetime
    statement: Statement
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, sig)
    pae: bytes


class StateReader(Protocol):
    """What the state machine needs to know; every lookup is by key."""

    def operator(self) -> str | None: ...
    def party(self, party_id: str) -> PartyRecord | None: ...
    def key(self, kid: str) -> KeyRecord | None: ...
    def lot(self, lot_id: str) -> LotRecord | None: ...
    def holding(self, lot_id: str, party: str) -> Decimal: ...
    def dispatch(self, digest: str) -> DispatchRecord | None: ...
    def statement(self, digest: str) -> StatementRecord | None: ...


@dataclass
class Changes:
    """What one statement (or a batch) does to the state."""

    operator: str | None = None
    parties: dict[str, PartyRecord] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    lots: dict[str, LotRecord] = field(default_factory=dict)
    holdings: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    dispatches: dict[str, DispatchRecord] = field(default_factory=dict)
    statements: dict[str, StatementRecord] = field(default_factory=dict)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (lot, role)
    party_refs: list[str] = field(default_factory=list)  # parties whose keys/record change

    def merge(self, other: Changes) -> None:
        if other.operator is not None:
            self.operator = other.operator
        self.parties.update(other.parties)
        self.keys.update(other.keys)
        self.lots.update(other.lots)
        self.holdings.update(other.holdings)
        self.dispatches.update(other.dispatches)
        self.statements.update(other.statements)


def _reject(code: str, message: str, **details: object) -> RejectedError:
    return RejectedError(message, code=f"rejected.{code}", details=dict(details))
