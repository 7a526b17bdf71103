"""``custody party register`` and ``custody attest TYPE``: statements from typed flags.

Each command builds one ``custody/1`` statement (SPEC §3) with
:func:`ledger.statements.build_statement` (so it is validated exactly as the
ledger will parse it), signs it into a DSSE envelope with ``--key``
(:func:`ledger.envelope.sign_envelope`) and appends it to the home's ledger,
printing ``seq N  sha256:...``; a rejection is one line on stderr and exit 1.
``--json`` prints one object shaped like an item of ``submit --json``.
``--out FILE`` writes the signed envelope instead of appending it (for
``custody submit [--server URL] FILE`` later).

Defaults a person does not have to type:

- ``--issuer``: the party that owns ``--key`` (its kid looked up in the ledger);
- ``--time``: now, to the second (any RFC 3339 time with an offset is accepted
  and written in UTC with ``Z``);
- ``--id``: readable and derived from the statement, so the same command with
  the same ``--time`` is idempotent: ``origin/<lot>``, ``transform/<first
  output>``, ``dispatch/<lot>/<to>/<time>``, ``receipt/<dispatch hex[:16]>``,
  ``evidence/<kind>/<first lot>/<sha256[:12]>``, ``import/<entry>/<lot>``,
  ``key/<party>/<kid[:16]>``, ``revoke/<party>/<kid[:16]>``, ``party/<id>``.
  An id longer than 128 characters becomes ``<type>/<32 hex of its sha256>``.

Compact item syntax (also in each command's ``--help``)::

    AMOUNT      QTY UNIT [=MASS kg]          4200kg  1.5t  2400pcs  1200m=300kg
    --input     LOT:AMOUNT                   gin/lint-1:4200kg
    --output    LOT:MATERIAL:AMOUNT          spin/yarn-1:yarn.cotton:3900kg
    --external  MATERIAL:AMOUNT:CC[:CC-SUB][:SUPPLIER]
                                             cotton.lint:100kg:CN:CN-XJ:Example Co
    --document  FILE:KIND                    bol.pdf:bill_of_lading
    --claim     KEY=VALUE                    (VALUE is JSON when it parses, else text)

Lots and ids may contain ``:``, so items are split from the right.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import emit_json, fail, handle_errors, out
from ledger.envelope import Envelope, sign_envelope
from ledger.errors import ConfigError, InputError, KeyFormatError
from ledger.home import Home
from ledger.keys import (
    PrivateKey,
    b64encode,
    kid_of,
    load_private_key,
    load_public_key,
    public_key_from_b64,
)
from ledger.log import Ledger
from ledger.statements import build_statement, format_time
from ledger.units import BASE_UNITS, UNITS, dimension_of

_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_AMOUNT = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*(\d+(?:\.\d+)?)\s*kg)?\s*"
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
    if re.fullmatch(r"-?\d+(?:\.\d+)?", value) is None:
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
        value: Any = json.loads(raw, parse_float=Decimal)
    except ValueError:
        value = raw
    return key.strip(), value


def _split_list(values: list[str]) -> list[str]:
    """Repeatable options that also accept comma-separated values."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def readable_id(*parts: str) -> str:
    """``parts`` joined with ``/``, or ``<first>/<32 hex>`` when that is not a valid id."""
    text = "/".join(parts)
    if _ID.fullmatch(text):
        return text
    return f"{parts[0]}/{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"


def now() -> str:
    return format_time(datetime.now(UTC).replace(microsecond=0))


# ------------------------------------------------------------------ shared options

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


# ------------------------------------------------------------------ build, sign, append


