"""``custody attest retract`` and ``--replaces``, run for real: allowed before
downstream use, refused after with its code, void in ``custody verify --json``,
``ledger audit`` clean."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import CUSTODY, Cli, new_cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = new_cli(tmp_path, repeat_in_process=True)  # repeats of a command run in this process
    c.parallel([("keys", "generate", "--out", str(c.dir / n)) for n in ("farm", "imp")])
    c.register("farm", "Lubbock Farm", "US", "--subdivision", "US-TX", "--role", "supplier")
    c.register("imp", "Acme Imports", "US", "--role", "importer")
    return c


SITE = ("--site", "Lubbock farm", "--country", "US", "--subdivision", "US-TX")


def origin(cli: Cli, quantity: str, *extra: str, code: int = 0) -> dict[str, object]:
    return cli.attest(
        "origin", "--key", "farm.key", "--lot", "farm/seed-1", "--material", "cotton.seed",
        "--quantity", quantity, "--unit", "kg", *SITE, "--id", f"origin-{quantity}", *extra,
        code=code,
    )  # fmt: skip


def test_retract_and_replace_before_use_refused_after(cli: Cli) -> None:
    first = origin(cli, "900")
    # corrected in one statement, naming the wrong one by its seq
    fixed = origin(cli, "1000", "--replaces", str(first["seq"]))
    assert fixed["seq"] == int(str(first["seq"])) + 1
    lots = cli.json("lots", "show", "farm/seed-1")
    assert "1000" in str(lots)
    d = cli.attest(
        "dispatch", "--key", "farm.key", "--lot", "farm/seed-1", "--quantity", "1000",
        "--unit", "kg", "--to", "imp",
    )  # fmt: skip
    # the dispatch not yet received: retract it by digest, then dispatch again
    r = cli.attest(
        "retract", "--key", "farm.key", "--statement", str(d["digest"]), "--reason", "wrong truck"
    )
    assert "error" not in r
    d = cli.attest(
        "dispatch", "--key", "farm.key", "--lot", "farm/seed-1", "--quantity", "1000",
        "--unit", "kg", "--to", "imp", "--id", "dispatch-2",
    )  # fmt: skip
    cli.attest("receipt", "--key", "imp.key", "--dispatch", str(d["digest"]))
    # now the dispatch has been received: its retraction is refused, exit 1
    refused = cli.attest(
        "retract", "--key", "farm.key", "--statement", str(d["digest"]), "--reason", "late",
        code=1,
    )  # fmt: skip
    assert refused["error"]["code"] == "rejected.consumed"
    assert "received at seq" in refused["error"]["message"]
    text = cli.run(
        "attest", "retract", "--key", "farm.key", "--seq", str(fixed["seq"]), "--reason", "x",
        code=1,
    )  # fmt: skip
    assert "rejected.consumed" in text.stderr
    # another party's statement, an unknown seq, both or neither target: clear errors
    other = cli.attest(
        "retract", "--key", "imp.key", "--seq", str(fixed["seq"]), "--reason", "x", code=1
    )
    assert other["error"]["code"] == "rejected.not_own_statement"
    missing = cli.run("attest", "retract", "--key", "farm.key", "--seq", "999", "--reason", "x",
                      code=1)  # fmt: skip
    assert "no entry at seq 999" in missing.stderr
    assert "Traceback" not in missing.stderr
    both = cli.run("attest", "retract", "--key", "farm.key", "--reason", "x", code=1)
    assert "exactly one of --statement" in both.stderr

    report = verify_json(cli, "farm/seed-1")
    void = {(r["seq"], r["type"]) for r in report["retracted"]}
    assert void == {(first["seq"], "origin"), (r["seq"] - 1, "dispatch")}
    assert not [f for f in report["findings"] if f["rule"] in ("CUSTODY", "OVERDRAW")]
    text = subprocess.run(
        [CUSTODY, "verify", "farm/seed-1", "--home", str(cli.home)],
        check=False, cwd=cli.dir, env=cli.env, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert "Retracted, void (2):" in text
    assert "wrong truck" in text
    cli.run("ledger", "audit")


def verify_json(cli: Cli, lot: str) -> dict[str, Any]:
    """``custody verify LOT --json`` whatever its verdict (0, 1 or 3)."""
    proc = subprocess.run(
        [CUSTODY, "verify", lot, "--json", "--home", str(cli.home)],
        check=False, cwd=cli.dir, env=cli.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode in (0, 1, 3), proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
