"""The statement models: one frozen dataclass per statement type (SPEC §3).

Every model keeps the verbatim ``payload`` and its ``digest``; the parsers in
:mod:`ledger.statements.bodies` build them, nothing else does.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final

from ledger.statements.evidence_models import EvidenceFields
from ledger.units import Quantity

SPEC: Final = "custody/1"
MAX_PAYLOAD_BYTES: Final = 65536
ROLES: Final = frozenset({"supplier", "importer", "auditor", "lab", "operator"})
REVOKE_REASONS: Final = frozenset({"superseded", "compromised"})


@dataclass(frozen=True, slots=True)
class Site:
    """Where something happened: ``{"name", "country", "subdivision"?, "lat"?, "lon"?}``."""

    name: str
    country: str
    subdivision: str | None = None
    lat: Decimal | None = None
    lon: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PartyInfo:
    """The organisation a ``party`` statement registers."""

    id: str
    name: str
    country: str
    roles: tuple[str, ...]
    subdivision: str | None = None
    address: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    glns: tuple[str, ...] = ()
    """GS1 Global Location Numbers of the party (check digits validated)."""


@dataclass(frozen=True, slots=True)
class OriginLot:
    """The lot an ``origin`` statement creates."""

    id: str
    material: str
    quantity: Quantity


@dataclass(frozen=True, slots=True)
class TransformInput:
    """A ledger lot consumed by a ``transform``."""

    lot: str
    quantity: Quantity
    mass_kg: Decimal | None = None

    @property
    def kg(self) -> Decimal | None:
        """The mass consumed: the quantity's mass, else the declared ``mass_kg``."""
        kg = self.quantity.kg
        return self.mass_kg if kg is None else kg


@dataclass(frozen=True, slots=True)
class ExternalInput:
    """Material consumed by a ``transform`` that does not come from the ledger."""

    material: str
    quantity: Quantity
    country: str
    supplier: str | None = None
    subdivision: str | None = None
    mass_kg: Decimal | None = None

    @property
    def kg(self) -> Decimal | None:
        """The mass consumed: the quantity's mass, else the declared ``mass_kg``."""
        kg = self.quantity.kg
        return self.mass_kg if kg is None else kg


@dataclass(frozen=True, slots=True)
class TransformOutput:
    """A lot produced by a ``transform``."""

    id: str
    material: str
    quantity: Quantity
    mass_kg: Decimal | None = None

    @property
    def kg(self) -> Decimal | None:
        """The mass produced: the quantity's mass, else the declared ``mass_kg``."""
        kg = self.quantity.kg
        return self.mass_kg if kg is None else kg


@dataclass(frozen=True, slots=True)
class Document:
    """A ``documents`` item of a ``dispatch``: ``{sha256, kind, name}``."""

    sha256: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class EvidenceDocument:
    """The ``document`` of an ``evidence`` statement."""

    sha256: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Header:
    """The common fields of a statement (:func:`parse_header`)."""

    spec: str
    type: str
    id: str
    issuer: str
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementBase:
    """Fields and accessors shared by every statement type."""

    type: ClassVar[str] = ""

    id: str
    issuer: str
    time: datetime
    payload: bytes = field(repr=False)
    digest: str
    replaces: str | None = None
    """The digest of an earlier statement of the issuer this one corrects (retracts)."""

    @property
    def key(self) -> tuple[str, str]:
        """``(issuer, id)``, unique in the ledger."""
        return (self.issuer, self.id)

    def lots_created(self) -> tuple[str, ...]:
        """Lot ids this statement creates (``origin``, ``transform`` outputs)."""
        return ()

    def draws(self) -> tuple[tuple[str, Quantity], ...]:
        """``(lot, quantity)`` drawn on the issuer's holding (transform, dispatch, import)."""
        return ()

    def lots_referenced(self) -> tuple[str, ...]:
        """Every lot id the statement names, without repeats, in order."""
        return _unique((*self.lots_created(), *(lot for lot, _ in self.draws())))

    def parties_referenced(self) -> tuple[str, ...]:
        """The issuer and every party the statement names, without repeats."""
        return (self.issuer,)

    def statements_referenced(self) -> tuple[str, ...]:
        """Digests of other statements this one names (a receipt's dispatch, ``replaces``)."""
        return () if self.replaces is None else (self.replaces,)

    def retracts(self) -> str | None:
        """The digest of the statement this one voids: a ``retract``'s target or ``replaces``."""
        return self.replaces