@dataclass
class Session:
    """The home and, opened on first use, its ledger."""

    home: Home
    _ledger: Ledger | None = field(default=None, init=False)

    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = self.home.open()
        return self._ledger

    def reader(self) -> Ledger:
        """The ledger for reads only (the key lookup needs no operator key)."""
        if self._ledger is None:
            return self.home.open(with_key=False)
        return self._ledger

    def owner_of(self, key: PrivateKey) -> str:
        """The party whose registered key this is."""
        with self.reader().store.read() as r:
            record = r.key(key.kid)
        if record is None:
            raise InputError(
                f"key {key.kid[:16]}… is not registered in the ledger at {self.home.path}; "
                "pass --issuer (or register the key first)",
                code="invalid_input.unknown_key",
                details={"kid": key.kid},
            )
        return record.party

    def operator_id(self) -> str:
        with self.reader().store.read() as r:
            operator = r.operator()
        if operator is None:
            raise ConfigError(f"the ledger at {self.home.path} has no operator entry yet")
        return operator


def public_key_arg(value: str) -> bytes:
    """A ``.pub`` file (or a PEM private key file), or the base64 key itself."""
    path = Path(value)
    if path.exists():
        return load_public_key(path)
    try:
        return public_key_from_b64(value)
    except KeyFormatError as e:
        raise KeyFormatError(
            f"{value}: no such public key file, and not a base64 public key",
            code="invalid_key.file",
        ) from e


def finish(
    session: Session,
    signer: PrivateKey,
    type_: str,
    statement_id: str,
    issuer: str,
    time: str,
    body: dict[str, Any],
    *,
    out_path: Path | None,
    as_json: bool,
) -> None:
    """Build, sign, then append (or write to ``out_path``) and report."""
    payload = build_statement(type_, statement_id, issuer, time, **body)
    envelope = sign_envelope(payload, [signer])
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    if out_path is not None:
        write_envelope(out_path, envelope)
        if as_json:
            emit_json({"digest": digest, "id": statement_id, "out": str(out_path)})
        else:
            out.print(f"wrote {out_path}  {digest}")
        return
    (result,) = session.ledger().submit([envelope])
    report(result.to_json(), as_json)


def write_envelope(path: Path, envelope: Envelope) -> None:
    path.write_text(envelope.to_json() + "\n", encoding="utf-8")


def report(result: dict[str, Any], as_json: bool) -> None:
    """Print one submit result; exit 1 when it was rejected."""
    error = result.get("error")
    if as_json:
        emit_json(result)
        if error is not None:
            raise typer.Exit(1)
        return
    if error is not None:
        fail(f"rejected: {error['message']} [{error['code']}]")
    dup = "  (already in the ledger)" if result.get("duplicate") else ""
    out.print(f"seq {result['seq']}  {result['digest']}{dup}")


def _common(
    home: Path | None, key: Path, issuer: str | None
) -> tuple[Session, PrivateKey, Callable[[], str]]:
    """The session, the signer and a lazy issuer (looked up only when needed)."""
    session = Session(home_of(home))
    signer = load_private_key(key)

    def who() -> str:
        return issuer if issuer is not None else session.owner_of(signer)

    return session, signer, who


# ------------------------------------------------------------------ party register


