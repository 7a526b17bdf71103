"""``custody attest evidence|import``: documents bound to lots, and CBP entries."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.attest.options import (
    DecimalOpt,
    IdOpt,
    IssuerOpt,
    KeyOpt,
    OutOpt,
    ReplacesOpt,
    TimeOpt,
    UnitOpt,
)
from cli.attest.parsers import parse_claim, read_fields, readable_id, split_list
from cli.attest.signing import signing
from cli.common import HomeOpt, JsonOpt, ServerOpt
from ledger.errors import InputError


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
    fields: Annotated[
        Path | None,
        typer.Option(
            "--fields",
            help="JSON file with the typed fields of a typed kind (commercial_invoice, "
            "transport_document, payment_record, lab_test ...; docs/evidence.md).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Document name (default: the file name).")
    ] = None,
    media_type: Annotated[
        str | None,
        typer.Option("--media-type", help="Media type (default: guessed from the file name)."),
    ] = None,
    replaces: ReplacesOpt = None,
    server: ServerOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bind a document (invoice, certificate, lab test...) to lots.

    With --server URL (and --issuer), the statement is appended through that server
    and the file uploaded to it (PUT /v1/documents/SHA256); without, the file goes to
    the home's document store.

    Example: custody attest evidence --key lab.key --lots gin/lint-1 --kind isotope_test
    --file report.pdf --claim origin_match=true

    Typed: custody attest evidence --key gin.key --lots gin/lint-1 --kind commercial_invoice
    --file invoice.pdf --fields invoice.json
    """
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
    s.server = server
    lot_ids = split_list(lots)
    if not lot_ids:
        raise typer.BadParameter("give at least one lot with --lots")
    data: bytes | None = None
    if server is None:
        sha, size = s.session.home.store_document(file)
    else:
        data = read_document(file)
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
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
    if fields is not None:
        body["fields"] = read_fields(fields)
    s.append("evidence", readable_id("evidence", kind, lot_ids[0], sha[:12]), body, data)


def read_document(file: Path) -> bytes:
    """The bytes of ``--file``, or a clear error."""
    try:
        return file.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {file}: {e.strerror}", code="invalid_input.file") from e


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
    replaces: ReplacesOpt = None,
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
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    s.replaces = replaces
    body: dict[str, Any] = {
        "lot": lot,
        "quantity": quantity,
        "unit": unit,
        "entry_number": entry_number,
    }
    for name, value in (("hts", hts), ("port", port), ("country_of_origin", country_of_origin)):
        if value is not None:
            body[name] = value
    s.append("import", readable_id("import", entry_number, lot), body)
