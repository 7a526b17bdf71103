"""``custody ledger rotate-key``: the home's key replaced, the old one kept, audit and
checkpoints follow the new key, clear refusals."""

from __future__ import annotations

from pathlib import Path

from ledger.checkpoint import open_checkpoint
from ledger.note import parse_verifier_key
from tests.cli.support import new_cli


def test_rotate_key_then_audit_and_checkpoint(tmp_path: Path) -> None:
    cli = new_cli(tmp_path)
    old_vkey = cli.run("ledger", "key").stdout.strip()
    cli.keys("next-operator")
    done = cli.json("ledger", "rotate-key", "--new-key", "next-operator.key")
    assert done["rotation_seq"] == 1
    assert done["retire_seq"] == 2
    assert (tmp_path / "home" / "retired").is_dir()
    new_vkey = cli.run("ledger", "key").stdout.strip()
    assert new_vkey == done["verifier_key"] != old_vkey
    note = cli.run("ledger", "checkpoint").stdout
    assert open_checkpoint(note, parse_verifier_key(new_vkey)).size == 3
    report = cli.json("ledger", "audit")
    assert report["ok"], report
    assert [r["seq"] for r in report["key_rotations"]] == [1]
    assert "operator key rotated at seq 1" in cli.run("ledger", "audit").stdout
    # the same key again is refused, clearly
    proc = cli.run("ledger", "rotate-key", "--new-key", "next-operator.key", code=2)
    assert "the new key is the operator key already" in proc.stderr
    assert "Traceback" not in proc.stderr
    # a missing key file is an input error
    proc = cli.run("ledger", "rotate-key", "--new-key", "nope.key", code=1)
    assert "Traceback" not in proc.stderr
