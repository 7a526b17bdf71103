"""A ledger file that is not a SQLite database: one clean error line, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("custody")


def _custody(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        env={**env, "CUSTODY_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "checkpoint"),
        ("ledger", "audit"),
        ("verify", "any/lot"),
        ("ledger", "show", "--seq", "0"),
    ],
)
def test_a_damaged_ledger_file_is_a_config_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "home"
    assert _custody(home, "init").returncode == 0
    for suffix in ("-wal", "-shm"):
        (home / f"ledger.db{suffix}").unlink(missing_ok=True)
    (home / "ledger.db").write_bytes(b"this is not a database, just some text\n" * 100)
    done = _custody(home, *args)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    assert "cannot open the SQLite ledger" in done.stderr
    assert "file is not a database" in done.stderr
