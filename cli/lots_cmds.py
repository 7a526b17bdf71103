"""``custody lots show LOT`` and ``custody lots held --party P``: read the custody state.

Both read the derived state tables of the local ledger (``ledger.store``
ReadTx lookups) in one read snapshot. Quantities are exact decimals in the
lot's base unit (kg, pcs, m, m2, l), printed without trailing zeros and, in
``--json``, as strings so no JSON reader turns them into binary floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import emit_json, escape, handle_errors, out
from ledger.errors import NotFoundError
from ledger.units import BASE_UNITS, dimension_of, format_decimal

if TYPE_CHECKING:
    from ledger.custody import DispatchRecord, LotRecord
    from ledger.store import ReadTx

app = typer.Typer(help="Read the custody state: lots, holdings, what is in transit.")


def amount_text(amount: Decimal) -> str:
    """An exact decimal without trailing zeros (``12000``, ``0.5``)."""
    text = format_decimal(amount)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def base_unit(lot: LotRecord) -> str:
    return BASE_UNITS[dimension_of(lot.unit)]


def _dispatch_json(d: DispatchRecord, unit: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "digest": d.digest,
        "seq": d.seq,
        "lot": d.lot,
        "from": d.sender,
        "to": d.to,
        "quantity": amount_text(d.quantity),
        "unit": unit,
    }
    if d.received is not None:
        obj["received"] = amount_text(d.received)
        obj["receipt_seq"] = d.receipt_seq
    return obj


def lot_report(r: ReadTx, lot_id: str) -> dict[str, Any]:
    """Everything ``lots show`` prints, as a JSON-ready object."""
    lot = r.lot(lot_id)
    if lot is None:
        raise NotFoundError(
            f"lot {lot_id!r} does not exist in this ledger", details={"lot": lot_id}
        )
    unit = base_unit(lot)
    holdings = r.holdings_of_lot(lot_id)
    dispatches = r.dispatches_of(lot=lot_id)
    refs = sorted(r.lot_refs([lot_id]), key=lambda ref: (ref[1], ref[2]))
    entries = {e.seq: e for e in r.entries_by_seqs(seq for _, seq, _ in refs)}
    statements = [
        {
            "seq": seq,
            "type": entries[seq].type,
            "issuer": entries[seq].issuer,
            "id": entries[seq].stmt_id,
            "role": role,
            "digest": entries[seq].digest,
        }
        for _, seq, role in refs
        if seq in entries
    ]
    in_transit = [d for d in dispatches if d.received is None]
    return {
        "lot": lot.id,
        "material": lot.material,
        "creator": lot.creator,
        "created_seq": lot.seq,
        "quantity": amount_text(lot.quantity),
        "unit": unit,
        "holdings": [
            {"party": party, "quantity": amount_text(q)} for party, q in sorted(holdings.items())
        ],
        "in_transit": [_dispatch_json(d, unit) for d in in_transit],
        "dispatches": [_dispatch_json(d, unit) for d in dispatches],
        "statements": statements,
    }


def party_report(r: ReadTx, party: str) -> dict[str, Any]:
    """Everything ``lots held`` prints, as a JSON-ready object."""
    if r.party(party) is None:
        raise NotFoundError(f"party {party!r} is not registered", details={"party": party})
    lots: dict[str, LotRecord | None] = {}

    def unit_of(lot_id: str) -> str:
        if lot_id not in lots:
            lots[lot_id] = r.lot(lot_id)
        record = lots[lot_id]
        return "?" if record is None else base_unit(record)

    holdings = []
    for lot_id, q in sorted(r.holdings_of_party(party).items()):
        unit = unit_of(lot_id)
        record = lots[lot_id]
        holdings.append(
            {
                "lot": lot_id,
                "material": None if record is None else record.material,
                "quantity": amount_text(q),
                "unit": unit,
            }
        )
    pending = [d for d in r.dispatches_of(party=party) if d.received is None]
    return {
        "party": party,
        "holdings": holdings,
        "in_transit_out": [_dispatch_json(d, unit_of(d.lot)) for d in pending if d.sender == party],
        "in_transit_in": [_dispatch_json(d, unit_of(d.lot)) for d in pending if d.to == party],
    }


@app.command("show")
@handle_errors
def show(
    lot: Annotated[str, typer.Argument(help="Lot id.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A lot: creator, material, quantity; who holds how much; what is in transit; its
    statements."""
    ledger = home_of(home).open(with_key=False)
    with ledger.store.read() as r:
        data = lot_report(r, lot)
    if as_json:
        emit_json(data)
        return
    unit = data["unit"]
    out.print(
        escape(
            f"lot {data['lot']}  {data['material']}  {data['quantity']} {unit}  "
            f"created by {data['creator']} at seq {data['created_seq']}"
        )
    )
    out.print("held by:")
    if not data["holdings"]:
        out.print("  (nobody: all of it was consumed, imported or is in transit)")
    for h in data["holdings"]:
        out.print(escape(f"  {h['party']:<24} {h['quantity']:>16} {unit}"))
    out.print("in transit:")
    if not data["in_transit"]:
        out.print("  (nothing)")
    for d in data["in_transit"]:
        out.print(
            escape(
                f"  {d['from']} -> {d['to']}  {d['quantity']} {unit}  "
                f"(dispatch seq {d['seq']}, {d['digest']})"
            )
        )
    out.print("statements:")
    for s in data["statements"]:
        out.print(
            escape(
                f"  seq {s['seq']:<6} {s['type']:<10} {s['issuer']:<20} {s['role']:<9} {s['id']}"
            )
        )


@app.command("held")
@handle_errors
def held(
    party: Annotated[str, typer.Option("--party", help="Party id.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a party holds, and its dispatches in transit (outgoing and incoming)."""
    ledger = home_of(home).open(with_key=False)
    with ledger.store.read() as r:
        data = party_report(r, party)
    if as_json:
        emit_json(data)
        return
    out.print(escape(f"{party} holds:"))
    if not data["holdings"]:
        out.print("  (nothing)")
    for h in data["holdings"]:
        out.print(
            escape(f"  {h['lot']:<28} {h['material'] or '':<16} {h['quantity']:>16} {h['unit']}")
        )
    for title, key, other in (
        ("in transit, dispatched by " + party, "in_transit_out", "to"),
        ("in transit, addressed to " + party, "in_transit_in", "from"),
    ):
        out.print(escape(title + ":"))
        if not data[key]:
            out.print("  (nothing)")
        for d in data[key]:
            out.print(
                escape(
                    f"  {d['lot']:<28} {other} {d[other]:<16} {d['quantity']:>12} {d['unit']}  "
                    f"(seq {d['seq']}, {d['digest']})"
                )
            )


def register(main: typer.Typer) -> None:
    """Add ``custody lots ...`` to the main app."""
    main.add_typer(app, name="lots")
