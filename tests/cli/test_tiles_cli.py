"""``custody ledger tiles export DIR``: the static tiles a spec client verifies, --json,
incremental re-export, and clear refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.support import Cli, new_cli
from tests.tiles_client import verify_log


def _fetch_dir(root: Path) -> Callable[[str], bytes]:
    return lambda path: (root / path).read_bytes()


def test_tiles_export_writes_a_verifiable_mirror(tmp_path: Path) -> None:
    cli = new_cli(tmp_path)
    vkey = cli.run("ledger", "key").stdout.strip()
    out = tmp_path / "mirror"
    first = cli.json("ledger", "tiles", "export", str(out))
    assert first == {"directory": str(out), "size": 1, "written": 3, "kept": 0, "skipped": []}
    cp, entries = verify_log(_fetch_dir(out), vkey)
    assert cp.size == len(entries) == 1
    text = cli.run("ledger", "tiles", "export", str(out)).stdout
    assert "tree of size 1: 3 files written, 0 full tiles kept" in text


def test_tiles_export_refuses_a_file_and_an_empty_home(tmp_path: Path) -> None:
    cli = new_cli(tmp_path)
    (tmp_path / "file").write_text("x")
    proc = cli.run("ledger", "tiles", "export", str(tmp_path / "file"), code=2)
    assert "exists and is not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr
    err = cli.json("ledger", "tiles", "export", str(tmp_path / "file"), code=2)
    assert err["error"]["code"] == "config"
    other = tmp_path / "nohome"
    other.mkdir()
    proc = Cli(other).run("ledger", "tiles", "export", str(other / "m"), code=2)
    assert "Traceback" not in proc.stderr