def party_register(
    party_id: Annotated[str, typer.Option("--id", help="Party id, e.g. 'gin' or 'acme.cn'.")],
    name: Annotated[str, typer.Option("--name", help="Organisation name.")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 country.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="Role: supplier, importer, auditor, lab, operator (repeat, or comma-separate).",
        ),
    ],
    public_key: Annotated[
        list[str],
        typer.Option("--public-key", help="Public key file (PREFIX.pub); repeat for several."),
    ],
    subdivision: Annotated[
        str | None, typer.Option("--subdivision", help="ISO 3166-2 subdivision, e.g. US-TX.")
    ] = None,
    address: Annotated[str | None, typer.Option("--address", help="Postal address.")] = None,
    lei: Annotated[str | None, typer.Option("--lei", help="Legal Entity Identifier.")] = None,
    duns: Annotated[str | None, typer.Option("--duns", help="D-U-N-S number (9 digits).")] = None,
    gln: Annotated[str | None, typer.Option("--gln", help="GS1 Global Location Number.")] = None,
    statement_id: Annotated[
        str | None,
        typer.Option("--statement-id", help="Statement id (default: party/<id>)."),
    ] = None,
    time: TimeOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a party and its first keys (a `party` statement signed by the operator key).

    Example: custody party register --id gin --name "Plains Gin" --country US
    --subdivision US-TX --role supplier --public-key gin.pub
    """
    session = Session(home_of(home))
    signer = session.home.operator_key()
    info: dict[str, Any] = {
        "id": party_id,
        "name": name,
        "country": country,
        "roles": _split_list(role),
    }
    if subdivision is not None:
        info["subdivision"] = subdivision
    if address is not None:
        info["address"] = address
    identifiers = {k: v for k, v in (("lei", lei), ("duns", duns), ("gln", gln)) if v is not None}
    if identifiers:
        info["identifiers"] = identifiers
    keys = [b64encode(public_key_arg(p)) for p in public_key]
    finish(
        session,
        signer,
        "party",
        statement_id or readable_id("party", party_id),
        session.operator_id(),
        time or now(),
        {"party": info, "keys": keys},
        out_path=None,
        as_json=as_json,
    )


# ------------------------------------------------------------------ attest TYPE


def attest_origin(
    key: KeyOpt,
    lot: Annotated[str, typer.Option("--lot", help="Id of the new lot, e.g. farm/seed-2026-01.")],
    material: Annotated[str, typer.Option("--material", help="Material, e.g. cotton.seed.")],
    quantity: DecimalOpt,
    unit: UnitOpt,
    site: SiteNameOpt,
    country: CountryOpt,
    subdivision: SubdivisionOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The issuer first produced (harvested, mined) this lot here: a root of provenance.

    Example: custody attest origin --key farm.key --lot farm/seed-1 --material cotton.seed
    --quantity 12000 --unit kg --site "Lubbock farm" --country US --subdivision US-TX
    """
    session, signer, who = _common(home, key, issuer)
    body = {
        "lot": {"id": lot, "material": material, "quantity": quantity, "unit": unit},
        "site": site_of(site, country, subdivision, lat, lon),
    }
    finish(
        session,
        signer,
        "origin",
        statement_id or readable_id("origin", lot),
        who(),
        time or now(),
        body,
        out_path=out_path,
        as_json=as_json,
    )


