"""Helpers for the CLI tests: the installed ``custody`` script run for real, with
``--home`` in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).with_name("custody")
CUSTODY = str(BIN) if BIN.exists() else (shutil.which("custody") or "custody")


class Cli:
    """Runs ``custody`` with ``--home`` in a temporary folder."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self.home = tmp / "home"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CUSTODY_HOME", "CUSTODY_DB_URL", "CUSTODY_SERVER")
        }
        self.env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})

    def run(self, *args: str, code: int = 0, home: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [CUSTODY, *args, *(("--home", str(self.home)) if home else ())]
        proc = subprocess.run(
            argv, check=False, cwd=self.dir, env=self.env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert proc.returncode == code, (
            f"custody {' '.join(args)} exited {proc.returncode}, expected {code}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
        return proc

    def parallel(self, commands: list[tuple[str, ...]], code: int = 0) -> list[str]:
        """Run independent commands (no --home) two at a time; return their stdout."""
        outputs: list[str] = []
        for i in range(0, len(commands), 2):
            procs = [
                (args, subprocess.Popen(
                    [CUSTODY, *args], cwd=self.dir, env=self.env, text=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                ))
                for args in commands[i : i + 2]
            ]  # fmt: skip
            for args, proc in procs:
                stdout, stderr = proc.communicate(timeout=60)
                assert proc.returncode == code, (args, proc.returncode, stdout, stderr)
                outputs.append(stdout + stderr)
        return outputs

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)

    def keys(self, name: str) -> str:
        kid = self.run("keys", "generate", "--out", str(self.dir / name), home=False).stdout
        return kid.strip()

    def register(self, pid: str, name: str, country: str, *extra: str) -> int:
        res = self.json(
            "party", "register", "--id", pid, "--name", name, "--country", country,
            "--public-key", f"{pid}.pub", *extra,
        )  # fmt: skip
        assert "error" not in res, res
        return int(res["seq"])

    def attest(self, type_: str, *args: str, code: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self.json("attest", type_, *args, code=code)
        return result


def seq_line(text: str) -> tuple[int, str]:
    """Parse ``seq N  sha256:...``."""
    words = text.split()
    assert words[0] == "seq", text
    assert words[2].startswith("sha256:"), text
    return int(words[1]), words[2]


def new_cli(tmp_path: Path) -> Cli:
    """A ``Cli`` whose home holds a fresh ledger (``custody init``)."""
    c = Cli(tmp_path)
    out = c.run("init", "--origin", "custody.test/cotton")
    assert "custody.test/cotton+" in out.stdout
    return c


def write(cli: Cli, name: str, text: str) -> str:
    (cli.dir / name).write_text(text, encoding="utf-8")
    return name


def sign(cli: Cli, statement: str, key: str) -> str:
    env = statement.replace(".json", ".env")
    cli.run("sign", "--key", key, statement, "-o", env, home=False)
    return env