@dataclass(frozen=True, slots=True, kw_only=True)
class Party(StatementBase):
    """``party``: the operator registers a party and its first keys."""

    type: ClassVar[str] = "party"

    party: PartyInfo
    keys: tuple[str, ...]

    @property
    def public_keys(self) -> tuple[bytes, ...]:
        """``keys`` decoded to their 32 raw bytes each."""
        return tuple(binascii.a2b_base64(key) for key in self.keys)

    def parties_referenced(self) -> tuple[str, ...]:
        return _unique((self.issuer, self.party.id))


@dataclass(frozen=True, slots=True, kw_only=True)
class Key(StatementBase):
    """``key``: adds a public key to a party."""

    type: ClassVar[str] = "key"

    party: str
    public_key: str

    @property
    def public_key_bytes(self) -> bytes:
        """``public_key`` decoded to its 32 raw bytes."""
        return binascii.a2b_base64(self.public_key)

    def parties_referenced(self) -> tuple[str, ...]:
        return _unique((self.issuer, self.party))


@dataclass(frozen=True, slots=True, kw_only=True)
class Revoke(StatementBase):
    """``revoke``: revokes a party's key, optionally from an ``effective`` time."""

    type: ClassVar[str] = "revoke"

    party: str
    public_key: str
    reason: str
    effective: datetime | None = None

    @property
    def public_key_bytes(self) -> bytes:
        """``public_key`` decoded to its 32 raw bytes."""
        return binascii.a2b_base64(self.public_key)

    def parties_referenced(self) -> tuple[str, ...]:
        return _unique((self.issuer, self.party))


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin(StatementBase):
    """``origin``: the issuer first produced this lot at this site."""

    type: ClassVar[str] = "origin"

    lot: OriginLot
    site: Site

    def lots_created(self) -> tuple[str, ...]:
        return (self.lot.id,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transform(StatementBase):
    """``transform``: the issuer consumed inputs and produced new lots."""

    type: ClassVar[str] = "transform"

    process: str
    inputs: tuple[TransformInput, ...]
    outputs: tuple[TransformOutput, ...]
    site: Site
    external_inputs: tuple[ExternalInput, ...] = ()

    def lots_created(self) -> tuple[str, ...]:
        return tuple(output.id for output in self.outputs)

    def draws(self) -> tuple[tuple[str, Quantity], ...]:
        return tuple((item.lot, item.quantity) for item in self.inputs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispatch(StatementBase):
    """``dispatch``: the issuer hands (part of) its holding of a lot to ``to``."""

    type: ClassVar[str] = "dispatch"

    lot: str
    quantity: Quantity
    to: str
    documents: tuple[Document, ...] = ()

    def draws(self) -> tuple[tuple[str, Quantity], ...]:
        return ((self.lot, self.quantity),)

    def parties_referenced(self) -> tuple[str, ...]:
        return _unique((self.issuer, self.to))


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt(StatementBase):
    """``receipt``: the addressee confirms a dispatch; custody moves now."""

    type: ClassVar[str] = "receipt"

    dispatch: str
    quantity: Quantity

    def statements_referenced(self) -> tuple[str, ...]:
        return (self.dispatch,) if self.replaces is None else (self.dispatch, self.replaces)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence(StatementBase):
    """``evidence``: a document bound to lots."""

    type: ClassVar[str] = "evidence"

    lots: tuple[str, ...]
    kind: str
    document: EvidenceDocument
    claims: Mapping[str, Any] | None = field(default=None, hash=False)
    fields: EvidenceFields | None = field(default=None, hash=False)
    """The typed fields of a typed kind (:mod:`ledger.statements.evidence`), else None."""

    def lots_referenced(self) -> tuple[str, ...]:
        return self.lots


@dataclass(frozen=True, slots=True, kw_only=True)
class Import(StatementBase):
    """``import``: the importer declares a lot it holds as the goods of a CBP entry."""

    type: ClassVar[str] = "import"

    lot: str
    quantity: Quantity
    entry_number: str
    hts: str | None = None
    port: str | None = None
    country_of_origin: str | None = None

    def draws(self) -> tuple[tuple[str, Quantity], ...]:
        return ((self.lot, self.quantity),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Retract(StatementBase):
    """``retract``: the issuer voids one of its own earlier statements, with a reason.

    The custody rules (:mod:`ledger.custody.retraction`) allow it only while
    nothing downstream has used what the target did."""

    type: ClassVar[str] = "retract"

    statement: str
    reason: str

    def statements_referenced(self) -> tuple[str, ...]:
        return (self.statement,)

    def retracts(self) -> str | None:
        return self.statement


#: Alias of :class:`Key` (the ``key`` statement adds a key).
KeyAdd = Key

Statement = (
    Party | Key | Revoke | Origin | Transform | Dispatch | Receipt | Evidence | Import | Retract
)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
