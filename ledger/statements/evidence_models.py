"""The typed ``fields`` of an ``evidence`` statement: one frozen dataclass per kind.

:mod:`ledger.statements.evidence` parses them (see its docstring for the JSON
shapes); docs/evidence.md documents each kind with an example. Money and
quantities are exact decimals, currencies ISO 4217 codes, dates ISO 8601
calendar dates, and parties either registered party ids or named outside parties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from ledger.units import EXACT, Quantity

__all__ = [
    "COMMERCIAL_KINDS",
    "TYPED_KINDS",
    "AuditReport",
    "CertificateOfOrigin",
    "CustodyStep",
    "DocumentLine",
    "EvidenceFields",
    "LabTest",
    "PartyRef",
    "PaymentRecord",
    "ProductionRecord",
    "Sample",
    "TradeDocument",
    "TransportDocument",
]

#: Commercial documents between a seller and a buyer.
COMMERCIAL_KINDS: Final = ("purchase_order", "commercial_invoice", "packing_list")

#: Every evidence kind with typed ``fields``.
TYPED_KINDS: Final = (
    *COMMERCIAL_KINDS,
    "transport_document",
    "payment_record",
    "lab_test",
    "certificate_of_origin",
    "production_record",
    "audit_report",
)


@dataclass(frozen=True, slots=True)
class PartyRef:
    """A registered party (``id``) or a named party outside the ledger (``name``, ``country``)."""

    id: str | None = None
    name: str | None = None
    country: str | None = None

    def same(self, other: PartyRef) -> bool:
        """Whether both name the same party: equal ids, or equal names ignoring case and
        spacing when neither is a registered party."""
        if self.id is not None or other.id is not None:
            return self.id == other.id
        return _folded(self.name) == _folded(other.name) and self.country == other.country

    def __str__(self) -> str:
        if self.id is not None:
            return self.id
        return f"{self.name} ({self.country})" if self.country else str(self.name)


def _folded(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """A line of a document: a lot (or a material) in a quantity, with an amount if priced."""

    quantity: Quantity
    lot: str | None = None
    material: str | None = None
    amount: Decimal | None = None


def _sum(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


@dataclass(frozen=True, slots=True)
class TradeDocument:
    """``purchase_order``, ``commercial_invoice`` or ``packing_list``."""

    kind: str
    number: str
    seller: PartyRef
    buyer: PartyRef
    date: date
    lines: tuple[DocumentLine, ...]
    currency: str | None = None
    references: tuple[str, ...] = ()
    """Numbers of related documents (the purchase order an invoice answers ...)."""

    @property
    def total(self) -> Decimal | None:
        """The sum of the lines' amounts (None when a line has no amount)."""
        amounts = [line.amount for line in self.lines]
        if not amounts or any(a is None for a in amounts):
            return None
        return _sum([a for a in amounts if a is not None])


@dataclass(frozen=True, slots=True)
class TransportDocument:
    """``transport_document``: bill of lading, sea or air waybill, road or rail consignment
    note."""

    number: str
    document_type: str
    mode: str
    carrier: PartyRef
    place_of_loading: str
    place_of_discharge: str
    date: date
    lines: tuple[DocumentLine, ...]
    shipper: PartyRef | None = None
    consignee: PartyRef | None = None
    vessel: str | None = None
    voyage: str | None = None
    flight: str | None = None
    containers: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "transport_document"


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """``payment_record``: who paid whom, how much, for which invoices."""

    payer: PartyRef
    payee: PartyRef
    amount: Decimal
    currency: str
    date: date
    invoices: tuple[str, ...]
    bank_reference: str

    @property
    def kind(self) -> str:
        return "payment_record"


@dataclass(frozen=True, slots=True)
class CustodyStep:
    """One hand-over of a laboratory sample."""

    source: PartyRef
    to: PartyRef
    date: date


@dataclass(frozen=True, slots=True)
class Sample:
    """The sample a laboratory tested and its chain of custody."""

    id: str
    collected_by: PartyRef | None = None
    collected_on: date | None = None
    custody: tuple[CustodyStep, ...] = ()


@dataclass(frozen=True, slots=True)
class LabTest:
    """``lab_test``: an origin test (stable isotopes, DNA ...) by a laboratory."""

    laboratory: PartyRef
    method: str
    sample: Sample
    origin_country: str
    result: str
    date: date
    origin_subdivision: str | None = None
    accreditation: str | None = None
    """The laboratory's ISO/IEC 17025 accreditation id."""
    report_number: str | None = None

    @property
    def kind(self) -> str:
        return "lab_test"

    @property
    def origin_claimed(self) -> str:
        return self.origin_subdivision or self.origin_country


@dataclass(frozen=True, slots=True)
class CertificateOfOrigin:
    """``certificate_of_origin``."""

    number: str
    issued_by: PartyRef
    exporter: PartyRef
    country_of_origin: str
    date: date
    lines: tuple[DocumentLine, ...] = ()
    consignee: PartyRef | None = None
    references: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "certificate_of_origin"


@dataclass(frozen=True, slots=True)
class ProductionRecord:
    """``production_record``: a site's declared daily capacity and its output in a period."""

    site_name: str
    site_country: str
    capacity_per_day: Quantity
    period_start: date
    period_end: date
    output: Quantity
    site_subdivision: str | None = None

    @property
    def kind(self) -> str:
        return "production_record"

    @property
    def days(self) -> int:
        """Days in the period, both ends included."""
        return (self.period_end - self.period_start).days + 1

    @property
    def capacity(self) -> Quantity:
        """What the site can make in the period: capacity per day times days."""
        value = EXACT.multiply(self.capacity_per_day.value, Decimal(self.days))
        return Quantity(value, self.capacity_per_day.unit)


@dataclass(frozen=True, slots=True)
class AuditReport:
    """``audit_report``: a social-compliance or supply-chain audit."""

    auditor: PartyRef
    standard: str
    scope: str
    result: str
    date: date

    @property
    def kind(self) -> str:
        return "audit_report"


EvidenceFields = (
    TradeDocument
    | TransportDocument
    | PaymentRecord
    | LabTest
    | CertificateOfOrigin
    | ProductionRecord
    | AuditReport
)
