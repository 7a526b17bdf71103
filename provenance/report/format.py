"""Formatting for the HTML report: places, quantities, shares, times, short texts."""

from __future__ import annotations

import functools
from decimal import Decimal

import pycountry

from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Origin,
    Receipt,
    Site,
    Statement,
    Transform,
)
from ledger.units import Quantity, format_decimal


@functools.cache
def place_name(country: str, subdivision: str | None = None) -> str:
    """``Xinjiang Uygur Zizhiqu (CN-XJ), China`` from ISO 3166 codes."""
    c = pycountry.countries.get(alpha_2=country) if country else None
    cname = getattr(c, "common_name", None) or getattr(c, "name", None) or country
    if subdivision:
        s = pycountry.subdivisions.get(code=subdivision)  # type: ignore[no-untyped-call]
        sname = getattr(s, "name", None)
        return f"{sname} ({subdivision}), {cname}" if sname else f"{subdivision}, {cname}"
    return f"{cname} ({country})" if country else "unknown"


def fmt_qty(q: Quantity) -> str:
    return f"{_group(q.value)} {q.unit}"


def fmt_kg(kg: Decimal | None) -> str | None:
    return None if kg is None else f"{_group(kg)} kg"


def _group(value: Decimal) -> str:
    text = format_decimal(value.normalize() if value == value.to_integral() else value)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + (f".{frac}" if frac else "")


def fmt_share(share: Decimal | None) -> str:
    if share is None:
        return "–"
    pct = share * 100
    return f"{pct.quantize(Decimal('0.01'))} %"


def fmt_time(stmt: Statement) -> str:
    return stmt.time.strftime("%Y-%m-%d %H:%M UTC")


def short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def wrap(text: str, width: int, lines: int) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of about ``width``; the last one
    shortened with an ellipsis when needed."""
    out: list[str] = []
    current = ""
    words = text.split()
    for i, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines - 1:
            current = " ".join(words[i:])
            break
    out.append(current)
    return [short(line, width + 2) for line in out[:lines]]


def site_text(site: Site) -> str:
    return f"{site.name}, {place_name(site.country, site.subdivision)}"


def describe(s: Statement) -> str:
    if isinstance(s, Dispatch):
        return f"dispatch of {fmt_qty(s.quantity)} of lot {s.lot} to {s.to}"
    if isinstance(s, Receipt):
        return f"receipt of {fmt_qty(s.quantity)} (dispatch {s.dispatch[:19]}…)"
    if isinstance(s, Transform):
        return (
            f"{s.process}: {', '.join(i.lot for i in s.inputs)} → "
            f"{', '.join(o.id for o in s.outputs)}"
        )
    if isinstance(s, Import):
        return f"import of {fmt_qty(s.quantity)} of lot {s.lot} as entry {s.entry_number}"
    if isinstance(s, Origin):
        return f"origin of lot {s.lot.id} ({fmt_qty(s.lot.quantity)})"
    if isinstance(s, Evidence):
        return f"{s.kind} for {', '.join(s.lots)}: {s.document.name}"
    party = getattr(s, "party", "")
    return f"{s.type} of {party}" if party else s.type
