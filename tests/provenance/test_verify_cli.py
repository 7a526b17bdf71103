"""``custody trace``, ``custody verify`` and ``custody screening``, run for real.

Through typer's CliRunner (the same app the ``custody`` script runs) and once
through the installed script in a subprocess: exit codes 0 pass / 1 fail /
3 incomplete, ``--json`` exactly SPEC §10, one clear line for a missing lot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.screening import shipped_path
from tests.provenance.chains import cotton
from tests.support import World, q

SPEC_KEYS = {"subject", "verdict", "findings", "composition", "untraced_share"}
EXTRA_KEYS = {"screening_version", "yields_version", "retracted", "profile", "documents"}
BIN = Path(sys.executable).with_name("custody")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for var in ("CUSTODY_HOME", "CUSTODY_DB_URL", "CUSTODY_SERVER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    # the chains here carry no trade documents: judge custody only (the document
    # profiles have tests of their own, tests/provenance/test_evidence_rules.py)
    monkeypatch.setenv("CUSTODY_PROFILE", "custody-only")
    return CliRunner()


def run(runner: CliRunner, world: World, *args: str):
    return runner.invoke(app, [*args, "--home", str(world.home.path)])


def test_verify_pass_text(runner: CliRunner, world: World):
    chain = cotton(world)
    result = run(runner, world, "verify", chain.subject)
    assert result.exit_code == 0, result.output
    assert "Verification of lot spin/yarn-1" in result.stdout
    assert "No findings." in result.stdout
    assert "100.00%  US-TX  cotton.seed" in result.stdout
    assert result.stdout.rstrip().endswith("verdict: pass")


def test_verify_fail_json_is_spec_10(runner: CliRunner, world: World):
    chain = cotton(world, yarn_kg=5000)
    result = run(runner, world, "verify", chain.subject, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == SPEC_KEYS | EXTRA_KEYS
    assert doc["subject"] == "spin/yarn-1"
    assert doc["verdict"] == "fail"
    assert doc["untraced_share"] == 0
    mass = [f for f in doc["findings"] if f["rule"] == "MASS"]
    assert len(mass) == 1
    assert set(mass[0]) == {"rule", "severity", "message", "statements", "details"}
    assert mass[0]["severity"] == "error"
    assert mass[0]["statements"] == [chain.digests["spinning"]]
    assert doc["composition"] == [
        {"country": "US", "subdivision": "US-TX", "material": "cotton.seed", "share": 1.0}
    ]
    assert doc["screening_version"].startswith("1.")


def test_verify_incomplete_exit_3(runner: CliRunner, world: World):
    chain = cotton(
        world,
        yarn_kg=2800,
        external={"material": "polyester.fiber", "quantity": q(400), "unit": "kg", "country": "KR"},
    )
    result = run(runner, world, "verify", chain.subject, "--json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "incomplete"
    assert doc["untraced_share"] == 0.117647  # 400 of 3,400 kg, 6 decimals
    assert doc["composition"][0]["share"] == 0.882353
    text = run(runner, world, "verify", chain.subject)
    assert text.exit_code == 3
    assert "Gaps (1)" in text.stdout
    assert "? UNTRACED" in text.stdout
    assert "11.76%  untraced" in text.stdout


def test_verify_missing_lot_is_one_line_exit_1(runner: CliRunner, world: World):
    result = run(runner, world, "verify", "no/such-lot")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: lot 'no/such-lot' is not in the ledger [not_found]"]
    as_json = run(runner, world, "verify", "no/such-lot", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["code"] == "not_found"


def test_verify_without_a_ledger_is_a_usage_error(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(app, ["verify", "x", "--home", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "custody init" in result.stderr


def test_trace_formats(runner: CliRunner, world: World):
    chain = cotton(world)
    text = run(runner, world, "trace", chain.subject)
    assert text.exit_code == 0
    assert text.stdout.startswith("Trace of lot spin/yarn-1: verdict PASS\nLOT spin/yarn-1")
    assert "origin by farm (Lubbock Farm) at Lubbock farm, US-TX" in text.stdout
    doc = run(runner, world, "trace", chain.subject, "--format", "json")
    assert doc.exit_code == 0
    data = json.loads(doc.stdout)
    assert set(data) >= SPEC_KEYS
    assert data["graph"]["nodes"]
    assert json.loads(run(runner, world, "trace", chain.subject, "--json").stdout) == data
    dot = run(runner, world, "trace", chain.subject, "-f", "dot")
    assert dot.exit_code == 0
    assert dot.stdout.startswith("digraph ")
    bad = run(runner, world, "trace", chain.subject, "--format", "svg")
    assert bad.exit_code == 2


def test_screening_show_and_update(runner: CliRunner, world: World, tmp_path: Path):
    chain = cotton(world, gin_name="Plains Gin Holdings")
    shown = run(runner, world, "screening", "show")
    assert shown.exit_code == 0
    assert "uflpa-entity-list" in shown.stdout
    assert "CN-XJ" in shown.stdout
    assert run(runner, world, "verify", chain.subject).exit_code == 0

    newer = json.loads(shipped_path().read_text(encoding="utf-8"))
    newer["version"] = "2.0.0+test"
    newer["lists"][0]["entities"].append({"name": "Plains Gin Holdings Co., Ltd."})
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer), encoding="utf-8")
    updated = run(runner, world, "screening", "update", str(path))
    assert updated.exit_code == 0, updated.output
    assert "2.0.0+test" in updated.stdout
    assert (world.home.path / "screening.json").is_file()

    shown = run(runner, world, "screening", "show", "--json")
    assert json.loads(shown.stdout)["version"] == "2.0.0+test"
    result = run(runner, world, "verify", chain.subject, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["screening_version"] == "2.0.0+test"
    listed = [f for f in doc["findings"] if f["rule"] == "LISTED-ENTITY"]
    assert listed
    assert listed[0]["details"]["entry"] == "Plains Gin Holdings Co., Ltd."
    assert listed[0]["details"]["party"] == "gin"


def test_screening_update_refuses_an_invalid_file(runner: CliRunner, world: World, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something-else"}', encoding="utf-8")
    result = run(runner, world, "screening", "update", str(bad))
    assert result.exit_code == 1
    assert "invalid_screening" in result.stderr
    assert not (world.home.path / "screening.json").exists()


def test_help_texts(runner: CliRunner):
    for args in (["trace", "--help"], ["verify", "--help"], ["screening", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
    assert (
        "Exit code 0 pass, 1 fail, 3 incomplete" in runner.invoke(app, ["verify", "--help"]).stdout
    )


@pytest.mark.skipif(not BIN.exists(), reason="the custody script is not installed in this venv")
def test_installed_script_subprocess(world: World, tmp_path: Path):
    chain = cotton(world, farm_site={"name": "Aksu", "country": "CN", "subdivision": "CN-XJ"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    proc = subprocess.run(
        [
            str(BIN),
            "verify",
            chain.subject,
            "--json",
            "--home",
            str(world.home.path),
            "--profile",
            "custody-only",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "fail"
    assert {f["rule"] for f in doc["findings"]} == {"HIGH-RISK-REGION"}
    assert doc["composition"][0]["subdivision"] == "CN-XJ"
