"""Field validators shared by every statement type.

Each helper takes a decoded JSON value and ``path``, the dotted path of the value
(``inputs[1].unit``), and returns the validated value or raises
:class:`~ledger.errors.StatementError` with a specific ``invalid_statement.*`` code.
The leading underscore marks them private to :mod:`ledger.statements`: the sibling
modules (``objects``, ``bodies``, ``decode``) use them, nothing outside does.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, Final, NoReturn

from ledger.errors import StatementError
from ledger.units import UNIT_CHOICES, UNITS, Quantity, format_decimal

_MAX_QUANTITY: Final = Decimal("1e15")
_MAX_DECIMALS: Final = 18
_MAX_TEXT: Final = 1024
_MAX_CLAIMS_DEPTH: Final = 32

_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_PARTY_ID = re.compile(r"[a-z0-9][a-z0-9.-]{1,63}")
_LOT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,200}")
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
_HTS = re.compile(r"[0-9]{4}(?:\.?[0-9]{2}){0,3}")
_IDENTIFIERS: Final = MappingProxyType(
    {
        "lei": (re.compile(r"[A-Z0-9]{18}[0-9]{2}"), "20 upper-case letters or digits"),
        "duns": (re.compile(r"[0-9]{9}"), "9 digits"),
        "gln": (re.compile(r"[0-9]{13}"), "13 digits"),
    }
)

_COMMON: Final = ("spec", "type", "id", "issuer", "time")


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
    if len(obj) > len(required) and not obj.keys() <= allowed:
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
        value,
        path,
        _PARTY_ID,
        "bad_party_id",
        "a party id matching ^[a-z0-9][a-z0-9.-]{1,63}$",
    )


def _lot_id(value: object, path: str) -> str:
    return _match(
        value,
        path,
        _LOT_ID,
        "bad_lot_id",
        "a lot id of 1 to 200 of A-Z a-z 0-9 . _ : / -",
    )


def _material(value: object, path: str) -> str:
    return _match(
        value,
        path,
        _VOCABULARY,
        "bad_material",
        "a dotted lower-case name like cotton.lint",
    )


def _vocabulary(value: object, path: str, example: str) -> str:
    return _match(
        value,
        path,
        _VOCABULARY,
        "bad_value",
        f"a dotted lower-case name like {example}",
    )


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
    _fail(
        "bad_public_key",
        path,
        f"must be standard base64 of 32 bytes, got {_show(text)}",
    )


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
    # at most as many places as the exponent says: the digits are counted only past that
    if kind is not int and not _few_places(number) and _decimal_places(number) > _MAX_DECIMALS:
        _fail(
            "bad_quantity",
            path,
            f"must have at most {_MAX_DECIMALS} decimal places, got {value}",
        )
    return number


def _few_places(number: Decimal) -> bool:
    """Whether ``number``'s exponent alone shows it has at most ``_MAX_DECIMALS`` places."""
    exponent = number.as_tuple().exponent
    return type(exponent) is int and exponent >= -_MAX_DECIMALS


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
        _fail(
            "unknown_unit",
            unit_path,
            f"must be one of {UNIT_CHOICES}, got {_show(unit)}",
        )
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
        _fail(
            "bad_country",
            path,
            f"must be an ISO 3166-1 alpha-2 country code, got {_show(text)}",
        )
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
        _fail(
            "bad_subdivision",
            path,
            f"must be a subdivision of {country}, got {_show(text)}",
        )
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
        _fail(
            "bad_coordinate",
            where,
            f"must lie between -{limit} and {limit}, got {value}",
        )
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


def _freeze(value: Any, path: str) -> Any:
    """``value`` (decoded JSON) made immutable: objects as read-only mappings, arrays as
    tuples; nested at most ``_MAX_CLAIMS_DEPTH`` levels. No recursion over the input."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    order: list[Any] = []  # containers, parents before their children
    while stack:
        node, where, depth = stack.pop()
        if depth > _MAX_CLAIMS_DEPTH:
            _fail("bad_value", where, f"is nested more than {_MAX_CLAIMS_DEPTH} levels deep")
        if type(node) is dict:
            children = [(item, _join(where, key), depth + 1) for key, item in node.items()]
        elif type(node) is list:
            children = [(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(node)]
        else:
            continue
        order.append(node)
        stack.extend(reversed(children))
    frozen: dict[int, Any] = {}

    def done(item: Any) -> Any:
        return frozen[id(item)] if type(item) is dict or type(item) is list else item

    for node in reversed(order):  # children before their parents
        if type(node) is dict:
            frozen[id(node)] = MappingProxyType({key: done(item) for key, item in node.items()})
        else:
            frozen[id(node)] = tuple(done(item) for item in node)
    return done(value)