def attest_transform(
    key: KeyOpt,
    process: Annotated[str, typer.Option("--process", help="Process, e.g. cotton.ginning.")],
    output: Annotated[
        list[str],
        typer.Option(
            "--output",
            help="Produced lot: LOT:MATERIAL:AMOUNT, e.g. spin/yarn-1:yarn.cotton:3900kg "
            f"(repeatable). {AMOUNT_HELP}.",
        ),
    ],
    site: SiteNameOpt,
    country: CountryOpt,
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            help="Consumed ledger lot: LOT:AMOUNT, e.g. gin/lint-1:4200kg (repeatable).",
        ),
    ] = None,
    external: Annotated[
        list[str] | None,
        typer.Option(
            "--external",
            help="Input from outside the ledger: MATERIAL:AMOUNT:COUNTRY[:SUBDIVISION][:SUPPLIER],"
            " e.g. cotton.lint:100kg:CN:CN-XJ:Example Co (repeatable).",
        ),
    ] = None,
    subdivision: SubdivisionOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The issuer consumed lots it holds (and outside inputs) and produced new lots.

    Example: custody attest transform --key spin.key --process spinning
    --input gin/lint-1:4200kg --output spin/yarn-1:yarn.cotton:3900kg
    --site "Carolina mill" --country US --subdivision US-NC
    """
    session, signer, who = _common(home, key, issuer)
    outputs = [parse_output(o) for o in output]
    body: dict[str, Any] = {
        "process": process,
        "inputs": [parse_input(i) for i in input_ or []],
        "outputs": outputs,
        "site": site_of(site, country, subdivision, lat, lon),
    }
    if external:
        body["external_inputs"] = [parse_external(e) for e in external]
    first = outputs[0]["id"] if outputs else "none"
    finish(
        session,
        signer,
        "transform",
        statement_id or readable_id("transform", first),
        who(),
        time or now(),
        body,
        out_path=out_path,
        as_json=as_json,
    )


def attest_dispatch(
    key: KeyOpt,
    lot: Annotated[str, typer.Option("--lot", help="Lot to hand over (part or all of it).")],
    quantity: DecimalOpt,
    unit: UnitOpt,
    to: Annotated[str, typer.Option("--to", help="Receiving party.")],
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="Shipping document FILE:KIND, e.g. bol.pdf:bill_of_lading; hashed and kept "
            "in the home's document store (repeatable).",
        ),
    ] = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand QUANTITY of a held lot to another party; in transit until its receipt.

    Example: custody attest dispatch --key gin.key --lot gin/lint-1 --quantity 2000
    --unit kg --to spinner --document bol-17.pdf:bill_of_lading
    """
    session, signer, who = _common(home, key, issuer)
    t = time or now()
    body: dict[str, Any] = {"lot": lot, "quantity": quantity, "unit": unit, "to": to}
    if document:
        items = []
        for spec in document:
            path, kind = parse_document(spec)
            sha, _ = session.home.store_document(path)
            items.append({"sha256": sha, "kind": kind, "name": path.name})
        body["documents"] = items
    finish(
        session,
        signer,
        "dispatch",
        statement_id or readable_id("dispatch", lot, to, t),
        who(),
        t,
        body,
        out_path=out_path,
        as_json=as_json,
    )


def _pending_dispatch(session: Session, lot: str, receiver: str) -> str:
    """The digest of the one dispatch of ``lot`` in transit to ``receiver``."""
    with session.reader().store.read() as r:
        pending = [d for d in r.dispatches_of(lot=lot) if d.to == receiver and d.received is None]
    if not pending:
        raise InputError(
            f"no dispatch of lot {lot!r} is in transit to {receiver}",
            code="invalid_input.no_pending_dispatch",
            details={"lot": lot, "to": receiver},
        )
    if len(pending) > 1:
        raise InputError(
            f"{len(pending)} dispatches of lot {lot!r} are in transit to {receiver}; "
            "choose one with --dispatch: " + ", ".join(d.digest for d in pending),
            code="invalid_input.ambiguous_dispatch",
            details={"dispatches": [d.digest for d in pending]},
        )
    return pending[0].digest


