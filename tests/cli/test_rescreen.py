"""``custody rescreen`` and ``custody screening update``, through the command line.

Exit codes: 0 nothing changed, 1 a lot changed (or bad input); ``--json`` is one
document naming, per changed lot, before -> after, the newly listed entity and
both screening versions. A refused update changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.screening import shipped_path
from tests.provenance.chains import cotton
from tests.support import World


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for var in ("CUSTODY_HOME", "CUSTODY_DB_URL", "CUSTODY_SERVER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def run(runner: CliRunner, world: World, *args: str) -> Any:
    return runner.invoke(app, [*args, "--home", str(world.home.path)])


def listing(tmp: Path, version: str, *names: str) -> Path:
    doc: dict[str, Any] = json.loads(shipped_path().read_text(encoding="utf-8"))
    doc["version"] = version
    for name in names:
        doc["lists"][0]["entities"].append({"name": name, "country": "US", "added": "2025-01-15"})
    path = tmp / f"{version}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_rescreen_reports_a_supplier_listed_after_export(
    runner: CliRunner, world: World, tmp_path: Path
) -> None:
    chain = cotton(world, spin_name="Carolina Spinning")
    before = json.loads(run(runner, world, "verify", chain.subject, "--json").stdout)["verdict"]
    bundle = tmp_path / "entry.zip"
    exported = run(runner, world, "bundle", "export", chain.subject, "-o", str(bundle))
    assert exported.exit_code == 0, exported.output
    assert (world.home.path / "bundles.jsonl").is_file()

    quiet = run(runner, world, "rescreen")
    assert quiet.exit_code == 0, quiet.output
    assert "Re-verified 1 imported or bundled lot(s)" in quiet.stdout
    assert "No verdict or listed entity changed." in quiet.stdout

    update = run(
        runner,
        world,
        "screening",
        "update",
        str(listing(tmp_path, "5.0.0+t", "Carolina Spinning Mills")),
    )
    assert update.exit_code == 0, update.output
    assert "5.0.0+t" in update.stdout
    assert "custody rescreen" in update.stdout

    text = run(runner, world, "rescreen")
    assert text.exit_code == 1, text.output
    assert f"verdict {before} -> fail" in text.stdout
    assert "+ listed: party spin matches 'Carolina Spinning Mills' on uflpa-entity-list" in (
        text.stdout
    )
    assert "5.0.0+t now" in text.stdout
    assert "used by its bundle export" in text.stdout

    doc = json.loads(run(runner, world, "rescreen", "--json").stdout)
    assert doc["checked"] == 1
    (change,) = doc["changed"]
    assert change["lot"] == chain.subject
    assert change["basis"] == "bundle"
    assert change["before"]["verdict"] == before
    assert change["after"] == {"verdict": "fail", "screening_version": "5.0.0+t"}
    assert change["newly_listed"] == [
        {"list": "uflpa-entity-list", "entry": "Carolina Spinning Mills", "who": "party spin"}
    ]
    assert doc["errors"] == []
    assert doc["unchanged"] == []
    assert change["exported"]["verdict"] == before
    assert change["exported"]["bundle"] == str(bundle.resolve())


def _with_duplicate(text: str, name: str) -> str:
    doc = json.loads(text)
    doc["lists"][0]["entities"].append({"name": name})
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("name", "edit", "needle"),
    [
        ("not-json", lambda text: text[:-2], "not UTF-8 JSON"),
        ("duplicate-key", lambda text: text[:-1] + ', "version": "x"}', "duplicate"),
        (
            "duplicate-entity",
            lambda text: _with_duplicate(text, "ZZ DUP  co"),
            "duplicates",
        ),
    ],
)
def test_a_refused_update_changes_nothing(
    runner: CliRunner, world: World, tmp_path: Path, name: str, edit: Any, needle: str
) -> None:
    good = listing(tmp_path, "6.0.0+t", "Zz Dup Co")
    assert run(runner, world, "screening", "update", str(good)).exit_code == 0
    installed = (world.home.path / "screening.json").read_bytes()
    history = sorted(p.name for p in (world.home.path / "screening-history").iterdir())
    bad = tmp_path / f"{name}.json"
    bad.write_text(edit(good.read_text(encoding="utf-8")), encoding="utf-8")
    assert bad.read_text(encoding="utf-8") != good.read_text(encoding="utf-8")
    refused = run(runner, world, "screening", "update", str(bad), "--json")
    assert refused.exit_code == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "invalid_screening"
    assert needle in error["message"]
    assert (world.home.path / "screening.json").read_bytes() == installed
    assert sorted(p.name for p in (world.home.path / "screening-history").iterdir()) == history


def test_rescreen_shows_a_progress_bar_on_a_terminal_only(world: World) -> None:
    """Regression: the bar was given the lazy stderr proxy, which rich cannot enter."""
    import os
    import pty
    import subprocess

    from tests.cli.support import CUSTODY

    cotton(world)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env.update({"COLUMNS": "120", "TERM": "xterm"})
    argv = [CUSTODY, "rescreen", "--home", str(world.home.path)]
    main, sub = pty.openpty()
    try:
        proc = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=sub, env=env, timeout=120, check=False
        )
    finally:
        os.close(sub)
    seen = b""
    try:
        while chunk := os.read(main, 65536):
            seen += chunk
    except OSError:
        pass  # the terminal's other side is closed
    finally:
        os.close(main)
    assert proc.returncode == 0, seen
    assert b"re-verifying lots" in seen
    assert b"Re-verified 1 imported or bundled lot(s)" in proc.stdout
    piped = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
    assert piped.returncode == 0
    assert b"re-verifying" not in piped.stderr
