"""``custody epcis ...``: GS1 EPCIS 2.0 documents in and out (see ``docs/epcis.md``).

* ``epcis hash FILE`` prints the CBV 2.0 event hash ID of every event, one per
  line, in document order (``--json``: a list of ``{"event", "hash"}``);
* ``epcis import FILE --key K`` maps the key's party's events to custody
  statements, signs them with K and appends them.

The document is read as a stream (:mod:`ledger.epcis.reader`), so memory stays
bounded by the largest event; imports show a progress bar on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, KeyFileOpt, PartyOpt, ServerOpt
from cli.output import emit_json, handle_errors

app = typer.Typer(help="GS1 EPCIS 2.0: import events, export traces, event hash IDs.")

FileArg = Annotated[Path, typer.Argument(metavar="FILE", help="EPCIS 2.0 JSON / JSON-LD document.")]


@app.command("hash")
@handle_errors
def hash_events(file: FileArg, as_json: JsonOpt = False) -> None:
    """Print the CBV 2.0 event hash ID (ni:///sha-256;...?ver=CBV2.0) of every event.

    Example: custody epcis hash shipment.jsonld
    """
    from ledger.epcis.hashid import context_namespaces, hash_id
    from ledger.epcis.reader import iter_events, read_head

    head = read_head(file)
    namespaces = context_namespaces(head.context)
    if as_json:
        emit_json([{"event": i, "hash": hash_id(e, namespaces)} for i, e in iter_events(file)])
        return
    write = sys.stdout.write
    for _, event in iter_events(file):
        write(hash_id(event, namespaces) + "\n")


@app.command("import")
@handle_errors
def import_events(
    file: FileArg,
    key: Annotated[Path, typer.Option("--key", help="The performing party's private key.")],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="Mapping file: materials, locations, processes."),
    ] = None,
    home: HomeOpt = None,
    server: ServerOpt = None,
    party: PartyOpt = None,
    as_json: JsonOpt = False,
    each: Annotated[
        bool, typer.Option("--each", help="Also print a line for every event not rejected.")
    ] = False,
) -> None:
    """Sign the key's party's events as custody statements and append them, in order.

    Other parties' events are skipped; events custody cannot represent are
    rejected naming the event and field (one line each; --each prints every
    event's outcome). Importing a document twice appends nothing new. With
    --server (and --party), statements are signed here and submitted to the
    server. Example: custody epcis import shipment.jsonld --key keys/gin.key
    """
    from cli.epcis_import import run_import

    run_import(file, key, mapping, home, as_json, server, party, each=each)


@app.command("export")
@handle_errors
def export_trace(
    lot: Annotated[
        str, typer.Argument(metavar="LOT", help="The lot whose upstream trace is exported.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Write the document here.")],
    home: HomeOpt = None,
    server: ServerOpt = None,
    party: PartyOpt = None,
    key: KeyFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the lot's upstream trace as one EPCIS 2.0 JSON-LD document.

    With --server, the server's GET /v1/lots/{lot}/epcis (logged in as --party
    with --key). Example: custody epcis export gin/lint-2026-001 -o lint.jsonld
    """
    import json

    from cli.output import err

    if server:
        from cli.client import Client, lot_path

        with Client(server) as client:
            client.login_with_file(party, key)
            document = client._get(f"/v1/lots/{lot_path(lot)}/epcis").json()
    else:
        from cli.common import home_of
        from provenance.epcis.export import export_lot

        ledger = home_of(home).open(with_key=False)
        document = export_lot(ledger.store, lot)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    events = len(document["epcisBody"]["eventList"])
    if as_json:
        emit_json({"lot": lot, "out": str(output), "events": events})
    else:
        err.print(f"wrote {output}: {events} EPCIS events")


def register(main: typer.Typer) -> None:
    """Add ``custody epcis ...`` to the main app."""
    main.add_typer(app, name="epcis")
