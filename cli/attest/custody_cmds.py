"""``custody attest origin|transform|dispatch|receipt``: the custody events of a lot."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from cli.attest.options import (
    CountryOpt,
    DecimalOpt,
    IdOpt,
    IssuerOpt,
    KeyOpt,
    LatOpt,
    LonOpt,
    OutOpt,
    ReplacesOpt,
    SiteNameOpt,
    SubdivisionOpt,
    TimeOpt,
    UnitOpt,
    site_of,
)
from cli.attest.parsers import (
    AMOUNT_HELP,
    UNIT_LIST,
    parse_decimal,
    parse_document,
    parse_external,
    parse_input,
    parse_output,
    parse_unit,
    readable_id,
)
from cli.attest.signing import Session, signing
from cli.common import HomeOpt, JsonOpt
from ledger.errors import InputError
from ledger.units import BASE_UNITS, dimension_of


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
    replaces: ReplacesOpt = None,
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
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
    body = {
        "lot": {"id": lot, "material": material, "quantity": quantity, "unit": unit},
        "site": site_of(site, country, subdivision, lat, lon),
    }
    s.append("origin", readable_id("origin", lot), body)


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
    replaces: ReplacesOpt = None,
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
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
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
    s.append("transform", readable_id("transform", first), body)


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
    replaces: ReplacesOpt = None,
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
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
    t = s.when
    body: dict[str, Any] = {"lot": lot, "quantity": quantity, "unit": unit, "to": to}
    if document:
        items = []
        for spec in document:
            path, kind = parse_document(spec)
            sha, _ = s.session.home.store_document(path)
            items.append({"sha256": sha, "kind": kind, "name": path.name})
        body["documents"] = items
    s.append("dispatch", readable_id("dispatch", lot, to, t), body)


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
    replaces: ReplacesOpt = None,
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
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
    if (dispatch is None) == (lot is None):
        raise typer.BadParameter("give either --dispatch DIGEST or --lot LOT")
    if dispatch is None:
        assert lot is not None
        digest = _pending_dispatch(s.session, lot, s.who())
    else:
        digest = dispatch if dispatch.startswith("sha256:") else "sha256:" + dispatch
    if (quantity is None) != (unit is None):
        raise typer.BadParameter("give --quantity and --unit together (or neither)")
    if quantity is None or unit is None:
        with s.session.reader().store.read() as r:
            record = r.dispatch(digest)
            lot_record = None if record is None else r.lot(record.lot)
        if record is None or lot_record is None:
            raise InputError(
                f"no dispatch {digest} in the ledger; give --quantity and --unit",
                code="invalid_input.unknown_dispatch",
            )
        quantity, unit = record.quantity, BASE_UNITS[dimension_of(lot_record.unit)]
    body = {"dispatch": digest, "quantity": quantity, "unit": unit}
    s.append("receipt", readable_id("receipt", digest.removeprefix("sha256:")[:16]), body)
