"""Value parsers of the typed evidence ``fields`` (see :mod:`ledger.statements.evidence`):
parties, money, currencies, dates, document numbers, document lines, container numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from ledger.statements.evidence_models import (
    DocumentLine,
    PartyRef,
)
from ledger.statements.fields import (
    _array,
    _check_keys,
    _country,
    _decimal_places,
    _fail,
    _join,
    _lot_id,
    _match,
    _material,
    _nonempty,
    _object,
    _party_id,
    _quantity,
    _show,
    _string,
    _text,
    _unique_list,
)

_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./_:#-]{0,63}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CONTAINER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_MAX_AMOUNT: Final = Decimal("1e15")

TRANSPORT_TYPES: Final = MappingProxyType(
    {
        "bill_of_lading": ("sea", "road", "rail"),
        "sea_waybill": ("sea",),
        "air_waybill": ("air",),
        "road_consignment_note": ("road",),
        "rail_consignment_note": ("rail",),
    }
)
LAB_METHODS: Final = ("stable_isotope", "dna", "trace_element", "other")
LAB_RESULTS: Final = ("consistent", "inconsistent", "inconclusive")
AUDIT_RESULTS: Final = ("conforming", "nonconforming", "conditional")


def _one_of(value: object, path: str, allowed: tuple[str, ...]) -> str:
    text = _string(value, path)
    if text not in allowed:
        _fail("bad_value", path, f"must be one of {', '.join(allowed)}, got {_show(text)}")
    return text


def _number(value: object, path: str) -> str:
    return _match(value, path, _NUMBER, "bad_value", "a document number of 1 to 64 characters")


def _date(value: object, path: str) -> date:
    text = _string(value, path)
    parsed: date | None = None
    if _DATE.fullmatch(text) is not None:
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            parsed = None
    if parsed is None:
        _fail("bad_time", path, f"must be a calendar date YYYY-MM-DD, got {_show(text)}")
    return parsed


@cache
def _currencies() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _currency(value: object, path: str) -> str:
    text = _string(value, path)
    if _CURRENCY.fullmatch(text) is None or text not in _currencies():
        _fail("bad_value", path, f"must be an ISO 4217 currency code like USD, got {_show(text)}")
    return text


def _amount(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        _fail("bad_value", path, f"must be a number of 0 or more, got {_show(value)}")
    number = Decimal(value)
    if number < 0 or number >= _MAX_AMOUNT or _decimal_places(number) > 18:
        _fail("bad_value", path, f"must be a number from 0 to below 10^15, got {_show(value)}")
    return number


_PARTY_KEYS: Final = frozenset({"name", "country"})


def _party(value: object, path: str) -> PartyRef:
    if type(value) is str:
        return PartyRef(id=_party_id(value, path))
    if type(value) is not dict:
        _fail("wrong_type", path, f"must be a party id or an object, got {_show(value)}")
    _check_keys(value, path, ("name", "country"), _PARTY_KEYS)
    return PartyRef(
        name=_text(value["name"], _join(path, "name")),
        country=_country(value["country"], _join(path, "country")),
    )


def _numbers(
    obj: dict[str, Any], path: str, name: str, *, required: bool = False
) -> tuple[str, ...]:
    if name not in obj:
        return ()
    where = _join(path, name)
    items = _array(obj[name], where)
    if required:
        _nonempty(items, where)
    numbers = [_number(item, f"{where}[{i}]") for i, item in enumerate(items)]
    _unique_list(numbers, where, "document number")
    return tuple(numbers)


def _opt(obj: dict[str, Any], path: str, name: str, parse: Callable[[object, str], Any]) -> Any:
    return parse(obj[name], _join(path, name)) if name in obj else None


_LINE_KEYS: Final = frozenset({"lot", "material", "quantity", "unit", "amount", "packages"})


def _lines(
    obj: dict[str, Any], path: str, lots: tuple[str, ...], *, lot: bool, amount: bool
) -> tuple[DocumentLine, ...]:
    where = _join(path, "lines")
    items = _array(obj["lines"], where)
    _nonempty(items, where)
    out: list[DocumentLine] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        line = _object(item, at)
        required = (
            ("quantity", "unit") + (("lot",) if lot else ()) + (("amount",) if amount else ())
        )
        _check_keys(line, at, required, _LINE_KEYS)
        lot_id = _opt(line, at, "lot", _lot_id)
        if lot_id is not None and lot_id not in lots:
            _fail(
                "bad_value", _join(at, "lot"), f"{_show(lot_id)} is not among the statement's lots"
            )
        if "packages" in line and (type(line["packages"]) is not int or line["packages"] < 1):
            _fail(
                "bad_value",
                _join(at, "packages"),
                f"must be an integer of 1 or more, got {_show(line['packages'])}",
            )
        out.append(
            DocumentLine(
                quantity=_quantity(line, at),
                lot=lot_id,
                material=_opt(line, at, "material", _material),
                amount=_opt(line, at, "amount", _amount),
            )
        )
    return tuple(out)


def _container(value: object, path: str) -> str:
    """An ISO 6346 container number whose check digit holds (``MSCU1234565``)."""
    text = _match(
        value, path, _CONTAINER, "bad_value", "an ISO 6346 container number like CSQU3054383"
    )
    values = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _LETTER_VALUES, strict=True))
    total = sum((values[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(text[:10]))
    if total % 11 % 10 != int(text[10]):
        _fail("bad_value", path, f"has a wrong ISO 6346 check digit, got {_show(text)}")
    return text


# ISO 6346 letter values: 10 upwards, skipping multiples of 11
_LETTER_VALUES: Final = tuple(v for v in range(10, 39) if v % 11)
