"""Export of a trace with void statements (a ``retract`` and a ``replaces``
correction) → GS1's EPCIS 2.0 JSON schema → import into a fresh ledger, each
party importing its own events: the void statements travel as what they are,
followed by an errorDeclaration at the place of the retraction, and the fresh
ledger gives the same verdict, findings, composition and void statements."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.support import Cli
from tests.cli.test_epcis_roundtrip import LINT, PARTIES, SCHEMA, _essence, _ledger

SEED = "farm/seed-2026-001"


def _chain(cli: Cli) -> None:
    cli.attest(
        "origin", "--key", "farm.key", "--lot", SEED, "--material", "cotton.seed",
        "--quantity", "12000", "--unit", "kg", "--site", "Lubbock farm", "--country", "US",
        "--subdivision", "US-TX", "--time", "2026-03-01T08:00:00Z",
    )  # fmt: skip
    wrong = cli.attest(
        "dispatch", "--key", "farm.key", "--lot", SEED, "--quantity", "10", "--unit", "t",
        "--to", "gin", "--time", "2026-03-02T06:00:00Z",
    )  # fmt: skip
    cli.attest(
        "retract", "--key", "farm.key", "--seq", str(wrong["seq"]), "--reason",
        "wrong quantity", "--time", "2026-03-02T07:00:00Z",
    )  # fmt: skip
    cli.attest(
        "dispatch", "--key", "farm.key", "--lot", SEED, "--quantity", "12", "--unit", "t",
        "--to", "gin", "--time", "2026-03-02T08:00:00Z",
    )  # fmt: skip
    cli.attest("receipt", "--key", "gin.key", "--lot", SEED, "--time", "2026-03-03T08:00:00Z")
    first = cli.attest(
        "transform", "--key", "gin.key", "--process", "cotton.ginning", "--input",
        f"{SEED}:12000kg", "--output", f"{LINT}:cotton.lint:4000kg", "--site",
        "Plains gin", "--country", "US", "--subdivision", "US-TX",
        "--time", "2026-03-04T08:00:00Z",
    )  # fmt: skip
    cli.attest(
        "transform", "--key", "gin.key", "--process", "cotton.ginning", "--input",
        f"{SEED}:12000kg", "--output", f"{LINT}:cotton.lint:4200kg", "--site",
        "Plains gin", "--country", "US", "--subdivision", "US-TX",
        "--time", "2026-03-04T09:00:00Z", "--replaces", str(first["seq"]), "--id",
        "transform/gin/lint-2026-001/corrected",
    )  # fmt: skip
    cli.attest(
        "dispatch", "--key", "gin.key", "--lot", LINT, "--quantity", "4200", "--unit", "kg",
        "--to", "importer", "--time", "2026-03-05T08:00:00Z",
    )  # fmt: skip
    cli.attest("receipt", "--key", "importer.key", "--lot", LINT, "--time", "2026-03-06T08:00:00Z")


def _void(report: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((r["type"], r["issuer"]) for r in report["retracted"])


@pytest.mark.slow
def test_void_statements_round_trip(tmp_path: Path) -> None:
    first = Cli(tmp_path / "a", repeat_in_process=True)
    first.dir.mkdir()
    _ledger(first)
    _chain(first)
    before = first.json("verify", LINT, code=3)
    assert len(before["retracted"]) == 2
    doc_path = first.dir / "lint.jsonld"
    first.run("epcis", "export", LINT, "-o", str(doc_path))
    document = json.loads(doc_path.read_text())
    schema = json.loads((SCHEMA / "epcis-json-schema.json").read_text())
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    assert [e.message for e in validator.iter_errors(document)] == []
    events = document["epcisBody"]["eventList"]
    declared = [e for e in events if "errorDeclaration" in e]
    assert len(declared) == 2
    by_id = {e["eventID"]: e for e in events if "errorDeclaration" not in e}
    for declaration in declared:
        original = by_id[declaration["eventID"]]
        assert events.index(original) < events.index(declaration)
        assert {
            k: v for k, v in declaration.items() if not k.startswith(("custody:", "error"))
        } == {k: v for k, v in original.items() if not k.startswith("custody:")}
    corrected = [d for d in declared if d["errorDeclaration"].get("correctiveEventIDs")]
    assert len(corrected) == 1
    assert corrected[0]["errorDeclaration"]["correctiveEventIDs"][0] in by_id

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
    assert _void(after) == _void(before)
    again = second.json("epcis", "import", str(doc_path), "--key", "gin.key")
    assert all(r.get("duplicate") or "skipped" in r for r in again)
