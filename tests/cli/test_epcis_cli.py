"""``custody epcis import`` / ``hash`` and ``party register --gln``, run for real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import Cli

DATA = Path(__file__).resolve().parents[1] / "data" / "epcis"
FARM_GLN = "0614141000005"  # urn:epc:id:sgln:0614141.00000.0
GIN_GLN = "0614141000012"  # urn:epc:id:sgln:0614141.00001.0
LINT = "urn:epc:class:lgtin:0614141.054321.LINT1"


_PREPARED: dict[str, Cli] = {}  # per test session (its base temporary folder)


def _prepared(factory: pytest.TempPathFactory) -> Cli:
    """A ledger with the farm and the gin registered by their GLNs, built once."""
    key = str(factory.getbasetemp())
    if key not in _PREPARED:
        c = Cli(factory.mktemp("epcis"), repeat_in_process=True)
        c.run("init", "--origin", "example.org/custody")
        for pid, gln in (("farm", FARM_GLN), ("gin", GIN_GLN)):
            c.keys(pid)
            c.register(pid, pid.title(), "US", "--role", "supplier", "--gln", gln)
        _PREPARED[key] = c
    return _PREPARED[key]


@pytest.fixture
def cli(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Cli:
    """Each test's own copy of the prepared ledger (other EPCIS test modules import
    this fixture alone)."""
    return _prepared(tmp_path_factory).copy(tmp_path)


def _import(cli: Cli, doc: Path, party: str, code: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = cli.json(
        "epcis", "import", str(doc), "--key", f"{party}.key", code=code
    )
    return out


def test_register_gln_checks_the_check_digit(cli: Cli) -> None:
    cli.keys("lab")
    res = cli.json(
        "party", "register", "--id", "lab", "--name", "Lab", "--country", "US",
        "--public-key", "lab.pub", "--role", "lab", "--gln", "0614141000013", code=1,
    )  # fmt: skip
    assert res["error"]["code"] == "invalid_statement.bad_gln"
    assert res["error"]["details"]["field"] == "party.glns[0]"


def test_import_a_chain_party_by_party(cli: Cli) -> None:
    doc = DATA / "chains" / "cotton.jsonld"
    farm = _import(cli, doc, "farm")
    assert [sorted(r) for r in farm[:2]] == [["digest", "event", "id", "seq"]] * 2
    assert farm[0]["id"] == "urn:uuid:6f1c2a2e-0000-4000-8000-000000000001"
    assert farm[1]["id"].startswith("ni:///sha-256;")
    assert [r.get("skipped") for r in farm[2:]] == ["performed by gin"] * 3
    gin = _import(cli, doc, "gin", code=1)  # the AggregationEvent cannot be represented
    assert [r.get("skipped") for r in gin[:2]] == ["performed by farm"] * 2
    assert "seq" in gin[2]
    assert "seq" in gin[3]
    assert gin[4]["error"]["code"] == "invalid_epcis.unsupported"
    assert gin[4]["error"]["details"] == {"event": 4, "field": "type"}
    size = cli.json("ledger", "show", "--seq", "0")  # the ledger is readable
    assert size["seq"] == 0
    # importing again appends nothing and reports the same entries
    again = _import(cli, doc, "gin", code=1)
    assert [r.get("seq") for r in again[2:4]] == [gin[2]["seq"], gin[3]["seq"]]
    assert all(r.get("duplicate") for r in again[2:4])
    report = cli.json("verify", LINT, code=3)
    assert report["composition"][0]["subdivision"] == "US-TX"
    assert report["composition"][0]["material"] == "cotton.seed"
    assert not [f for f in report["findings"] if f["severity"] == "error"]


def test_receipt_before_the_dispatch_is_named(cli: Cli) -> None:
    gin = _import(cli, DATA / "chains" / "cotton.jsonld", "gin", code=1)
    assert gin[2]["error"]["code"] == "invalid_epcis.no_dispatch"
    assert gin[2]["error"]["details"]["field"] == "quantityList[0]"


def _doc(tmp: Path, events: list[dict[str, Any]]) -> Path:
    path = tmp / "doc.jsonld"
    path.write_text(
        json.dumps(
            {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-03-01T00:00:00Z",
                "epcisBody": {"eventList": events},
            }
        )
    )
    return path


def _commission(location: str, uom: str = "KGM", lot: str = "SEED9") -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "quantityList": [
            {"epcClass": f"urn:epc:class:lgtin:0614141.012345.{lot}", "quantity": 5, "uom": uom}
        ],
        "action": "ADD",
        "bizStep": "commissioning",
        "bizLocation": {"id": location},
    }


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        (_commission("urn:epc:id:sgln:0614141.00000.0", uom="XYZ"), "invalid_epcis.unknown_unit",
         "quantityList[0].uom"),
        (_commission("urn:epc:id:sgln:0614141.00009.0"), "invalid_epcis.unknown_gln",
         "bizLocation.id"),
        ({**_commission("urn:epc:id:sgln:0614141.00000.0"), "bizLocation": None},
         "invalid_epcis.bad_event", "bizLocation"),
        ({**_commission("urn:epc:id:sgln:0614141.00000.0"), "bizStep": "inspecting"},
         "invalid_epcis.unsupported", "bizStep"),
        (_commission("urn:epc:id:sgln:0614141.00000.0", lot="a%2Fb"),
         "invalid_epcis.bad_identifier", "quantityList[0].epcClass"),
    ],
    ids=["unknown-unit", "unregistered-gln", "no-location", "inspecting", "bad-lot-id"],
)  # fmt: skip
def test_unrepresentable_events_are_named(
    cli: Cli, event: dict[str, Any], code: str, field: str
) -> None:
    results = _import(cli, _doc(cli.dir, [event]), "farm", code=1)
    assert results[0]["error"]["code"] == code
    assert results[0]["error"]["details"]["field"] == field


def test_hostile_document_is_one_error(cli: Cli) -> None:
    path = cli.dir / "v1.json"
    path.write_text('{"type": "EPCISDocument", "schemaVersion": 1.2, "epcisBody": {}}')
    res = cli.json("epcis", "import", str(path), "--key", "farm.key", code=1)
    assert res["error"]["code"] == "invalid_epcis.schema_version"
    proc = cli.run("epcis", "import", str(path), "--key", "farm.key", code=1)
    assert "Traceback" not in proc.stderr
    assert "schemaVersion" in proc.stderr


@pytest.mark.slow
def test_many_events_stream(cli: Cli) -> None:
    """10^5 events of an unregistered GLN: one error each, nothing appended."""
    events = [
        {**_commission("urn:epc:id:sgln:0614141.00009.0"), "eventID": f"urn:uuid:{i:032x}"}
        for i in range(100_000)
    ]
    doc = _doc(cli.dir, events)
    proc = cli.run("epcis", "import", str(doc), "--key", "farm.key", "--json", code=1)
    results = json.loads(proc.stdout)
    assert len(results) == 100_000
    assert {r["error"]["code"] for r in results} == {"invalid_epcis.unknown_gln"}
    assert cli.json("ledger", "show", "--seq", "3", code=1)["error"]["code"] == "not_found"


def test_hash_command_prints_one_line_per_event(cli: Cli) -> None:
    path = DATA / "hash" / "epcisDocWithVariousEventTypes.jsonld"
    lines = cli.run("epcis", "hash", str(path), home=False).stdout.splitlines()
    assert lines == path.with_suffix(".hashes").read_text().split()


def test_error_declaration_retracts_the_imported_statement(cli: Cli) -> None:
    event = {**_commission("urn:epc:id:sgln:0614141.00000.0"), "eventID": "urn:uuid:e1"}
    first = _import(cli, _doc(cli.dir, [event]), "farm")
    declared = {
        **event,
        "errorDeclaration": {
            "declarationTime": "2026-03-02T09:00:00Z",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:e2"],
        },
    }
    retracted = _import(cli, _doc(cli.dir, [declared]), "farm")
    assert retracted[0]["seq"] > first[0]["seq"]
    entry = cli.json("ledger", "show", "--seq", str(retracted[0]["seq"]))
    assert entry["seq"] == retracted[0]["seq"]
    again = _import(cli, _doc(cli.dir, [declared]), "farm")
    assert again[0]["duplicate"] is True
    stranger = {**declared, "eventID": "urn:uuid:never-imported"}
    refused = _import(cli, _doc(cli.dir, [stranger]), "farm", code=1)
    assert refused[0]["error"]["code"] == "invalid_epcis.unsupported"
    assert refused[0]["error"]["details"]["field"] == "errorDeclaration"


@pytest.mark.postgres
def test_import_and_export_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    c = Cli(tmp_path)
    c.env["CUSTODY_DB_URL"] = pg_url
    c.run("init", "--origin", "example.org/custody")
    for pid, gln in (("farm", FARM_GLN), ("gin", GIN_GLN)):
        c.keys(pid)
        c.register(pid, pid.title(), "US", "--role", "supplier", "--gln", gln)
    doc = DATA / "chains" / "cotton.jsonld"
    farm = _import(c, doc, "farm")
    gin = _import(c, doc, "gin", code=1)
    assert "seq" in farm[1]
    assert "seq" in gin[3]
    again = _import(c, doc, "farm")
    assert all(r.get("duplicate") or "skipped" in r for r in again)
    out = c.dir / "lint.jsonld"
    c.run("epcis", "export", LINT, "-o", str(out))
    events = json.loads(out.read_text())["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in events] == [
        "commissioning", "shipping", "receiving", "commissioning",
    ]  # fmt: skip
