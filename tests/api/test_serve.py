"""`custody serve`: loopback by default, refuses a home without a ledger, and the
cli package starts the server without importing api."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from ledger.home import Home
from tests.api.support import CUSTODY, REPO, Server, new_home


def _listening(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, hexport = fields[1].rsplit(":", 1)
            if int(hexport, 16) == port and fields[3] == "0A":  # LISTEN
                found.add(addr)
    return found


def test_binds_loopback_only_by_default(tmp_path: Path) -> None:
    home = new_home(Home(tmp_path / "home"), "custody.serve/ledger")
    with Server(home.path) as srv:
        assert httpx.get(srv.url + "/v1/health").json()["status"] == "ok"
        assert _listening(srv.port) == {"0100007F"}  # 127.0.0.1, nothing else


def test_refuses_a_home_without_a_ledger(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(CUSTODY), "serve", "--home", str(tmp_path / "empty"), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no ledger" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_never_imports_api() -> None:
    code = (
        "import sys, cli.main, cli.server_cmds, cli.client\n"
        "bad = [m for m in sys.modules if m == 'api' or m.startswith('api.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_serve_help_names_the_defaults() -> None:
    done = subprocess.run(
        [str(CUSTODY), "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "127.0.0.1" in done.stdout
    assert "8000" in done.stdout
    assert "--workers" in done.stdout
