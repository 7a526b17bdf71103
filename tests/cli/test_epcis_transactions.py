"""``bizTransactionList`` of a shipping event → the dispatch's typed trade-document
references, and back to ``bizTransactionList`` in an export."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.cli.support import Cli
from tests.cli.test_epcis_cli import DATA, _commission, _doc, _import, cli

__all__ = ["cli"]

PO = "urn:epcglobal:cbv:bt:0614141000012:PO-77"
SEED = "urn:epc:class:lgtin:0614141.012345.SEED1"


def _documents(cli: Cli, seq: int) -> list[dict[str, str]]:
    shown = cli.json("ledger", "show", "--seq", str(seq))
    statement = json.loads(base64.b64decode(shown["envelope"]["payload"]))
    documents: list[dict[str, str]] = statement["documents"]
    return documents


def _shipping(transactions: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-03-02T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "quantityList": [{"epcClass": SEED.replace("SEED1", "SEED9"), "quantity": 5, "uom": "KGM"}],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00000.0"},
        "bizTransactionList": transactions,
        "destinationList": [
            {"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00001"}
        ],
    }


def test_transactions_become_dispatch_documents_and_come_back(cli: Cli) -> None:
    farm = _import(cli, DATA / "chains" / "cotton.jsonld", "farm")
    assert _documents(cli, farm[1]["seq"]) == [
        {"sha256": hashlib.sha256(PO.encode()).hexdigest(), "kind": "purchase_order", "name": PO}
    ]
    out = cli.dir / "seed.jsonld"
    cli.run("epcis", "export", SEED, "-o", str(out))
    events = json.loads(out.read_text())["epcisBody"]["eventList"]
    shipping = [e for e in events if e.get("bizStep") == "shipping"]
    assert shipping[0]["bizTransactionList"] == [{"type": "po", "bizTransaction": PO}]


def test_typed_references_by_cbv_type(cli: Cli) -> None:
    transactions = [
        {"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:INV-1"},
        {"type": "urn:epcglobal:cbv:btt:bol", "bizTransaction": "http://t.example.com/bol/9"},
        {"type": "https://ref.gs1.org/cbv/BTT-desadv", "bizTransaction": "urn:x:desadv:3"},
        {"bizTransaction": "urn:x:deal:4"},
    ]
    doc = _doc(cli.dir, [_commission("urn:epc:id:sgln:0614141.00000.0"), _shipping(transactions)])
    results = _import(cli, doc, "farm")
    kinds = [d["kind"] for d in _documents(cli, results[1]["seq"])]
    assert kinds == ["commercial_invoice", "bill_of_lading", "packing_list", "business_transaction"]


def test_a_transaction_that_is_not_a_uri_is_named(cli: Cli) -> None:
    doc = _doc(
        cli.dir,
        [
            _commission("urn:epc:id:sgln:0614141.00000.0"),
            _shipping([{"type": "po", "bizTransaction": "PO 77"}]),
        ],
    )
    results = _import(cli, doc, "farm", code=1)
    assert results[1]["error"]["code"] == "invalid_epcis.bad_event"
    assert results[1]["error"]["details"]["field"] == "bizTransactionList[0].bizTransaction"
