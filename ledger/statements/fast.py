"""The fast path of :func:`~ledger.statements.parse_statement` for payloads in the form
the encoders write: compact JSON, keys sorted, no string escapes.

One pattern per statement type (:mod:`~ledger.statements.fast_patterns`) reads such a
payload whole: no JSON parse, no walk of a tree, no helper call per field. What a
pattern cannot vouch for alone (a time on the calendar, a known country, a non-blank
name, a canonical key, a positive quantity, unique lots, a ``mass_kg`` that agrees)
is checked here by the same rules as the validators of
:mod:`~ledger.statements.fields`, and the models are built from the checked values.

Anything else returns ``None`` and goes to the full strict path: another key order,
whitespace, an escape, a field or a type no pattern covers (``party``, ``evidence``,
``external_inputs``), a value in doubt. So the fast path decides only what it can
decide alone, and every error is raised by the full path, with its code, field and
message (``tests/ledger/test_statement_fast_path.py`` compares both on valid
statements of every type and on thousands of edits of them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from ledger.errors import StatementError
from ledger.statements.fast_patterns import (
    DOCUMENT_ITEM,
    INPUT_ITEM,
    OUTPUT_ITEM,
    PATTERNS,
    SITE_GROUPS,
)
from ledger.statements.fields import _countries, _public_key, _subdivisions
from ledger.statements.models import (
    MAX_PAYLOAD_BYTES,
    Dispatch,
    Document,
    Import,
    Key,
    Origin,
    OriginLot,
    Receipt,
    Retract,
    Revoke,
    Site,
    Statement,
    Transform,
    TransformInput,
    TransformOutput,
)
from ledger.statements.times import parse_time
from ledger.units import Quantity, trusted_quantity

_T = TypeVar("_T")


def _maker(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen, slotted dataclass ``cls`` for values checked already.

    It takes the fields by name, with the dataclass's defaults, and sets each slot
    directly: the generated ``__init__`` of a frozen dataclass goes through
    ``object.__setattr__`` once a field, which costs more than the parse of the field.
    The models have no ``__post_init__``; the instance is the one ``cls(...)`` makes.
    """
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params: list[str] = []
    sets: list[str] = []
    for index, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        if field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: a default factory is not supported")
        namespace[f"_set{index}"] = getattr(cls, field.name).__set__
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            namespace[f"_default{index}"] = field.default
            params.append(f"{field.name}=_default{index}")
        sets.append(f"    _set{index}(self, {field.name})\n")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    source = f"def make(*, {', '.join(params)}):\n    self = _new(_cls)\n"
    exec(source + "".join(sets) + "    return self\n", namespace)  # noqa: S102
    make: Callable[..., _T] = namespace["make"]
    return make


_SITE = _maker(Site)
_ORIGIN_LOT = _maker(OriginLot)
_INPUT = _maker(TransformInput)
_OUTPUT = _maker(TransformOutput)
_DOCUMENT = _maker(Document)
_KEY = _maker(Key)
_REVOKE = _maker(Revoke)
_ORIGIN = _maker(Origin)
_TRANSFORM = _maker(Transform)
_DISPATCH = _maker(Dispatch)
_RECEIPT = _maker(Receipt)
_IMPORT = _maker(Import)
_RETRACT = _maker(Retract)


class _RefusedError(Exception):
    """A value the fast path does not vouch for: the full path decides."""


def _quantity(text: str, unit: str) -> Quantity:
    value = Decimal(text)
    if not value > 0:
        raise _RefusedError
    return trusted_quantity(value, unit)


def _mass_kg(text: str | None, quantity: Quantity) -> Decimal | None:
    if text is None:
        return None
    mass = Decimal(text)
    kg = quantity.kg
    if not mass > 0 or (kg is not None and kg != mass):
        raise _RefusedError
    return mass


def _time(text: str, path: str) -> datetime:
    # the pattern is ``parse_time``'s; without a fraction it reads the text the same way
    return datetime.fromisoformat(text) if len(text) == 20 else parse_time(text, path)


def _text(text: str) -> str:
    if not text.strip():
        raise _RefusedError
    return text


def _country(text: str) -> str:
    if text not in _countries():
        raise _RefusedError
    return text


def _subdivision(text: str | None, country: str) -> str | None:
    if text is not None and (text not in _subdivisions() or not text.startswith(country + "-")):
        raise _RefusedError
    return text


def _coordinate(text: str | None, limit: int) -> Decimal | None:
    if text is None:
        return None
    number = Decimal(text)
    if not -limit <= number <= limit:
        raise _RefusedError
    return number


def _site(match: re.Match[str]) -> Site:
    name, country, subdivision, lat, lon = match.group(*SITE_GROUPS)
    return _SITE(
        name=_text(name),
        country=_country(country),
        subdivision=_subdivision(subdivision, country),
        lat=_coordinate(lat, 90),
        lon=_coordinate(lon, 180),
    )


def _each(pattern: re.Pattern[str], array: str) -> list[re.Match[str]]:
    """The matches of the items of ``array``, whose form the statement's pattern checked."""
    found: list[re.Match[str]] = []
    position, end = 1, len(array) - 1
    while position < end:
        match = pattern.match(array, position)
        if match is None:
            raise _RefusedError
        found.append(match)
        position = match.end() + 1
    return found


