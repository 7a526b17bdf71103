"""The value parsers of ``custody attest``: amounts, compact items, times, ids.

Compact item syntax (also in each command's ``--help``)::

    AMOUNT      QTY UNIT [=MASS kg]          4200kg  1.5t  2400pcs  1200m=300kg
    --input     LOT:AMOUNT                   gin/lint-1:4200kg
    --output    LOT:MATERIAL:AMOUNT          spin/yarn-1:yarn.cotton:3900kg
    --external  MATERIAL:AMOUNT:CC[:CC-SUB][:SUPPLIER]
                                             cotton.lint:100kg:CN:CN-XJ:Example Co
    --document  FILE:KIND                    bol.pdf:bill_of_lading
    --claim     KEY=VALUE                    (VALUE is JSON when it parses, else text)

Lots and ids may contain ``:``, so items are split from the right. A ``--claim``
VALUE is read by the one strict JSON reader (``ledger.strictjson``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from ledger import strictjson
from ledger.units import UNITS

_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_AMOUNT = re.compile(
    r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*([0-9]+(?:\.[0-9]+)?)\s*kg)?\s*"
)
_VOCABULARY = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_COUNTRY = re.compile(r"[A-Z]{2}")

UNIT_LIST = ", ".join(UNITS)
AMOUNT_HELP = f"AMOUNT is QTY UNIT with an optional =MASSkg (units: {UNIT_LIST})"


# ------------------------------------------------------------------ value parsers


def parse_decimal(text: str) -> Decimal:
    """A quantity typed by a person: a plain decimal greater than 0 (never a float)."""
    value = text.strip()
    if _NUMBER.fullmatch(value) is None or Decimal(value) <= 0:
        raise typer.BadParameter(f"must be a number greater than 0 like 12000 or 0.5, got {text!r}")
    return Decimal(value)


def parse_coordinate(text: str) -> Decimal:
    """A latitude or longitude: a plain signed decimal."""
    value = text.strip()
    if re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", value) is None:
        raise typer.BadParameter(f"must be a decimal number like 33.58 or -101.85, got {text!r}")
    return Decimal(value)


def parse_unit(text: str) -> str:
    if text not in UNITS:
        raise typer.BadParameter(f"must be one of {UNIT_LIST}, got {text!r}")
    return text


def parse_time_option(text: str) -> str:
    """An RFC 3339 time with ``Z`` or an offset, returned as UTC with ``Z``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(
            f"must be an RFC 3339 time with a zone like 2026-03-01T10:00:00Z, got {text!r}"
        )
    from ledger.statements import format_time

    return format_time(moment.astimezone(UTC))


@dataclass(frozen=True)
class Amount:
    """``QTY UNIT [=MASS kg]`` as typed in a compact item."""

    quantity: Decimal
    unit: str
    mass_kg: Decimal | None = None

    def fields(self) -> dict[str, Any]:
        body: dict[str, Any] = {"quantity": self.quantity, "unit": self.unit}
        if self.mass_kg is not None:
            body["mass_kg"] = self.mass_kg
        return body


def parse_amount(text: str, what: str = "amount") -> Amount:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise typer.BadParameter(
            f"{what} must be QTY UNIT like 4200kg or 1200m=300kg, got {text!r}"
        )
    qty, unit, mass = match.groups()
    if unit not in UNITS:
        raise typer.BadParameter(f"{what}: unit must be one of {UNIT_LIST}, got {unit!r}")
    quantity = parse_decimal(qty)
    return Amount(quantity, unit, None if mass is None else parse_decimal(mass))


def parse_input(text: str) -> dict[str, Any]:
    """``LOT:AMOUNT`` → a transform ``inputs`` item."""
    lot, sep, amount = text.rpartition(":")
    if not sep or not lot:
        raise typer.BadParameter(f"--input must be LOT:AMOUNT like gin/lint-1:4200kg, got {text!r}")
    return {"lot": lot, **parse_amount(amount, "--input").fields()}


def parse_output(text: str) -> dict[str, Any]:
    """``LOT:MATERIAL:AMOUNT`` → a transform ``outputs`` item."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise typer.BadParameter(
            f"--output must be LOT:MATERIAL:AMOUNT like spin/yarn-1:yarn.cotton:3900kg, "
            f"got {text!r}"
        )
    lot, material, amount = parts
    return {"id": lot, "material": material, **parse_amount(amount, "--output").fields()}


def parse_external(text: str) -> dict[str, Any]:
    """``MATERIAL:AMOUNT:CC[:CC-SUB][:SUPPLIER]`` → an ``external_inputs`` item."""
    parts = text.split(":", 3)
    if len(parts) < 3 or _COUNTRY.fullmatch(parts[2]) is None:
        raise typer.BadParameter(
            "--external must be MATERIAL:AMOUNT:COUNTRY[:SUBDIVISION][:SUPPLIER] like "
            f"cotton.lint:100kg:CN:CN-XJ:Example Co, got {text!r}"
        )
    material, amount, country = parts[:3]
    item: dict[str, Any] = {
        "material": material,
        "country": country,
        **parse_amount(amount, "--external").fields(),
    }
    rest = parts[3] if len(parts) == 4 else ""
    head, sep, tail = rest.partition(":")
    if _SUBDIVISION.fullmatch(head):
        item["subdivision"] = head
        rest = tail if sep else ""
    if rest:
        item["supplier"] = rest
    return item


def parse_document(text: str) -> tuple[Path, str]:
    """``FILE:KIND`` → (path, kind)."""
    path, sep, kind = text.rpartition(":")
    if not sep or not path or _VOCABULARY.fullmatch(kind) is None:
        raise typer.BadParameter(
            f"--document must be FILE:KIND like bol.pdf:bill_of_lading, got {text!r}"
        )
    return Path(path), kind


def parse_claim(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``; VALUE is read as JSON (numbers exact) when it parses, else as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"--claim must be KEY=VALUE, got {text!r}")
    try:
        value: Any = strictjson.loads(raw, decimals=True)
    except strictjson.JsonError as e:
        if e.reason in ("depth", "duplicate_key", "constant"):
            raise typer.BadParameter(
                f"--claim {key.strip()}: VALUE is not usable JSON: {e}"
            ) from None
        value = raw
    return key.strip(), value


def read_fields(path: Path) -> dict[str, Any]:
    """The typed ``fields`` object of an evidence statement from a JSON file (exact numbers)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise typer.BadParameter(f"--fields {path}: cannot be read ({e.strerror})") from None
    try:
        value = strictjson.loads(raw, decimals=True)
    except strictjson.JsonError as e:
        raise typer.BadParameter(f"--fields {path}: not valid JSON ({e.message})") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"--fields {path}: must hold a JSON object")
    return value


def split_list(values: list[str]) -> list[str]:
    """Repeatable options that also accept comma-separated values."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def readable_id(*parts: str) -> str:
    """``parts`` joined with ``/``, or ``<first>/<32 hex>`` when that is not a valid id."""
    text = "/".join(parts)
    if _ID.fullmatch(text):
        return text
    return f"{parts[0]}/{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def now() -> str:
    from ledger.statements import format_time

    return format_time(datetime.now(UTC).replace(microsecond=0))
