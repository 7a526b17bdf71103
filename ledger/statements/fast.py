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

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from ledger.errors import StatementError
from ledger.statements.fast_patterns import (
    ITEMS,
    SITE_GROUPS,
    SOURCES,
)
from ledger.statements.fields import _countries, _public_key, _subdivisions
from ledger.statements.makers import maker
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
from ledger.units import UNITS, Quantity, trusted_quantity

_MAKE: Final[dict[type, Callable[..., Any]]] = {}
"""Model class → its constructor for checked values (:func:`maker`), made as first needed."""
_ITEM: Final[dict[str, re.Pattern[str]]] = {}
"""Array name → the compiled pattern of its items, compiled as first needed."""


_UNITS: Final = frozenset(UNITS)


class _RefusedError(Exception):
    """A value the fast path does not vouch for: the full path decides."""


def _quantity(text: str, unit: str) -> Quantity:
    value = Decimal(text)
    if not value > 0 or unit not in _UNITS:
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
    made: Site = _MAKE[Site](
        name=_text(name),
        country=_country(country),
        subdivision=_subdivision(subdivision, country),
        lat=_coordinate(lat, 90),
        lon=_coordinate(lon, 180),
    )
    return made


def _each(pattern: re.Pattern[str], array: str, *, empty: bool = False) -> list[re.Match[str]]:
    """The matches of the items of ``array`` (``[...]``), one after another, comma-separated."""
    found: list[re.Match[str]] = []
    position, end = 1, len(array) - 1
    if position == end and not empty:
        raise _RefusedError
    while position < end:
        match = pattern.match(array, position)
        if match is None:
            raise _RefusedError
        found.append(match)
        position = match.end()
        if position < end:
            if array[position] != ",":
                raise _RefusedError
            position += 1
            if position == end:  # a trailing comma
                raise _RefusedError
    return found


def _unique(items: list[str]) -> None:
    if len(set(items)) != len(items):
        raise _RefusedError


_Common = tuple[str, str, datetime, bytes, str]
"""``(id, issuer, time, payload, digest)``. The builders below pass them by name,
one by one: ``maker(cls)(*common, ...)`` would build a keyword dict a call and
measured about 5% slower over the mix."""
_Build = Callable[[re.Match[str], _Common], Statement]


def _key(m: re.Match[str], c: _Common) -> Statement:
    party, public_key = m.group("party", "public_key")
    made: Key = _MAKE[Key](
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        party=party,
        public_key=_public_key(public_key, "public_key"),
    )
    return made


def _revoke(m: re.Match[str], c: _Common) -> Statement:
    party, public_key, reason, effective = m.group("party", "public_key", "reason", "effective")
    made: Revoke = _MAKE[Revoke](
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
    return made


def _origin(m: re.Match[str], c: _Common) -> Statement:
    lot, material, quantity, unit = m.group("lot_id", "lot_material", "lot_quantity", "lot_unit")
    made: Origin = _MAKE[Origin](
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=m.group("replaces"),
        lot=_MAKE[OriginLot](id=lot, material=material, quantity=_quantity(quantity, unit)),
        site=_site(m),
    )
    return made


def _transform(m: re.Match[str], c: _Common) -> Statement:
    inputs: list[TransformInput] = []
    make_input, make_output = _MAKE[TransformInput], _MAKE[TransformOutput]
    for item in _each(_ITEM["inputs"], m.group("inputs")):
        lot, quantity, unit, mass = item.group("lot", "quantity", "unit", "mass_kg")
        amount = _quantity(quantity, unit)
        inputs.append(make_input(lot=lot, quantity=amount, mass_kg=_mass_kg(mass, amount)))
    outputs: list[TransformOutput] = []
    for item in _each(_ITEM["outputs"], m.group("outputs")):
        lot, material, quantity, unit, mass = item.group(
            "id", "material", "quantity", "unit", "mass_kg"
        )
        amount = _quantity(quantity, unit)
        mass_kg = _mass_kg(mass, amount)
        outputs.append(make_output(id=lot, material=material, quantity=amount, mass_kg=mass_kg))
    _unique([item.lot for item in inputs])
    _unique([item.id for item in outputs])
    made: Transform = _MAKE[Transform](
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
    return made


def _dispatch(m: re.Match[str], c: _Common) -> Statement:
    lot, quantity, unit, to, documents = m.group("lot", "quantity", "unit", "to", "documents")
    if to == c[1]:
        raise _RefusedError
    found: tuple[Document, ...] = ()
    if documents is not None:
        items = _each(_ITEM["documents"], documents, empty=True)
        found = tuple(
            _MAKE[Document](sha256=sha256, kind=kind, name=_text(name))
            for sha256, kind, name in (item.group("sha256", "kind", "name") for item in items)
        )
    made: Dispatch = _MAKE[Dispatch](
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
    return made


def _receipt(m: re.Match[str], c: _Common) -> Statement:
    dispatch, quantity, unit, replaces = m.group("dispatch", "quantity", "unit", "replaces")
    made: Receipt = _MAKE[Receipt](
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        replaces=replaces,
        dispatch=dispatch,
        quantity=_quantity(quantity, unit),
    )
    return made


def _import(m: re.Match[str], c: _Common) -> Statement:
    lot, quantity, unit, entry, hts, port, origin = m.group(
        "lot", "quantity", "unit", "entry_number", "hts", "port", "country_of_origin"
    )
    made: Import = _MAKE[Import](
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
    return made


def _retract(m: re.Match[str], c: _Common) -> Statement:
    statement, reason = m.group("statement", "reason")
    made: Retract = _MAKE[Retract](
        id=c[0],
        issuer=c[1],
        time=c[2],
        payload=c[3],
        digest=c[4],
        statement=statement,
        reason=_text(reason),
    )
    return made


_BUILDERS: Final[dict[str, tuple[_Build, tuple[type, ...], tuple[str, ...]]]] = {
    "key": (_key, (Key,), ()),
    "revoke": (_revoke, (Revoke,), ()),
    "origin": (_origin, (Origin, OriginLot, Site), ()),
    "transform": (
        _transform,
        (Transform, TransformInput, TransformOutput, Site),
        ("inputs", "outputs"),
    ),
    "dispatch": (_dispatch, (Dispatch, Document), ("documents",)),
    "receipt": (_receipt, (Receipt,), ()),
    "import": (_import, (Import,), ()),
    "retract": (_retract, (Retract,), ()),
}
"""Statement type → its builder, the models it makes and the arrays it reads."""

_SHAPES: Final[dict[str, tuple[re.Pattern[str], _Build]]] = {}
"""Each type's compiled pattern and builder, filled as the types are first met (so that
importing compiles no pattern and makes no constructor)."""


def _shape(kind: str) -> tuple[re.Pattern[str], _Build] | None:
    if kind not in _BUILDERS:
        return None
    build, models, arrays = _BUILDERS[kind]
    for model in models:
        if model not in _MAKE:
            _MAKE[model] = maker(model)
    for array in arrays:
        _ITEM[array] = re.compile(ITEMS[array])
    shape = _SHAPES[kind] = (re.compile(SOURCES[kind]), build)
    return shape


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
    if start < 8:
        return None
    kind = text[start : text.find('"', start)]
    shape = _SHAPES.get(kind) or _shape(kind)
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