def attest_receipt(
    key: KeyOpt,
    dispatch: Annotated[
        str | None,
        typer.Option("--dispatch", help="Digest of the dispatch statement (sha256:...)."),
    ] = None,
    lot: Annotated[
        str | None,
        typer.Option(
            "--lot",
            help="Instead of --dispatch: the lot of the one dispatch in transit to the issuer.",
        ),
    ] = None,
    quantity: Annotated[
        Decimal | None,
        typer.Option(
            "--quantity",
            parser=parse_decimal,
            help="Quantity received (default: all that was dispatched, from the ledger).",
        ),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", parser=parse_unit, help=f"Unit: {UNIT_LIST} (with --quantity)."),
    ] = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm receipt of a dispatch addressed to the issuer; custody moves now.

    Example: custody attest receipt --key spin.key --dispatch sha256:3f1c... --quantity 1995
    --unit kg, or: custody attest receipt --key spin.key --lot gin/lint-1
    """
    session, signer, who = _common(home, key, issuer)
    if (dispatch is None) == (lot is None):
        raise typer.BadParameter("give either --dispatch DIGEST or --lot LOT")
    if dispatch is None:
        assert lot is not None
        digest = _pending_dispatch(session, lot, who())
    else:
        digest = dispatch if dispatch.startswith("sha256:") else "sha256:" + dispatch
    if (quantity is None) != (unit is None):
        raise typer.BadParameter("give --quantity and --unit together (or neither)")
    if quantity is None or unit is None:
        with session.reader().store.read() as r:
            record = r.dispatch(digest)
            lot_record = None if record is None else r.lot(record.lot)
        if record is None or lot_record is None:
            raise InputError(
                f"no dispatch {digest} in the ledger; give --quantity and --unit",
                code="invalid_input.unknown_dispatch",
            )
        quantity, unit = record.quantity, BASE_UNITS[dimension_of(lot_record.unit)]
    finish(
        session,
        signer,
        "receipt",
        statement_id or readable_id("receipt", digest.removeprefix("sha256:")[:16]),
        who(),
        time or now(),
        {"dispatch": digest, "quantity": quantity, "unit": unit},
        out_path=out_path,
        as_json=as_json,
    )


def attest_evidence(
    key: KeyOpt,
    lots: Annotated[
        list[str],
        typer.Option(
            "--lots", "--lot", help="Lot(s) the document is about (repeat, or comma-separate)."
        ),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="invoice, bill_of_lading, packing_list, audit_report, certificate, ..."
        ),
    ],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="The document; hashed and stored in the home's document store, never in the "
            "ledger.",
        ),
    ],
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            help="Claim KEY=VALUE (repeatable); VALUE is JSON when it parses, else text.",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Document name (default: the file name).")
    ] = None,
    media_type: Annotated[
        str | None,
        typer.Option("--media-type", help="Media type (default: guessed from the file name)."),
    ] = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bind a document (invoice, certificate, lab test...) to lots.

    Example: custody attest evidence --key lab.key --lots gin/lint-1 --kind isotope_test
    --file report.pdf --claim origin_match=true
    """
    session, signer, who = _common(home, key, issuer)
    lot_ids = _split_list(lots)
    if not lot_ids:
        raise typer.BadParameter("give at least one lot with --lots")
    sha, size = session.home.store_document(file)
    guessed, _ = mimetypes.guess_type(file.name)
    body: dict[str, Any] = {
        "lots": lot_ids,
        "kind": kind,
        "document": {
            "sha256": sha,
            "name": name or file.name,
            "media_type": media_type or guessed or "application/octet-stream",
            "size": size,
        },
    }
    if claim:
        body["claims"] = dict(parse_claim(c) for c in claim)
    finish(
        session,
        signer,
        "evidence",
        statement_id or readable_id("evidence", kind, lot_ids[0], sha[:12]),
        who(),
        time or now(),
        body,
        out_path=out_path,
        as_json=as_json,
    )


def attest_import(
    key: KeyOpt,
    lot: Annotated[str, typer.Option("--lot", help="Finished-good lot the importer holds.")],
    quantity: DecimalOpt,
    unit: UnitOpt,
    entry_number: Annotated[
        str, typer.Option("--entry-number", help="CBP entry number, e.g. ABC-1234567-8.")
    ],
    hts: Annotated[str | None, typer.Option("--hts", help="HTS code, e.g. 6109.10.0012.")] = None,
    port: Annotated[str | None, typer.Option("--port", help="Port of entry.")] = None,
    country_of_origin: Annotated[
        str | None, typer.Option("--country-of-origin", help="ISO 3166-1 alpha-2.")
    ] = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare a held lot as the goods of a CBP entry (draws on the importer's holding).

    Example: custody attest import --key importer.key --lot factory/tee-1 --quantity 5000
    --unit pcs --entry-number ABC-1234567-8 --hts 6109.10.0012 --port "Los Angeles"
    """
    session, signer, who = _common(home, key, issuer)
    body: dict[str, Any] = {
        "lot": lot,
        "quantity": quantity,
        "unit": unit,
        "entry_number": entry_number,
    }
    for name, value in (("hts", hts), ("port", port), ("country_of_origin", country_of_origin)):
        if value is not None:
            body[name] = value
    finish(
        session,
        signer,
        "import",
        statement_id or readable_id("import", entry_number, lot),
        who(),
        time or now(),
        body,
        out_path=out_path,
        as_json=as_json,
    )


OptionalKeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Signing key: one of the party's keys, or the operator's (default: the home's "
        "operator.key).",
    ),
]


def _key_session(
    home: Path | None, key: Path | None, issuer: str | None
) -> tuple[Session, PrivateKey, Callable[[], str]]:
    if key is not None:
        return _common(home, key, issuer)
    session = Session(home_of(home))
    signer = session.home.operator_key()

    def who() -> str:
        return issuer if issuer is not None else session.operator_id()

    return session, signer, who


def attest_key(
    party: Annotated[str, typer.Option("--party", help="Party that gets the key.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="The new public key file (PREFIX.pub).")
    ],
    key: OptionalKeyOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a public key to a party (signed by one of its keys or by the operator).

    Example: custody attest key --key gin.key --party gin --public-key gin-2026.pub
    """
    session, signer, who = _key_session(home, key, issuer)
    pk = public_key_arg(public_key)
    finish(
        session,
        signer,
        "key",
        statement_id or readable_id("key", party, kid_of(pk)[:16]),
        who(),
        time or now(),
        {"party": party, "public_key": b64encode(pk)},
        out_path=out_path,
        as_json=as_json,
    )


def attest_revoke(
    party: Annotated[str, typer.Option("--party", help="Party whose key is revoked.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="The public key file (PREFIX.pub) to revoke.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="superseded or compromised.")],
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective",
            parser=parse_time_option,
            help="For 'compromised': from when the key is untrusted; signatures appended at or "
            "after this time are voided at verification.",
        ),
    ] = None,
    key: OptionalKeyOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a party's key: it never signs again (signed by the party or the operator).

    Example: custody attest revoke --party gin --public-key gin-old.pub --reason compromised
    --effective 2026-03-01T00:00:00Z
    """
    if reason not in ("superseded", "compromised"):
        raise typer.BadParameter(f"--reason must be superseded or compromised, got {reason!r}")
    session, signer, who = _key_session(home, key, issuer)
    pk = public_key_arg(public_key)
    body: dict[str, Any] = {"party": party, "public_key": b64encode(pk), "reason": reason}
    if effective is not None:
        body["effective"] = effective
    finish(
        session,
        signer,
        "revoke",
        statement_id or readable_id("revoke", party, kid_of(pk)[:16]),
        who(),
        time or now(),
        body,
        out_path=out_path,
        as_json=as_json,
    )


# ------------------------------------------------------------------ registration


def register(app: typer.Typer) -> None:
    """Add ``custody party ...`` and ``custody attest ...`` to ``app``."""
    party_app = typer.Typer(help="Register parties (operator).", no_args_is_help=True)
    party_app.command("register")(handle_errors(party_register))
    app.add_typer(party_app, name="party")

    attest_app = typer.Typer(
        help=(
            "Build, sign and append a statement from flags. Prints 'seq N  sha256:...'; "
            "--out FILE writes the envelope instead. Items: --input LOT:AMOUNT, "
            "--output LOT:MATERIAL:AMOUNT, --external MATERIAL:AMOUNT:CC[:CC-SUB][:SUPPLIER], "
            "--document FILE:KIND, --claim KEY=VALUE; AMOUNT is QTY UNIT[=MASSkg] like 4200kg."
        ),
        no_args_is_help=True,
    )
    commands: dict[str, Callable[..., None]] = {
        "origin": attest_origin,
        "transform": attest_transform,
        "dispatch": attest_dispatch,
        "receipt": attest_receipt,
        "evidence": attest_evidence,
        "import": attest_import,
        "key": attest_key,
        "revoke": attest_revoke,
    }
    for name, fn in commands.items():
        attest_app.command(name)(handle_errors(fn))
    app.add_typer(attest_app, name="attest")
