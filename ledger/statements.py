"""Custody statements (SPEC §3), parsed from their verbatim payload bytes.

A statement is a UTF-8 JSON object of at most 64 KiB with no duplicate keys at
any depth. :func:`parse_statement` turns the payload into one of the frozen
models below (the :data:`Statement` union) or raises
:class:`ledger.errors.StatementError`; :func:`parse_header` checks only the
common fields, for the ingest hot path. Every model keeps the verbatim
``payload`` and its ``digest`` (``"sha256:" + hex(sha256(payload))``): the
signed bytes are never rebuilt from parsed values.

Validation is hand-written (small helpers, no pydantic) so that a typical
``dispatch`` parses in a few tens of microseconds.

Formats
-------
- ``time``, ``effective``: RFC 3339 ``date-time`` in UTC with an upper-case
  ``T`` and ``Z`` (``2026-03-01T10:00:00Z``), fractional seconds allowed (kept
  to the microsecond, further digits truncated); no offsets, no leap second.
- quantities and ``mass_kg``: JSON numbers (not strings, not booleans), greater
  than 0, below 10^15, with at most 18 decimal places; parsed as exact
  :class:`~decimal.Decimal` (see :mod:`ledger.units`).
- ``id`` ``^[A-Za-z0-9._:/-]{1,128}$``; party ids ``^[a-z0-9][a-z0-9.-]{1,63}$``;
  lot ids ``^[A-Za-z0-9._:/-]{1,200}$``.
- countries: ISO 3166-1 alpha-2, upper case, known to pycountry; subdivisions:
  ISO 3166-2 (``CN-XJ``), known to pycountry and starting with the country
  of the same object.
- statement digests ``sha256:<64 lowercase hex>``; document hashes (``sha256``
  of ``documents`` items and of evidence ``document``) are bare 64 lowercase hex.
- public keys: standard, canonical base64 of 32 bytes (format only; small-order
  checks belong to :mod:`ledger.keys`).
- ``material``, ``process`` and document ``kind``: a dotted lower-case
  vocabulary ``^[a-z0-9_]+(\\.[a-z0-9_]+)*$`` (``cotton.lint``, ``spinning``,
  ``bill_of_lading``).
- names, ``address``, ``supplier``, ``port``: non-blank text of at most 1024
  characters without control characters.

Decisions where the spec is silent
----------------------------------
- Schemas are strict: an unknown field at any depth is rejected with
  ``invalid_statement.unknown_field`` (``claims`` is the one free-form object).
- ``party.identifiers`` is an object with optional ``lei`` (20 alphanumerics),
  ``duns`` (9 digits) and ``gln`` (13 digits).
- ``party.roles``, ``keys`` and evidence ``lots`` are non-empty and without
  repeats; ``documents`` may be empty.
- ``transform``: ``inputs`` is required but may be empty when
  ``external_inputs`` is not; no lot appears twice among the inputs, no output
  id twice, and no output id is also an input lot. A ``mass_kg`` next to a mass
  unit must equal the quantity's mass.
- ``dispatch.to`` must name a party other than the issuer.
- ``entry_number`` ``^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`` (``ABC-1234567-8``);
  ``hts`` 4 to 10 digits in 2-digit groups optionally dot-separated
  (``6109.10.0012``); ``port`` free text (a CBP port code or name).
- ``media_type`` is ``type/subtype`` without parameters; ``size`` an integer ≥ 0.

Error codes (``StatementError.code``; ``StatementError.field`` is the dotted path)
-------------------------------------------------------------------------------
=========================================  ============================================
``invalid_statement.too_large``            payload over 65536 bytes
``invalid_statement.bad_encoding``         payload not UTF-8
``invalid_statement.bad_json``             not JSON, NaN/Infinity, not an object, too deep
``invalid_statement.duplicate_key``        a key repeated in one object
``invalid_statement.bad_spec``             ``spec`` is not ``"custody/1"``
``invalid_statement.unknown_type``         ``type`` is not a statement type
``invalid_statement.missing_field``        a required field is absent
``invalid_statement.unknown_field``        a field the type does not define
``invalid_statement.wrong_type``           wrong JSON type (object, array, string, integer)
``invalid_statement.bad_id``               statement ``id``
``invalid_statement.bad_party_id``         ``issuer``, ``to``, ``party``, ``party.id``
``invalid_statement.bad_lot_id``           a lot id
``invalid_statement.bad_time``             ``time`` or ``effective``
``invalid_statement.bad_quantity``         a quantity or ``mass_kg``
``invalid_statement.unknown_unit``         a unit outside the list
``invalid_statement.unit_dimension``       mixing dimensions (raised by :mod:`ledger.units`)
``invalid_statement.bad_country``          ISO 3166-1 alpha-2
``invalid_statement.bad_subdivision``      ISO 3166-2, or of another country
``invalid_statement.bad_coordinate``       ``lat``/``lon`` out of range
``invalid_statement.bad_digest``           ``sha256:<hex>`` digest or document hash
``invalid_statement.bad_public_key``       not base64 of 32 bytes
``invalid_statement.unknown_role``         a role outside the list
``invalid_statement.bad_reason``           revoke ``reason``
``invalid_statement.bad_material``         a material name
``invalid_statement.empty_list``           a list that must not be empty
``invalid_statement.duplicate_value``      a repeated role, key, lot or output id
``invalid_statement.bad_value``            any other malformed value
=========================================  ============================================
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, ClassVar, Final, NoReturn

from ledger.errors import StatementError
from ledger.units import UNITS, Quantity, format_decimal

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "REVOKE_REASONS",
    "ROLES",
    "SPEC",
    "STATEMENT_TYPES",
    "Dispatch",
    "Document",
    "Evidence",
    "EvidenceDocument",
    "ExternalInput",
    "Header",
    "Import",
    "Key",
    "KeyAdd",
    "Origin",
    "OriginLot",
    "Party",
    "PartyInfo",
    "Receipt",
    "Revoke",
    "Site",
    "Statement",
    "StatementBase",
    "Transform",
    "TransformInput",
    "TransformOutput",
    "build_statement",
    "encode_statement",
    "format_time",
    "parse_header",
    "parse_statement",
    "parse_time",
    "statement_digest",
]

SPEC: Final = "custody/1"
MAX_PAYLOAD_BYTES: Final = 65536
ROLES: Final = frozenset({"supplier", "importer", "auditor", "lab", "operator"})
REVOKE_REASONS: Final = frozenset({"superseded", "compromised"})

_MAX_QUANTITY: Final = Decimal("1e15")
_MAX_DECIMALS: Final = 18
_MAX_TEXT: Final = 1024
_MAX_CLAIMS_DEPTH: Final = 32

_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_PARTY_ID = re.compile(r"[a-z0-9][a-z0-9.-]{1,63}")
_LOT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,200}")
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PUBLIC_KEY = re.compile(r"[A-Za-z0-9+/]{43}=")
_VOCABULARY = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
)
_ENTRY_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_HTS = re.compile(r"\d{4}(?:\.?\d{2}){0,3}")
_IDENTIFIERS: Final = MappingProxyType(
    {
        "lei": (re.compile(r"[A-Z0-9]{18}\d{2}"), "20 upper-case letters or digits"),
        "duns": (re.compile(r"\d{9}"), "9 digits"),
        "gln": (re.compile(r"\d{13}"), "13 digits"),
    }
)

_COMMON: Final = ("spec", "type", "id", "issuer", "time")


# ---------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------


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
        """Digests of other statements this one names (a receipt's dispatch)."""
        return ()


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
        return (self.dispatch,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence(StatementBase):
    """``evidence``: a document bound to lots."""

    type: ClassVar[str] = "evidence"

    lots: tuple[str, ...]
    kind: str
    document: EvidenceDocument
    claims: Mapping[str, Any] | None = field(default=None, hash=False)

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


#: Alias of :class:`Key` (the ``key`` statement adds a key).
KeyAdd = Key

Statement = Party | Key | Revoke | Origin | Transform | Dispatch | Receipt | Evidence | Import


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# ---------------------------------------------------------------------------------
# Small validation helpers. ``path`` is the dotted path of the value at hand.
# ---------------------------------------------------------------------------------


def _fail(code: str, path: str, message: str) -> NoReturn:
    text = f"{path}: {message}" if path else message
    raise StatementError(text, field=path or None, code=f"invalid_statement.{code}")


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, int | Decimal):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        _fail("wrong_type", path, f"must be an object, got {_show(value)}")
    return value


def _array(value: object, path: str) -> list[Any]:
    if type(value) is not list:
        _fail("wrong_type", path, f"must be an array, got {_show(value)}")
    return value


def _check_keys(
    obj: dict[str, Any], path: str, required: Sequence[str], allowed: frozenset[str]
) -> None:
    for name in required:
        if name not in obj:
            _fail("missing_field", _join(path, name), "is required")
    if len(obj) > len(required):
        for name in sorted(obj):
            if name not in allowed:
                _fail("unknown_field", _join(path, name), "is not a field of this object")


def _string(value: object, path: str) -> str:
    if type(value) is not str:
        _fail("wrong_type", path, f"must be a string, got {_show(value)}")
    return value


def _match(value: object, path: str, pattern: re.Pattern[str], code: str, expected: str) -> str:
    text = _string(value, path)
    if pattern.fullmatch(text) is None:
        _fail(code, path, f"must be {expected}, got {_show(text)}")
    return text


def _text(value: object, path: str) -> str:
    text = _string(value, path)
    if not text.strip() or len(text) > _MAX_TEXT or _CONTROL.search(text) is not None:
        _fail(
            "bad_value",
            path,
            f"must be non-blank text of at most {_MAX_TEXT} characters without control "
            f"characters, got {_show(text)}",
        )
    return text


def _statement_id(value: object, path: str) -> str:
    return _match(value, path, _ID, "bad_id", "1 to 128 of A-Z a-z 0-9 . _ : / -")


def _party_id(value: object, path: str) -> str:
    return _match(
        value, path, _PARTY_ID, "bad_party_id", "a party id matching ^[a-z0-9][a-z0-9.-]{1,63}$"
    )


def _lot_id(value: object, path: str) -> str:
    return _match(
        value, path, _LOT_ID, "bad_lot_id", "a lot id of 1 to 200 of A-Z a-z 0-9 . _ : / -"
    )


def _material(value: object, path: str) -> str:
    return _match(
        value, path, _VOCABULARY, "bad_material", "a dotted lower-case name like cotton.lint"
    )


def _vocabulary(value: object, path: str, example: str) -> str:
    return _match(value, path, _VOCABULARY, "bad_value", f"a dotted lower-case name like {example}")


def _digest(value: object, path: str) -> str:
    return _match(value, path, _DIGEST, "bad_digest", "sha256:<64 lower-case hex digits>")


def _hex64(value: object, path: str) -> str:
    return _match(value, path, _HEX64, "bad_digest", "64 lower-case hex digits")


def _public_key(value: object, path: str) -> str:
    text = _string(value, path)
    if _PUBLIC_KEY.fullmatch(text) is not None:
        raw = binascii.a2b_base64(text, strict_mode=True)
        if binascii.b2a_base64(raw, newline=False).decode("ascii") == text:
            return text
    _fail("bad_public_key", path, f"must be standard base64 of 32 bytes, got {_show(text)}")


def parse_time(value: object, path: str = "time") -> datetime:
    """An RFC 3339 UTC ``date-time`` ending in ``Z`` as an aware :class:`datetime`.

    Raises ``invalid_statement.bad_time`` (``wrong_type`` for a non-string).
    """
    text = _string(value, path)
    match = _TIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, fraction = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), micro, UTC
            )
        except ValueError:
            pass
    _fail(
        "bad_time",
        path,
        f"must be an RFC 3339 UTC time like 2026-03-01T10:00:00Z, got {_show(text)}",
    )