def _unique(items: list[str]) -> None:
    if len(set(items)) != len(items):
        raise _RefusedError


_Common = tuple[str, str, datetime, bytes, str]
_Build = Callable[[re.Match[str], _Common], Statement]


def _key(m: re.Match[str], c: _Common) -> Statement:
    party, public_key = m.group("party", "public_key")
    return _KEY(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        party=party,
        public_key=_public_key(public_key, "public_key"),
    )


def _revoke(m: re.Match[str], c: _Common) -> Statement:
    party, public_key, reason, effective = m.group("party", "public_key", "reason", "effective")
    return _REVOKE(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        party=party,
        public_key=_public_key(public_key, "public_key"),
        reason=reason,
        effective=None if effective is None else _time(effective, "effective"),
    )


def _origin(m: re.Match[str], c: _Common) -> Statement:
    lot, material, quantity, unit = m.group("lot_id", "lot_material", "lot_quantity", "lot_unit")
    return _ORIGIN(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=m.group("replaces"),
        lot=_ORIGIN_LOT(id=lot, material=material, quantity=_quantity(quantity, unit)),
        site=_site(m),
    )


def _transform(m: re.Match[str], c: _Common) -> Statement:
    inputs: list[TransformInput] = []
    for item in _each(INPUT_ITEM, m.group("inputs")):
        lot, quantity, unit, mass = item.group("lot", "quantity", "unit", "mass_kg")
        amount = _quantity(quantity, unit)
        inputs.append(_INPUT(lot=lot, quantity=amount, mass_kg=_mass_kg(mass, amount)))
    outputs: list[TransformOutput] = []
    for item in _each(OUTPUT_ITEM, m.group("outputs")):
        lot, material, quantity, unit, mass = item.group(
            "id", "material", "quantity", "unit", "mass_kg"
        )
        amount = _quantity(quantity, unit)
        outputs.append(
            _OUTPUT(id=lot, material=material, quantity=amount, mass_kg=_mass_kg(mass, amount))
        )
    _unique([item.lot for item in inputs])
    _unique([item.id for item in outputs])
    return _TRANSFORM(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=m.group("replaces"),
        process=m.group("process"),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        site=_site(m),
    )


def _dispatch(m: re.Match[str], c: _Common) -> Statement:
    lot, quantity, unit, to, documents = m.group("lot", "quantity", "unit", "to", "documents")
    if to == c[1]:
        raise _RefusedError
    found: tuple[Document, ...] = ()
    if documents is not None:
        found = tuple(
            _DOCUMENT(sha256=sha256, kind=kind, name=_text(name))
            for sha256, kind, name in (
                item.group("sha256", "kind", "name") for item in _each(DOCUMENT_ITEM, documents)
            )
        )
    return _DISPATCH(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=m.group("replaces"),
        lot=lot,
        quantity=_quantity(quantity, unit),
        to=to,
        documents=found,
    )


def _receipt(m: re.Match[str], c: _Common) -> Statement:
    dispatch, quantity, unit, replaces = m.group("dispatch", "quantity", "unit", "replaces")
    return _RECEIPT(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=replaces,
        dispatch=dispatch,
        quantity=_quantity(quantity, unit),
    )


def _import(m: re.Match[str], c: _Common) -> Statement:
    lot, quantity, unit, entry, hts, port, origin = m.group(
        "lot", "quantity", "unit", "entry_number", "hts", "port", "country_of_origin"
    )
    return _IMPORT(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=m.group("replaces"),
        lot=lot,
        quantity=_quantity(quantity, unit),
        entry_number=entry,
        hts=hts,
        port=None if port is None else _text(port),
        country_of_origin=None if origin is None else _country(origin),
    )


def _retract(m: re.Match[str], c: _Common) -> Statement:
    statement, reason = m.group("statement", "reason")
    return _RETRACT(
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        statement=statement,
        reason=_text(reason),
    )


_BUILDERS: Final[dict[str, _Build]] = {
    "key": _key,
    "revoke": _revoke,
    "origin": _origin,
    "transform": _transform,
    "dispatch": _dispatch,
    "receipt": _receipt,
    "import": _import,
    "retract": _retract,
}
_SHAPES: Final = {kind: (PATTERNS[kind], build) for kind, build in _BUILDERS.items()}


def fast_statement(payload: bytes) -> Statement | None:
    """The statement of a canonical ``payload`` its type's pattern reads whole, else None.

    ``None`` says nothing about validity: the full path decides (and raises).
    """
    if type(payload) is not bytes or len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text.find('"type":"') + 8
    shape = _SHAPES.get(text[start : text.find('"', start)]) if start >= 8 else None
    if shape is None:
        return None
    pattern, build = shape
    match = pattern.fullmatch(text)
    if match is None:
        return None
    try:
        statement_id, issuer, time = match.group("id", "issuer", "time")
        digest = "sha256:" + hashlib.sha256(payload).hexdigest()
        return build(match, (statement_id, issuer, _time(time, "time"), payload, digest))
    except (_RefusedError, StatementError, ValueError, ArithmeticError):
        return None
