"""``custody ledger audit`` as a process over a SQLite ledger edited behind the
ledger's back: it exits 1 and names the seq or row (issue 10, items 2 and 4)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.ledger.test_audit_tamper import (
    Attack,
    build,
    deep_leaf,
    dispatch_readdressed,
    lot_ref_added,
    received_at_changed,
    supplier_made_auditor,
)
from tests.support import World

CUSTODY = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "custody"


def run_audit(home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "300"})
    return subprocess.run(
        [str(CUSTODY), "ledger", "audit", "--home", str(home), *extra],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "attack",
    [supplier_made_auditor, dispatch_readdressed, lot_ref_added, received_at_changed, deep_leaf],
    ids=lambda a: a.__name__,
)
def test_cli_audit_names_the_edit(world: World, attack: Attack) -> None:
    chain = build(world)
    check, seq, needle = attack(world, chain)
    world.close()

    done = run_audit(world.home.path, "--json")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    hits = [p for p in report["problems"] if p["check"] == check and needle in p["message"]]
    assert hits, report["problems"]
    assert any(p["seq"] == seq for p in hits), hits

    text = run_audit(world.home.path)
    assert text.returncode == 1
    assert "Traceback" not in text.stderr
    assert "FAILED" in text.stdout
    assert needle in text.stdout, text.stdout


def test_cli_audit_of_an_untouched_ledger_is_ok(world: World) -> None:
    build(world)
    world.close()
    done = run_audit(world.home.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")
