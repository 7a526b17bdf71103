"""The view model of the HTML report: documents, parties, quantity lines, custody steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ledger.statements import Statement
from provenance.report.format import place_name
from provenance.verify import Finding

SEVERITY_ORDER: Final = {"error": 0, "gap": 1, "warning": 2, "info": 3}


@dataclass(frozen=True)
class DocumentRef:
    """A document referenced by the bundled statements (``documents/<sha256>``)."""

    sha256: str
    name: str
    kind: str
    media_type: str | None = None
    size: int | None = None
    present: bool = True
    referenced_by: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"documents/{self.sha256}"


@dataclass
class PartyView:
    id: str
    name: str
    country: str
    subdivision: str | None = None
    address: str | None = None
    roles: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    seq: int | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def place(self) -> str:
        return place_name(self.country, self.subdivision)


@dataclass
class Line:
    """One quantity line: a lot (or external input) with its amounts."""

    label: str
    material: str
    quantity: str
    kg: str | None = None
    note: str | None = None


@dataclass
class Step:
    number: int
    kind: str
    title: str
    party: PartyView
    statement: Statement
    seq: int | None
    time: str
    to_party: PartyView | None = None
    received_time: str | None = None
    recorded: str | None = None
    site: str | None = None
    inputs: list[Line] = field(default_factory=list)
    outputs: list[Line] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)
    statements: list[tuple[str, str, int | None]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Rule ids of the error and gap findings among ``findings``."""

    @property
    def anchor(self) -> str:
        return f"step-{self.number}"

    @property
    def short_title(self) -> str:
        return self.title.replace("Transformation: ", "").replace("Origin of ", "Origin: ")

    @property
    def date(self) -> str:
        return self.time[:10]

    @property
    def compact_in(self) -> str:
        return "; ".join(f"{line.label} {line.quantity}" for line in self.inputs)

    @property
    def compact_out(self) -> str:
        return "; ".join(f"{line.label} {line.quantity}" for line in self.outputs)
