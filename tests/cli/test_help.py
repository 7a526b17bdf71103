"""`--help` output stays true: every command of SPEC §8 exists and documents its flags."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()

COMMANDS = {
    "init": ["--origin", "--home", "--json"],
    "keys generate": ["--out"],
    "party register": [
        "--id",
        "--name",
        "--country",
        "--subdivision",
        "--role",
        "--public-key",
        "--gln",
    ],
    "epcis import": ["--key", "--json", "--mapping", "FILE"],
    "epcis export": ["--output", "LOT"],
    "epcis hash": ["FILE", "--json"],
    "sign": ["--key", "--output"],
    "submit": ["--server", "--json"],
    "attest origin": ["--key", "--lot", "--material", "--quantity", "--unit", "--site"],
    "attest transform": ["--input", "--output", "--external"],
    "attest dispatch": ["--lot", "--to", "--replaces"],
    "attest receipt": ["--dispatch"],
    "attest evidence": ["--file", "--kind", "--server", "--fields"],
    "attest import": ["--entry-number"],
    "attest key": ["--party", "--public-key"],
    "attest revoke": ["--reason"],
    "attest retract": ["--statement", "--seq", "--reason"],
    "ledger audit": ["--json"],
    "ledger checkpoint": ["--cosigned", "--server"],
    "ledger key": [],
    "ledger prove": ["--seq", "--size", "--json"],
    "ledger consistency": ["--from", "--to", "--json"],
    "ledger show": ["--seq", "--json"],
    "ledger tiles export": ["--home", "--json", "DIR"],
    "ledger rotate-key": ["--new-key", "--home", "--json"],
    "lots show": ["--json"],
    "lots held": ["--party"],
    "trace": ["--format"],
    "verify": ["--json", "--profile"],
    "bundle export": ["-o", "--entry-number", "--profile"],
    "bundle verify": ["--operator-key", "--json", "--witness", "--quorum", "--profile"],
    "bundle view": ["--operator-key", "--entry-number", "--lot", "--port", "--open"],
    "serve": ["--host", "--port"],
    "witness init": ["--dir", "--name", "--log", "--json"],
    "witness key": ["--dir"],
    "witness add-log": ["--dir", "VKEY"],
    "witness serve": ["--dir", "--host", "--port"],
    "witness evidence": ["--dir", "--json"],
    "witness add": ["URL", "VKEY", "--home"],
    "witness list": ["--home", "--json"],
    "witness remove": ["WITNESS", "--home"],
    "demo": ["--out"],
    "screening update": ["--json", "--home"],
    "screening show": ["--json"],
    "rescreen": ["--json", "--home"],
}


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_help_documents_the_flags(command: str):
    result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    for flag in COMMANDS[command]:
        assert flag in text, f"{command} --help does not mention {flag}"


def test_top_level_help_names_the_product():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "traceability ledger" in plain(result.output)


def test_usage_errors_exit_2():
    result = runner.invoke(app, ["ledger", "prove"])
    assert result.exit_code == 2
