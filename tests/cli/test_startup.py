"""Start-up: `custody --help` and `custody ledger checkpoint` import none of the heavy
libraries (issue 12: under 0.3 s). A test of the import set in fresh processes, not of
timings; the figures are in docs/benchmarks.md ("Start-up")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer._click.utils import make_default_short_help

from cli.main import LAZY, app
from ledger.home import Home
from tests.cli.support import Cli

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "psycopg",
    "rich",
    "networkx",
    "rapidfuzz",
    "pycountry",
    "jinja2",
    "httpx",
    "nacl",
    "cryptography",
    "fastapi",
    "uvicorn",
    "provenance",
    "ledger.log",
    "ledger.store.engine",
    "ledger.statements",
)

# Runs the `custody` entry point with argv, then writes the heavy modules it loaded.
PROBE = """
import json, sys
out, heavy, argv = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
sys.argv = ["custody", *argv]
from cli.main import main
code = 0
try:
    main()
except SystemExit as e:
    code = e.code or 0
loaded = sorted(m for m in heavy if m in sys.modules)
with open(out, "w", encoding="utf-8") as f:
    json.dump({"code": code, "loaded": loaded}, f)
"""


def loaded_by(cli: Cli, *argv: str) -> tuple[list[str], str]:
    """The heavy modules a fresh `custody ARGV` process imports, and its stdout."""
    report = cli.dir / "probe.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), json.dumps(HEAVY), *argv],
        check=False, cwd=cli.dir, env=cli.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["code"] == 0, proc.stderr
    return result["loaded"], proc.stdout


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_help_imports_no_heavy_library(cli: Cli):
    loaded, stdout = loaded_by(cli, "--help")
    assert "traceability ledger" in stdout
    assert loaded == []


def test_ledger_checkpoint_imports_no_heavy_library(cli: Cli):
    cli.run("init")
    loaded, stdout = loaded_by(cli, "ledger", "checkpoint", "--home", str(cli.home))
    assert stdout.startswith("custody.")
    assert loaded == []


def test_ledger_checkpoint_prints_the_stores_latest_checkpoint(cli: Cli):
    cli.run("init")
    cli.run("keys", "generate", "--out", str(cli.dir / "gin"), home=False)
    cli.run(
        "party", "register", "--id", "gin", "--name", "Plains Gin", "--country", "US",
        "--role", "supplier", "--public-key", str(cli.dir / "gin.pub"),
    )  # fmt: skip
    note = cli.run("ledger", "checkpoint").stdout
    ledger = Home(cli.home).open(with_key=False)
    try:
        assert note == ledger.checkpoint()
    finally:
        ledger.store.close()
    assert note.splitlines()[1] == "2"  # the newest of the two checkpoints


def test_ledger_checkpoint_without_a_ledger_is_the_usual_error(cli: Cli):
    proc = cli.run("ledger", "checkpoint", code=2)
    assert "no ledger in" in proc.stderr
    assert "custody init" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.postgres
def test_ledger_checkpoint_on_postgresql(cli: Cli, pg_url: str):
    cli.env["CUSTODY_DB_URL"] = pg_url
    cli.run("init")
    note = cli.run("ledger", "checkpoint").stdout
    assert note.splitlines()[1] == "1"


# The command modules `custody --help` must not import: the lazy tree lists them
# from cli.main.LAZY without running them.
COMMAND_MODULES = tuple(sorted({entry.module for entry in LAZY.values()}))


def test_help_imports_no_command_module(cli: Cli):
    report = cli.dir / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), json.dumps(COMMAND_MODULES), "--help"],
        check=False, cwd=cli.dir, env=cli.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["loaded"] == []
    for name in LAZY:
        assert f"\n  {name} " in proc.stdout


def _built_root() -> Any:
    """The root click group with every lazy command built."""
    group = typer.main.get_command(app)
    ctx = group.make_context("custody", ["--help"], resilient_parsing=True)
    for name in LAZY:
        assert group.get_command(ctx, name) is not None, name
    return group


@pytest.mark.parametrize("limit", [30, 45, 60, 70, 200])
def test_lazy_listing_says_what_each_command_says(limit: int):
    group = _built_root()
    for name, entry in LAZY.items():
        real = group.commands[name]
        assert real.name == name
        assert make_default_short_help(entry.help, limit).strip() == real.get_short_help_str(
            limit
        ), name


def test_lazy_tree_holds_every_command_and_no_stray_one():
    group = _built_root()
    eager = {"init", "sign", "submit", "keys"}
    assert set(group.commands) == set(LAZY) | eager
    # every module a lazy name points at registers that name
    for name, entry in LAZY.items():
        cmd = group.commands[name]
        callbacks = [cmd, *getattr(cmd, "commands", {}).values()]
        modules = {c.callback.__module__ for c in callbacks if c.callback is not None}
        assert any(m == entry.module or m.startswith(entry.module + ".") for m in modules), name


def _help(group: Any, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        group.main(["--help"], prog_name="custody")
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_help_listing_matches_a_fully_built_tree(capsys: pytest.CaptureFixture[str]):
    """`custody --help` from the table equals the help of the tree with every command built."""
    lazy = _help(typer.main.get_command(app), capsys)
    built = _help(_built_root(), capsys)
    assert "Commands:" in lazy
    assert lazy == built


def test_a_mistyped_command_suggests_a_lazy_one(cli: Cli):
    proc = cli.run("attst", code=2, home=False)
    assert "Did you mean 'attest'?" in proc.stderr
