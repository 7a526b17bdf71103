"""Small helpers shared by the rules: JSON-safe details, percentages, names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledger.statements import Site, format_time
from ledger.units import Quantity, format_decimal

__all__ = ["jsonable", "percent", "place", "qty", "site_text"]


def jsonable(value: Any) -> Any:
    """``value`` with Decimals, times and quantities as strings, tuples as lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def percent(share: Decimal) -> str:
    """``0.123456`` as ``12.35%``."""
    return f"{share * 100:.2f}%"


def qty(quantity: Quantity) -> str:
    return f"{format_decimal(quantity.value)} {quantity.unit}"


def place(country: str, subdivision: str | None, name: str | None = None) -> str:
    where = subdivision or country
    return f"{name}, {where}" if name else where


def site_text(site: Site) -> str:
    return place(site.country, site.subdivision, site.name)
