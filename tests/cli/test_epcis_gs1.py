"""GS1's published EPCIS 2.0 examples (tests/data/epcis/gs1/SOURCE.md), imported
as the parties at their locations: every event maps or names what it cannot map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.epcis.gs1 import check_digit
from tests.cli.support import Cli

GS1 = Path(__file__).resolve().parents[1] / "data" / "epcis" / "gs1"


def _gln(body: str) -> str:
    return body + check_digit(body)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    # the first run of each command is a real process; its repeats run in this process
    c = Cli(tmp_path_factory.mktemp("gs1"), repeat_in_process=True)
    c.run("init", "--origin", "example.org/custody")
    for pid, glns in (
        ("acme", ["061414107346"]),
        ("retailer", ["001234511111"]),
        ("maker", ["401234500001"]),
        ("dc", ["061414100777", "061414100888"]),
    ):
        c.keys(pid)
        extra = [arg for body in glns for arg in ("--gln", _gln(body))]
        c.register(pid, pid.title(), "DE", "--role", "supplier", *extra)
    return c


def _outcome(result: dict[str, Any]) -> tuple[str, str]:
    if "error" in result:
        error = result["error"]
        return error["code"], error["details"].get("field", "")
    if "skipped" in result:
        return "skipped", result["skipped"]
    assert isinstance(result["seq"], int)
    return "appended", ""


CASES = [
    ("Example_9.6.1-ObjectEvent.jsonld", "acme",
     [("invalid_epcis.unsupported", "epcList"), ("skipped", "performed by retailer")]),
    ("Example_9.6.1-ObjectEvent-with-error-declaration.jsonld", "acme",
     [("invalid_epcis.unsupported", "errorDeclaration"), ("skipped", "performed by retailer")]),
    ("Example_9.6.3-AggregationEvent.jsonld", "dc", [("invalid_epcis.unsupported", "type")]),
    ("Example_9.6.4-TransformationEvent.jsonld", "maker",
     [("invalid_epcis.bad_identifier", "inputQuantityList[2].epcClass")]),
    ("Example_9.6.4-TransformationEvent.jsonld", "acme", [("skipped", "performed by maker")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "party", "expected"), CASES, ids=[f"{n[:-7]}-{p}" for n, p, _ in CASES]
)
def test_gs1_examples_map_or_name_the_construct(
    cli: Cli, name: str, party: str, expected: list[tuple[str, str]]
) -> None:
    errors = any(code.startswith("invalid") for code, _ in expected)
    results = cli.json("epcis", "import", str(GS1 / name), "--key", f"{party}.key",
                       code=1 if errors else 0)  # fmt: skip
    assert [_outcome(r) for r in results] == expected
    for result in results:
        if "error" in result:
            assert result["error"]["message"].startswith(f"event {result['event']}: ")


def test_gs1_hash_ids_of_the_examples(cli: Cli) -> None:
    lines = cli.run(
        "epcis", "hash", str(GS1 / "Example_9.6.1-ObjectEvent.jsonld"), home=False
    ).stdout
    assert len(lines.split()) == 2
    assert all(line.startswith("ni:///sha-256;") for line in lines.split())
