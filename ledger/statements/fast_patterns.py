"""The patterns of the fast statement reader (:mod:`ledger.statements.fast`).

Each statement type's payload, in the form the encoders write (compact JSON, keys
sorted, no string escapes), as one pattern with a named group per value. Every value
pattern accepts a subset of what the field's validator in
:mod:`~ledger.statements.fields` accepts (ASCII digits only, no escapes, quantities
below 10^15 with at most 18 places); what a pattern cannot vouch for alone is checked
by the reader.
"""

from __future__ import annotations

from typing import Final

from ledger.units import UNITS

_ID: Final = r"[A-Za-z0-9._:/-]{1,128}"
_PARTY: Final = r"[a-z0-9][a-z0-9.-]{1,63}"
_LOT: Final = r"[A-Za-z0-9._:/-]{1,200}"
_DIGEST: Final = r"sha256:[0-9a-f]{64}"
_HEX64: Final = r"[0-9a-f]{64}"
_TIME: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
_VOCABULARY: Final = r"[a-z0-9_]+(?:\.[a-z0-9_]+)*"
_TEXT: Final = r'[^"\\\x00-\x1f\x7f]{1,1024}'  # blank text is refused in code
_COUNTRY: Final = r"[A-Z]{2}"
_SUBDIVISION: Final = r"[A-Z]{2}-[A-Z0-9]{1,3}"
_PUBLIC_KEY: Final = r"[A-Za-z0-9+/]{43}="
# below 10^15, at most 18 places; "0.000" is refused in code (not greater than 0)
_QUANTITY: Final = r"(?:[1-9][0-9]{0,14}|0(?=\.))(?:\.[0-9]{1,18})?"
# no "-0" integer: JSON reads it as int 0, whose Decimal is 0, not -0
_COORDINATE: Final = r"-?(?:0|[1-9][0-9]{0,20})\.[0-9]{1,30}|-?[1-9][0-9]{0,20}|0"
# a unit's pattern only bounds it: the reader looks it up in UNITS
_UNIT: Final = rf"[A-Za-z0-9]{{1,{max(map(len, UNITS))}}}"
_ENTRY_NUMBER: Final = r"[A-Za-z0-9][A-Za-z0-9-]{0,31}"
_HTS: Final = r"[0-9]{4}(?:\.?[0-9]{2}){0,3}"


def _string(name: str, pattern: str) -> str:
    return f'"(?P<{name}>{pattern})"'


def _number(name: str, pattern: str) -> str:
    return f"(?P<{name}>{pattern})"


def _object(*fields: tuple[str, str, bool]) -> str:
    """A compact object of ``(key, value pattern, required)`` fields in sorted key order."""
    parts: list[str] = []
    after_required = False
    for key, value, required in sorted(fields):
        item = f'"{key}":{value}'
        if required:
            parts.append(("," if after_required else "") + item)
            after_required = True
        else:
            parts.append(f"(?:,{item})?" if after_required else f"(?:{item},)?")
    assert after_required, "an object pattern needs a required field"
    return r"\{" + "".join(parts) + r"\}"


# an array of objects without arrays in them, each item read by its own pattern (ITEMS)
_ARRAY: Final = r"\[[^\[\]]*\]"  # a bracket in a string: the full path reads it


def _statement(kind: str, *fields: tuple[str, str, bool]) -> str:
    return _object(
        ("id", _string("id", _ID), True),
        ("issuer", _string("issuer", _PARTY), True),
        ("spec", '"custody/1"', True),
        ("time", _string("time", _TIME), True),
        ("type", f'"{kind}"', True),
        *fields,
    )


def _quantity_fields(prefix: str = "") -> tuple[tuple[str, str, bool], ...]:
    return (
        ("quantity", _number(f"{prefix}quantity", _QUANTITY), True),
        ("unit", _string(f"{prefix}unit", _UNIT), True),
    )


_REPLACES: Final = ("replaces", _string("replaces", _DIGEST), False)
_SITE: Final = _object(
    ("name", _string("site_name", _TEXT), True),
    ("country", _string("site_country", _COUNTRY), True),
    ("subdivision", _string("site_subdivision", _SUBDIVISION), False),
    ("lat", _number("site_lat", _COORDINATE), False),
    ("lon", _number("site_lon", _COORDINATE), False),
)
SITE_GROUPS: Final = ("site_name", "site_country", "site_subdivision", "site_lat", "site_lon")


ITEMS: Final[dict[str, str]] = {
    "inputs": _object(
        ("lot", _string("lot", _LOT), True),
        *_quantity_fields(),
        ("mass_kg", _number("mass_kg", _QUANTITY), False),
    ),
    "outputs": _object(
        ("id", _string("id", _LOT), True),
        ("material", _string("material", _VOCABULARY), True),
        *_quantity_fields(),
        ("mass_kg", _number("mass_kg", _QUANTITY), False),
    ),
    "documents": _object(
        ("sha256", _string("sha256", _HEX64), True),
        ("kind", _string("kind", _VOCABULARY), True),
        ("name", _string("name", _TEXT), True),
    ),
}
"""Array name → the pattern of one of its items (the statement's pattern only bounds the
array: ``[`` objects without arrays ``]``)."""

SOURCES: Final[dict[str, str]] = {
    "key": _statement(
        "key",
        ("party", _string("party", _PARTY), True),
        ("public_key", _string("public_key", _PUBLIC_KEY), True),
    ),
    "revoke": _statement(
        "revoke",
        ("party", _string("party", _PARTY), True),
        ("public_key", _string("public_key", _PUBLIC_KEY), True),
        ("reason", _string("reason", "superseded|compromised"), True),
        ("effective", _string("effective", _TIME), False),
    ),
    "origin": _statement(
        "origin",
        (
            "lot",
            _object(
                ("id", _string("lot_id", _LOT), True),
                ("material", _string("lot_material", _VOCABULARY), True),
                *_quantity_fields("lot_"),
            ),
            True,
        ),
        ("site", _SITE, True),
        _REPLACES,
    ),
    "transform": _statement(
        "transform",
        ("process", _string("process", _VOCABULARY), True),
        ("inputs", _number("inputs", _ARRAY), True),
        ("outputs", _number("outputs", _ARRAY), True),
        ("site", _SITE, True),
        _REPLACES,
    ),
    "dispatch": _statement(
        "dispatch",
        ("lot", _string("lot", _LOT), True),
        *_quantity_fields(),
        ("to", _string("to", _PARTY), True),
        ("documents", _number("documents", _ARRAY), False),
        _REPLACES,
    ),
    "receipt": _statement(
        "receipt",
        ("dispatch", _string("dispatch", _DIGEST), True),
        *_quantity_fields(),
        _REPLACES,
    ),
    "import": _statement(
        "import",
        ("lot", _string("lot", _LOT), True),
        *_quantity_fields(),
        ("entry_number", _string("entry_number", _ENTRY_NUMBER), True),
        ("hts", _string("hts", _HTS), False),
        ("port", _string("port", _TEXT), False),
        ("country_of_origin", _string("country_of_origin", _COUNTRY), False),
        _REPLACES,
    ),
    "retract": _statement(
        "retract",
        ("statement", _string("statement", _DIGEST), True),
        ("reason", _string("reason", _TEXT), True),
    ),
}
"""Statement type → the pattern of its payload (``party`` and ``evidence`` have none),
compiled by the reader when it first meets the type: importing costs no compilation."""
