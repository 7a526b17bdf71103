"""Leaves replaced behind the ledger's back, read through the installed ``custody`` script:
a clean integrity error, never a traceback (a 100,000-deep leaf included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.provenance.chains import cotton
from tests.support import World

BIN = Path(sys.executable).with_name("custody")
DEEP = b"[" * 100_000 + b"]" * 100_000


def _custody(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    return subprocess.run(
        [str(BIN), *args, "--home", str(world.home.path)],
        capture_output=True,
        text=True,
        env={**env, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


def _replace_leaf(world: World, seq: int, leaf: bytes) -> None:
    with world.ledger.store.engine.begin() as conn:
        conn.execute(
            text("UPDATE entries SET leaf = :leaf WHERE seq = :seq"), {"leaf": leaf, "seq": seq}
        )


@pytest.mark.parametrize(
    ("leaf", "reason"),
    [
        (DEEP, "integrity.leaf_json"),
        (b'{"seq":1,"seq":1}', "integrity.leaf_json"),
        (b"not json", "integrity.leaf_json"),
    ],
    ids=["100000 deep", "duplicate key", "not json"],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ledger_show_of_a_replaced_leaf_is_an_integrity_error(
    world: World, leaf: bytes, reason: str, as_json: bool
):
    world.party("farm")
    _replace_leaf(world, 1, leaf)
    result = _custody(world, "ledger", "show", "--seq", "1", *(["--json"] if as_json else []))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    if as_json:
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "integrity.leaf"
        assert error["details"]["reason"] == reason
    else:
        assert "stored leaf is not a ledger leaf" in result.stderr
        assert "[integrity.leaf]" in result.stderr


def test_ledger_show_prints_a_genuine_leaf(world: World):
    world.party("farm")
    result = _custody(world, "ledger", "show", "--seq", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(world.ledger.leaf(1))


def test_verify_of_a_lot_whose_leaf_is_100000_deep_fails_with_integrity(world: World):
    chain = cotton(world)
    seq = chain.seqs["dispatch_lint"]
    _replace_leaf(world, seq, DEEP)
    result = _custody(world, "verify", chain.subject, "--json")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "fail"
    codes = {f["details"].get("code") for f in doc["findings"] if f["rule"] == "INTEGRITY"}
    assert "integrity.leaf_json" in codes
