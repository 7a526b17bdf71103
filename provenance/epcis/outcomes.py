"""What the EPCIS mapping asks the ledger (:class:`Directory`) and what it answers
for one event: a statement to build (:class:`Mapped`), a skip (another party's
event) or the statement already in the ledger (:class:`Existing`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ledger.units import Quantity
from provenance.epcis.mapping import Place

__all__ = ["Directory", "Existing", "Mapped", "Skipped"]


class Directory(Protocol):
    """What the mapping asks the ledger."""

    def party_of_gln(self, gln: str) -> str | None: ...

    def has_party(self, party: str) -> bool: ...

    def place_of(self, party: str) -> Place | None: ...

    def dispatch_for(self, party: str, lot: str) -> tuple[str, Quantity] | None: ...


@dataclass(frozen=True, slots=True)
class Mapped:
    """A statement to build: type, id, issuer, time and body."""

    type: str
    statement_id: str
    issuer: str
    time: str
    body: dict[str, Any]
    dispatch: str | None = None  # a receipt's dispatch digest, claimed in this run


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str


@dataclass(frozen=True, slots=True)
class Existing:
    """The party's statement for this event is already in the ledger."""

    seq: int
    digest: str
