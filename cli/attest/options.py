"""The options every ``custody attest`` command shares, as typed ``Annotated`` aliases.

A command declares its own fields, then the common tail (``IssuerOpt``, ``IdOpt``,
``TimeOpt``, ``OutOpt``, ``HomeOpt``, ``JsonOpt``) and hands the tail to
:func:`cli.attest.signing.signing`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.attest.parsers import (
    UNIT_LIST,
    parse_coordinate,
    parse_decimal,
    parse_time_option,
    parse_unit,
)

DecimalOpt = Annotated[
    Decimal, typer.Option("--quantity", parser=parse_decimal, help="Quantity, > 0 (exact decimal).")
]
UnitOpt = Annotated[str, typer.Option("--unit", parser=parse_unit, help=f"Unit: {UNIT_LIST}.")]
KeyOpt = Annotated[
    Path, typer.Option("--key", help="Private key file that signs the statement (PREFIX.key).")
]
IssuerOpt = Annotated[
    str | None,
    typer.Option("--issuer", help="Issuing party (default: the party that owns --key)."),
]
IdOpt = Annotated[
    str | None,
    typer.Option("--id", help="Statement id, unique per issuer (default: derived, readable)."),
]
TimeOpt = Annotated[
    str | None,
    typer.Option(
        "--time",
        parser=parse_time_option,
        help="When the event happened, RFC 3339 (default: now).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Write the signed envelope to FILE instead of appending it (submit later)."
    ),
]
ReplacesOpt = Annotated[
    str | None,
    typer.Option(
        "--replaces",
        help="Correct an earlier statement of the issuer: its digest (sha256:...) or its seq. "
        "That one is retracted (allowed while nothing downstream used it).",
    ),
]
SiteNameOpt = Annotated[str, typer.Option("--site", help="Site name, e.g. 'Lubbock farm'.")]
CountryOpt = Annotated[str, typer.Option("--country", help="Site country (ISO 3166-1 alpha-2).")]
SubdivisionOpt = Annotated[
    str | None, typer.Option("--subdivision", help="Site subdivision (ISO 3166-2, e.g. US-TX).")
]
LatOpt = Annotated[
    Decimal | None, typer.Option("--lat", parser=parse_coordinate, help="Site latitude.")
]
LonOpt = Annotated[
    Decimal | None, typer.Option("--lon", parser=parse_coordinate, help="Site longitude.")
]


def site_of(
    name: str,
    country: str,
    subdivision: str | None,
    lat: Decimal | None,
    lon: Decimal | None,
) -> dict[str, Any]:
    site: dict[str, Any] = {"name": name, "country": country}
    if subdivision is not None:
        site["subdivision"] = subdivision
    if lat is not None:
        site["lat"] = lat
    if lon is not None:
        site["lon"] = lon
    return site


OptionalKeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Signing key: one of the party's keys, or the operator's (default: the home's "
        "operator.key).",
    ),
]