def format_time(moment: datetime) -> str:
    """``moment`` (aware) as RFC 3339 UTC with ``Z``; microseconds only when non-zero."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("format_time needs an aware datetime")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _positive(value: object, path: str) -> Decimal:
    kind = type(value)
    if kind is int:
        number = Decimal(value)  # type: ignore[arg-type]
    elif kind is Decimal:
        number = value  # type: ignore[assignment]
    else:
        _fail("bad_quantity", path, f"must be a number greater than 0, got {_show(value)}")
    if not number > 0:
        _fail("bad_quantity", path, f"must be a number greater than 0, got {_show(value)}")
    if number >= _MAX_QUANTITY:
        _fail("bad_quantity", path, f"must be less than 10^15, got {_show(value)}")
    if _decimal_places(number) > _MAX_DECIMALS:
        _fail(
            "bad_quantity", path, f"must have at most {_MAX_DECIMALS} decimal places, got {value}"
        )
    return number


def _decimal_places(number: Decimal) -> int:
    """Significant decimal places of a finite ``number``, independent of any context."""
    _, digits, exponent = number.as_tuple()
    if isinstance(exponent, str):
        return 0
    trailing = len(digits) - len(bytes(digits).rstrip(b"\x00"))
    return max(0, -(exponent + trailing))


def _quantity(obj: dict[str, Any], path: str) -> Quantity:
    value = _positive(obj["quantity"], _join(path, "quantity"))
    unit_path = _join(path, "unit")
    unit = _string(obj["unit"], unit_path)
    if unit not in UNITS:
        _fail("unknown_unit", unit_path, f"must be one of {', '.join(UNITS)}, got {_show(unit)}")
    return Quantity(value, unit)


def _mass_kg(obj: dict[str, Any], path: str, quantity: Quantity) -> Decimal | None:
    if "mass_kg" not in obj:
        return None
    mass_path = _join(path, "mass_kg")
    mass = _positive(obj["mass_kg"], mass_path)
    kg = quantity.kg
    if kg is not None and kg != mass:
        _fail(
            "bad_quantity",
            mass_path,
            f"contradicts the quantity {quantity} ({format_decimal(kg)} kg), got {mass}",
        )
    return mass


@cache
def _countries() -> frozenset[str]:
    import pycountry

    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _subdivisions() -> frozenset[str]:
    import pycountry

    return frozenset(sub.code for sub in pycountry.subdivisions)


def _country(value: object, path: str) -> str:
    text = _string(value, path)
    if _COUNTRY.fullmatch(text) is None or text not in _countries():
        _fail("bad_country", path, f"must be an ISO 3166-1 alpha-2 country code, got {_show(text)}")
    return text


def _subdivision(value: object, path: str, country: str) -> str:
    text = _string(value, path)
    if _SUBDIVISION.fullmatch(text) is None or text not in _subdivisions():
        _fail(
            "bad_subdivision",
            path,
            f"must be an ISO 3166-2 subdivision code like CN-XJ, got {_show(text)}",
        )
    if not text.startswith(country + "-"):
        _fail("bad_subdivision", path, f"must be a subdivision of {country}, got {_show(text)}")
    return text


def _optional_subdivision(obj: dict[str, Any], path: str, country: str) -> str | None:
    if "subdivision" not in obj:
        return None
    return _subdivision(obj["subdivision"], _join(path, "subdivision"), country)


def _coordinate(obj: dict[str, Any], path: str, name: str, limit: int) -> Decimal | None:
    if name not in obj:
        return None
    value = obj[name]
    where = _join(path, name)
    kind = type(value)
    if kind is not int and kind is not Decimal:
        _fail("wrong_type", where, f"must be a number, got {_show(value)}")
    number = Decimal(value)
    if not -limit <= number <= limit:
        _fail("bad_coordinate", where, f"must lie between -{limit} and {limit}, got {value}")
    return number


def _unique_list(items: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item in seen:
            _fail("duplicate_value", f"{path}[{index}]", f"repeats {what} {_show(item)}")
        seen.add(item)


def _nonempty(items: list[Any], path: str) -> None:
    if not items:
        _fail("empty_list", path, "must not be empty")


def _freeze(value: Any, path: str, depth: int = 0) -> Any:
    if depth > _MAX_CLAIMS_DEPTH:
        _fail("bad_value", path, f"is nested more than {_MAX_CLAIMS_DEPTH} levels deep")
    if type(value) is dict:
        return MappingProxyType(
            {key: _freeze(item, _join(path, key), depth + 1) for key, item in value.items()}
        )
    if type(value) is list:
        return tuple(_freeze(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return value


# ---------------------------------------------------------------------------------
# Sub-objects
# ---------------------------------------------------------------------------------

_SITE_REQUIRED: Final = ("name", "country")
_SITE_ALLOWED: Final = frozenset({"name", "country", "subdivision", "lat", "lon"})


def _site(value: object, path: str) -> Site:
    obj = _object(value, path)
    _check_keys(obj, path, _SITE_REQUIRED, _SITE_ALLOWED)
    name = _text(obj["name"], _join(path, "name"))
    country = _country(obj["country"], _join(path, "country"))
    return Site(
        name=name,
        country=country,
        subdivision=_optional_subdivision(obj, path, country),
        lat=_coordinate(obj, path, "lat", 90),
        lon=_coordinate(obj, path, "lon", 180),
    )


_PARTY_REQUIRED: Final = ("id", "name", "country", "roles")
_PARTY_ALLOWED: Final = frozenset({*_PARTY_REQUIRED, "subdivision", "address", "identifiers"})


def _party_info(value: object, path: str) -> PartyInfo:
    obj = _object(value, path)
    _check_keys(obj, path, _PARTY_REQUIRED, _PARTY_ALLOWED)
    party_id = _party_id(obj["id"], _join(path, "id"))
    name = _text(obj["name"], _join(path, "name"))
    country = _country(obj["country"], _join(path, "country"))
    subdivision = _optional_subdivision(obj, path, country)
    address = _text(obj["address"], _join(path, "address")) if "address" in obj else None
    roles_path = _join(path, "roles")
    roles = _array(obj["roles"], roles_path)
    _nonempty(roles, roles_path)
    for index, role in enumerate(roles):
        role_path = f"{roles_path}[{index}]"
        if _string(role, role_path) not in ROLES:
            _fail(
                "unknown_role",
                role_path,
                f"must be one of {', '.join(sorted(ROLES))}, got {_show(role)}",
            )
    _unique_list(roles, roles_path, "role")
    identifiers: dict[str, str] = {}
    if "identifiers" in obj:
        ids_path = _join(path, "identifiers")
        ids = _object(obj["identifiers"], ids_path)
        _check_keys(ids, ids_path, (), frozenset(_IDENTIFIERS))
        for scheme, (pattern, expected) in _IDENTIFIERS.items():
            if scheme in ids:
                identifiers[scheme] = _match(
                    ids[scheme], _join(ids_path, scheme), pattern, "bad_value", expected
                )
    return PartyInfo(
        id=party_id,
        name=name,
        country=country,
        roles=tuple(roles),
        subdivision=subdivision,
        address=address,
        identifiers=MappingProxyType(identifiers),
    )


_LOT_REQUIRED: Final = ("id", "material", "quantity", "unit")
_LOT_ALLOWED: Final = frozenset(_LOT_REQUIRED)


def _origin_lot(value: object, path: str) -> OriginLot:
    obj = _object(value, path)
    _check_keys(obj, path, _LOT_REQUIRED, _LOT_ALLOWED)
    return OriginLot(
        id=_lot_id(obj["id"], _join(path, "id")),
        material=_material(obj["material"], _join(path, "material")),
        quantity=_quantity(obj, path),
    )


_INPUT_REQUIRED: Final = ("lot", "quantity", "unit")
_INPUT_ALLOWED: Final = frozenset({*_INPUT_REQUIRED, "mass_kg"})


def _transform_input(value: object, path: str) -> TransformInput:
    obj = _object(value, path)
    _check_keys(obj, path, _INPUT_REQUIRED, _INPUT_ALLOWED)
    lot = _lot_id(obj["lot"], _join(path, "lot"))
    quantity = _quantity(obj, path)
    return TransformInput(lot=lot, quantity=quantity, mass_kg=_mass_kg(obj, path, quantity))


_EXTERNAL_REQUIRED: Final = ("material", "quantity", "unit", "country")
_EXTERNAL_ALLOWED: Final = frozenset({*_EXTERNAL_REQUIRED, "supplier", "subdivision", "mass_kg"})


def _external_input(value: object, path: str) -> ExternalInput:
    obj = _object(value, path)
    _check_keys(obj, path, _EXTERNAL_REQUIRED, _EXTERNAL_ALLOWED)
    material = _material(obj["material"], _join(path, "material"))
    quantity = _quantity(obj, path)
    country = _country(obj["country"], _join(path, "country"))
    return ExternalInput(
        material=material,
        quantity=quantity,
        country=country,
        supplier=_text(obj["supplier"], _join(path, "supplier")) if "supplier" in obj else None,
        subdivision=_optional_subdivision(obj, path, country),
        mass_kg=_mass_kg(obj, path, quantity),
    )


_OUTPUT_REQUIRED: Final = ("id", "material", "quantity", "unit")
_OUTPUT_ALLOWED: Final = frozenset({*_OUTPUT_REQUIRED, "mass_kg"})


def _transform_output(value: object, path: str) -> TransformOutput:
    obj = _object(value, path)
    _check_keys(obj, path, _OUTPUT_REQUIRED, _OUTPUT_ALLOWED)
    lot = _lot_id(obj["id"], _join(path, "id"))
    material = _material(obj["material"], _join(path, "material"))
    quantity = _quantity(obj, path)
    return TransformOutput(
        id=lot, material=material, quantity=quantity, mass_kg=_mass_kg(obj, path, quantity)
    )


_DOCUMENT_REQUIRED: Final = ("sha256", "kind", "name")
_DOCUMENT_ALLOWED: Final = frozenset(_DOCUMENT_REQUIRED)


def _document(value: object, path: str) -> Document:
    obj = _object(value, path)
    _check_keys(obj, path, _DOCUMENT_REQUIRED, _DOCUMENT_ALLOWED)
    return Document(
        sha256=_hex64(obj["sha256"], _join(path, "sha256")),
        kind=_vocabulary(obj["kind"], _join(path, "kind"), "bill_of_lading"),
        name=_text(obj["name"], _join(path, "name")),
    )


_EVIDENCE_DOC_REQUIRED: Final = ("sha256", "name", "media_type", "size")
_EVIDENCE_DOC_ALLOWED: Final = frozenset(_EVIDENCE_DOC_REQUIRED)


def _evidence_document(value: object, path: str) -> EvidenceDocument:
    obj = _object(value, path)
    _check_keys(obj, path, _EVIDENCE_DOC_REQUIRED, _EVIDENCE_DOC_ALLOWED)
    size_path = _join(path, "size")
    size = obj["size"]
    if type(size) is not int:
        _fail("wrong_type", size_path, f"must be an integer, got {_show(size)}")
    if size < 0:
        _fail("bad_value", size_path, f"must be 0 or more, got {size}")
    return EvidenceDocument(
        sha256=_hex64(obj["sha256"], _join(path, "sha256")),
        name=_text(obj["name"], _join(path, "name")),
        media_type=_match(
            obj["media_type"],
            _join(path, "media_type"),
            _MEDIA_TYPE,
            "bad_value",
            "a media type like application/pdf",
        ),
        size=size,
    )


# ---------------------------------------------------------------------------------
# Statement bodies. Each takes the top-level object and the common fields.
# ---------------------------------------------------------------------------------

_Common = dict[str, Any]


def _party(obj: dict[str, Any], common: _Common) -> Party:
    keys = _array(obj["keys"], "keys")
    _nonempty(keys, "keys")
    for index, key in enumerate(keys):
        _public_key(key, f"keys[{index}]")
    _unique_list(keys, "keys", "key")
    return Party(party=_party_info(obj["party"], "party"), keys=tuple(keys), **common)


def _key(obj: dict[str, Any], common: _Common) -> Key:
    return Key(
        party=_party_id(obj["party"], "party"),
        public_key=_public_key(obj["public_key"], "public_key"),
        **common,
    )


def _revoke(obj: dict[str, Any], common: _Common) -> Revoke:
    party = _party_id(obj["party"], "party")
    public_key = _public_key(obj["public_key"], "public_key")
    reason = _string(obj["reason"], "reason")
    if reason not in REVOKE_REASONS:
        _fail("bad_reason", "reason", f"must be superseded or compromised, got {_show(reason)}")
    effective = parse_time(obj["effective"], "effective") if "effective" in obj else None
    return Revoke(party=party, public_key=public_key, reason=reason, effective=effective, **common)


def _origin(obj: dict[str, Any], common: _Common) -> Origin:
    return Origin(lot=_origin_lot(obj["lot"], "lot"), site=_site(obj["site"], "site"), **common)


def _transform(obj: dict[str, Any], common: _Common) -> Transform:
    process = _vocabulary(obj["process"], "process", "spinning")
    inputs = tuple(
        _transform_input(item, f"inputs[{i}]")
        for i, item in enumerate(_array(obj["inputs"], "inputs"))
    )
    externals: tuple[ExternalInput, ...] = ()
    if "external_inputs" in obj:
        externals = tuple(
            _external_input(item, f"external_inputs[{i}]")
            for i, item in enumerate(_array(obj["external_inputs"], "external_inputs"))
        )
    if not inputs and not externals:
        _fail("empty_list", "inputs", "must not be empty when there are no external_inputs")
    outputs_raw = _array(obj["outputs"], "outputs")
    _nonempty(outputs_raw, "outputs")
    outputs = tuple(_transform_output(item, f"outputs[{i}]") for i, item in enumerate(outputs_raw))
    consumed = [item.lot for item in inputs]
    _unique_list(consumed, "inputs", "lot")
    produced = [item.id for item in outputs]
    _unique_list(produced, "outputs", "lot")
    consumed_set = set(consumed)
    for index, lot in enumerate(produced):
        if lot in consumed_set:
            _fail("duplicate_value", f"outputs[{index}].id", f"{_show(lot)} is also an input")
    return Transform(
        process=process,
        inputs=inputs,
        external_inputs=externals,
        outputs=outputs,
        site=_site(obj["site"], "site"),
        **common,
    )


def _dispatch(obj: dict[str, Any], common: _Common) -> Dispatch:
    lot = _lot_id(obj["lot"], "lot")
    quantity = _quantity(obj, "")
    to = _party_id(obj["to"], "to")
    if to == common["issuer"]:
        _fail("bad_value", "to", f"must be another party than the issuer, got {_show(to)}")
    documents: tuple[Document, ...] = ()
    if "documents" in obj:
        documents = tuple(
            _document(item, f"documents[{i}]")
            for i, item in enumerate(_array(obj["documents"], "documents"))
        )
    return Dispatch(lot=lot, quantity=quantity, to=to, documents=documents, **common)


def _receipt(obj: dict[str, Any], common: _Common) -> Receipt:
    return Receipt(
        dispatch=_digest(obj["dispatch"], "dispatch"), quantity=_quantity(obj, ""), **common
    )


def _evidence(obj: dict[str, Any], common: _Common) -> Evidence:
    lots = _array(obj["lots"], "lots")
    _nonempty(lots, "lots")
    for index, lot in enumerate(lots):
        _lot_id(lot, f"lots[{index}]")
    _unique_list(lots, "lots", "lot")
    kind = _vocabulary(obj["kind"], "kind", "audit_report")
    document = _evidence_document(obj["document"], "document")
    claims = None
    if "claims" in obj:
        claims = _freeze(_object(obj["claims"], "claims"), "claims")
    return Evidence(lots=tuple(lots), kind=kind, document=document, claims=claims, **common)


def _import(obj: dict[str, Any], common: _Common) -> Import:
    lot = _lot_id(obj["lot"], "lot")
    quantity = _quantity(obj, "")
    entry = _match(
        obj["entry_number"],
        "entry_number",
        _ENTRY_NUMBER,
        "bad_value",
        "a CBP entry number like ABC-1234567-8",
    )
    hts = None
    if "hts" in obj:
        hts = _match(obj["hts"], "hts", _HTS, "bad_value", "an HTS code like 6109.10.0012")
    port = _text(obj["port"], "port") if "port" in obj else None
    origin = (
        _country(obj["country_of_origin"], "country_of_origin")
        if "country_of_origin" in obj
        else None
    )
    return Import(
        lot=lot,
        quantity=quantity,
        entry_number=entry,
        hts=hts,
        port=port,
        country_of_origin=origin,
        **common,
    )


_Parser = Callable[[dict[str, Any], _Common], Statement]


@dataclass(frozen=True, slots=True)
class _Schema:
    required: tuple[str, ...]
    allowed: frozenset[str]
    parse: _Parser


def _schema(required: tuple[str, ...], optional: tuple[str, ...], parse: _Parser) -> _Schema:
    body_required = _COMMON + required
    return _Schema(body_required, frozenset((*body_required, *optional)), parse)


_SCHEMAS: Final = MappingProxyType(
    {
        "party": _schema(("party", "keys"), (), _party),
        "key": _schema(("party", "public_key"), (), _key),
        "revoke": _schema(("party", "public_key", "reason"), ("effective",), _revoke),
        "origin": _schema(("lot", "site"), (), _origin),
        "transform": _schema(
            ("process", "inputs", "outputs", "site"), ("external_inputs",), _transform
        ),
        "dispatch": _schema(("lot", "quantity", "unit", "to"), ("documents",), _dispatch),
        "receipt": _schema(("dispatch", "quantity", "unit"), (), _receipt),
        "evidence": _schema(("lots", "kind", "document"), ("claims",), _evidence),
        "import": _schema(
            ("lot", "quantity", "unit", "entry_number"),
            ("hts", "port", "country_of_origin"),
            _import,
        ),
    }
)

#: Statement type name → model class.
STATEMENT_TYPES: Final[Mapping[str, type[StatementBase]]] = MappingProxyType(
    {
        "party": Party,
        "key": Key,
        "revoke": Revoke,
        "origin": Origin,
        "transform": Transform,
        "dispatch": Dispatch,
        "receipt": Receipt,
        "evidence": Evidence,
        "import": Import,
    }
)


# ---------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=Decimal, parse_constant=_no_constant
)


class _Duplicated(dict[str, Any]):
    """Marks the object holding a duplicate key while locating it (slow path)."""

    duplicate: str = ""


def _marking_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    try:
        return _pairs(pairs)
    except _DuplicateKeyError as error:
        marked = _Duplicated(pairs)
        marked.duplicate = error.key
        return marked


def _find_duplicate(value: Any, path: str) -> str | None:
    if isinstance(value, _Duplicated):
        return _join(path, value.duplicate)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_duplicate(item, _join(path, key))
            if found is not None:
                return found
    elif type(value) is list:
        for index, item in enumerate(value):
            found = _find_duplicate(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _duplicate_path(text: str, key: str) -> str:
    try:
        tree = json.loads(
            text,
            object_pairs_hook=_marking_pairs,
            parse_float=Decimal,
            parse_constant=_no_constant,
        )
        return _find_duplicate(tree, "") or key
    except (ValueError, ArithmeticError, RecursionError):
        return key


def _decode(payload: bytes) -> dict[str, Any]:
    if type(payload) is not bytes:
        payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise StatementError(
            f"statement is {len(payload)} bytes, more than the {MAX_PAYLOAD_BYTES} allowed",
            code="invalid_statement.too_large",
            details={"size": len(payload), "limit": MAX_PAYLOAD_BYTES},
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StatementError(
            f"statement is not UTF-8: {error.reason} at byte {error.start}",
            code="invalid_statement.bad_encoding",
        ) from error
    try:
        tree = _DECODER.decode(text)
    except _DuplicateKeyError as error:
        where = _duplicate_path(text, error.key)
        raise StatementError(
            f"{where}: duplicate key {_show(error.key)}",
            field=where,
            code="invalid_statement.duplicate_key",
        ) from error
    except ArithmeticError as error:
        raise StatementError(
            "statement is not valid JSON: a number is out of range",
            code="invalid_statement.bad_json",
        ) from error
    except (ValueError, RecursionError) as error:
        raise StatementError(
            f"statement is not valid JSON: {error}", code="invalid_statement.bad_json"
        ) from error
    if type(tree) is not dict:
        raise StatementError(
            f"statement must be a JSON object, got {_show(tree)}", code="invalid_statement.bad_json"
        )
    return tree


def _common(obj: dict[str, Any]) -> tuple[str, str, str, datetime]:
    for name in _COMMON:
        if name not in obj:
            _fail("missing_field", name, "is required")
    spec = obj["spec"]
    if spec != SPEC or type(spec) is not str:
        _fail("bad_spec", "spec", f'must be "{SPEC}", got {_show(spec)}')
    kind = _string(obj["type"], "type")
    if kind not in _SCHEMAS:
        _fail("unknown_type", "type", f"must be one of {', '.join(_SCHEMAS)}, got {_show(kind)}")
    return (
        kind,
        _statement_id(obj["id"], "id"),
        _party_id(obj["issuer"], "issuer"),
        parse_time(obj["time"], "time"),
    )


def statement_digest(payload: bytes) -> str:
    """``"sha256:" + hex(sha256(payload))``: how statements reference each other."""
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def parse_header(payload: bytes) -> Header:
    """Decode ``payload`` and check only the common fields (SPEC §3).

    The payload must still be a well-formed statement object (size, UTF-8,
    JSON, no duplicate keys); the type-specific fields are not checked.
    """
    obj = _decode(payload)
    kind, statement_id, issuer, time = _common(obj)
    return Header(spec=SPEC, type=kind, id=statement_id, issuer=issuer, time=time)


def parse_statement(payload: bytes) -> Statement:
    """Parse and validate the verbatim ``payload`` of a statement (SPEC §3).

    Raises :class:`~ledger.errors.StatementError` with a specific ``code`` and
    the dotted ``field`` path of the first problem found.
    """
    obj = _decode(payload)
    kind, statement_id, issuer, time = _common(obj)
    schema = _SCHEMAS[kind]
    _check_keys(obj, "", schema.required, schema.allowed)
    common: _Common = {
        "id": statement_id,
        "issuer": issuer,
        "time": time,
        "payload": bytes(payload),
        "digest": statement_digest(payload),
    }
    return schema.parse(obj, common)


# ---------------------------------------------------------------------------------
# Encoding (CLI builders)
# ---------------------------------------------------------------------------------


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif value is None or isinstance(value, bool):
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value} as a JSON number")
        exponent = value.as_tuple().exponent
        small = isinstance(exponent, int) and abs(exponent) <= 64
        out.append(format_decimal(value) if small else str(value))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in statements; use Decimal")
    elif isinstance(value, datetime):
        out.append(json.dumps(format_time(value)))
    elif isinstance(value, Quantity):
        raise TypeError("encode a Quantity as separate quantity and unit fields")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in a statement")


def encode_statement(obj: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON of ``obj``: sorted keys, no spaces, Decimals as exact numbers.

    Accepts str, int, bool, None, Decimal, aware datetime (written as RFC 3339
    ``Z``), mappings and lists/tuples; refuses floats.
    """
    out: list[str] = []
    _encode(obj, out)
    return "".join(out).encode("utf-8")


def build_statement(
    type: str,
    id: str,
    issuer: str,
    time: datetime | str,
    **body: Any,
) -> bytes:
    """The payload of a ``custody/1`` statement, validated by :func:`parse_statement`.

    ``time`` may be an aware datetime or an RFC 3339 string; ``body`` holds
    the type's fields (Decimal quantities). Raises ``StatementError``.
    """
    for name in _COMMON:
        if name in body:
            raise TypeError(f"{name!r} is set by build_statement")
    document = {"spec": SPEC, "type": type, "id": id, "issuer": issuer, "time": time, **body}
    payload = encode_statement(document)
    parse_statement(payload)
    return payload
