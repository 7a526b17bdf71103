"""``custody epcis export`` → GS1's EPCIS 2.0 JSON schema → ``custody epcis import``
into a fresh ledger, each party importing its own events, upstream first: the
same verdict, findings and composition."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.support import Cli

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "epcis" / "schema"
LINT = "gin/lint-2026-001"
PARTIES = (
    ("farm", "Lubbock Family Cotton Farm", "supplier",
     ("--subdivision", "US-TX", "--gln", "0614141000005")),
    ("gin", "Plains Cooperative Gin", "supplier", ("--subdivision", "US-TX")),
    ("importer", "Prairie Apparel Inc.", "importer", ()),
)  # fmt: skip


def _ledger(cli: Cli) -> None:
    cli.run("init", "--origin", "example.org/custody")
    for pid, name, role, extra in PARTIES:
        if not (cli.dir / f"{pid}.key").exists():
            cli.keys(pid)
        cli.register(pid, name, "US", "--role", role, *extra)


def _chain(cli: Cli) -> None:
    cli.attest(
        "origin", "--key", "farm.key", "--lot", "farm/seed-2026-001", "--material",
        "cotton.seed", "--quantity", "12000", "--unit", "kg", "--site", "Lubbock farm",
        "--country", "US", "--subdivision", "US-TX", "--time", "2026-03-01T08:00:00Z",
    )  # fmt: skip
    cli.attest(
        "dispatch", "--key", "farm.key", "--lot", "farm/seed-2026-001", "--quantity", "12",
        "--unit", "t", "--to", "gin", "--time", "2026-03-02T08:00:00Z",
    )  # fmt: skip
    cli.attest(
        "receipt", "--key", "gin.key", "--lot", "farm/seed-2026-001",
        "--time", "2026-03-03T08:00:00Z",
    )  # fmt: skip
    cli.attest(
        "transform", "--key", "gin.key", "--process", "cotton.ginning", "--input",
        "farm/seed-2026-001:12000kg", "--output", f"{LINT}:cotton.lint:4200kg", "--site",
        "Plains gin", "--country", "US", "--subdivision", "US-TX",
        "--time", "2026-03-04T08:00:00Z",
    )  # fmt: skip
    cli.attest(
        "dispatch", "--key", "gin.key", "--lot", LINT, "--quantity", "4200", "--unit", "kg",
        "--to", "importer", "--time", "2026-03-05T08:00:00Z",
    )  # fmt: skip
    cli.attest("receipt", "--key", "importer.key", "--lot", LINT, "--time", "2026-03-06T08:00:00Z")


def _essence(report: dict[str, Any]) -> tuple[Any, ...]:
    findings = sorted((f["rule"], f["severity"], f["message"]) for f in report["findings"])
    return report["verdict"], findings, report["composition"], report["untraced_share"]


@pytest.mark.slow
def test_export_validates_and_imports_back(tmp_path: Path) -> None:
    first = Cli(tmp_path / "a", repeat_in_process=True)
    first.dir.mkdir()
    _ledger(first)
    _chain(first)
    before = first.json("verify", LINT, code=3)
    doc_path = first.dir / "lint.jsonld"
    first.run("epcis", "export", LINT, "-o", str(doc_path))
    document = json.loads(doc_path.read_text())
    schema = json.loads((SCHEMA / "epcis-json-schema.json").read_text())
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    assert [e.message for e in validator.iter_errors(document)] == []
    events = document["epcisBody"]["eventList"]
    assert [e["custody:seq"] for e in events] == sorted(e["custody:seq"] for e in events)
    assert events[0]["bizLocation"]["id"] == "https://id.gs1.org/414/0614141000005"
    assert events[1]["quantityList"][0]["uom"] == "TNE"

    second = Cli(tmp_path / "b", repeat_in_process=True)
    second.dir.mkdir()
    for pid, *_ in PARTIES:
        for suffix in (".key", ".pub"):
            shutil.copy(first.dir / f"{pid}{suffix}", second.dir / f"{pid}{suffix}")
    _ledger(second)
    for pid, *_ in PARTIES:
        results = second.json("epcis", "import", str(doc_path), "--key", f"{pid}.key")
        assert not [r for r in results if "error" in r], results
    after = second.json("verify", LINT, code=3)
    assert _essence(after) == _essence(before)
    again = second.json("epcis", "import", str(doc_path), "--key", "gin.key")
    assert all(r.get("duplicate") or "skipped" in r for r in again)
