"""Helpers for the CLI tests: the installed ``custody`` script run for real, with
``--home`` in a temporary folder."""

from __future__ import annotations

import gc
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
    """Runs ``custody`` with ``--home`` in a temporary folder.

    With ``repeat_in_process``, only the first run of each command (``attest
    dispatch``, ``lots show`` ...) is a real ``custody`` process; later runs of
    the same command call the same typer app in this process (same argv, working
    folder and environment; stdout, stderr and exit code read the same way). A
    long story then pays process start-up once per command, not once per step.
    ``CUSTODY_TEST_REAL_PROCESSES=1`` makes every run a real process.
    """

    def __init__(self, tmp: Path, *, repeat_in_process: bool = False) -> None:
        self.dir = tmp
        # CUSTODY_TEST_REAL_PROCESSES=1 runs every step as a real process again.
        self.repeat_in_process = repeat_in_process and not os.environ.get(
            "CUSTODY_TEST_REAL_PROCESSES"
        )
        self.spawned: set[tuple[str, ...]] = set()
        self.home = tmp / "home"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CUSTODY_HOME", "CUSTODY_DB_URL", "CUSTODY_SERVER")
        }
        self.env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})

    def run(self, *args: str, code: int = 0, home: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [CUSTODY, *args, *(("--home", str(self.home)) if home else ())]
        command = tuple(a for a in args[:2] if not a.startswith("-"))
        if self.repeat_in_process and command in self.spawned:
            proc = self._in_process(argv[1:])
        else:
            self.spawned.add(command)
            proc = subprocess.run(
                argv, check=False, cwd=self.dir, env=self.env, capture_output=True, text=True,
                timeout=60,
            )  # fmt: skip
        assert proc.returncode == code, (
            f"custody {' '.join(args)} exited {proc.returncode}, expected {code}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
        return proc

    def _in_process(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        """``custody ARGS`` run by the typer app in this process, as a process would."""
        env: dict[str, str | None] = {k: None for k in os.environ if k not in self.env}
        env.update(self.env)
        cwd = os.getcwd()
        os.chdir(self.dir)
        # What lives now outlives the command: set it aside (after a collection of the
        # young generations) so that the full collection below looks only at what the
        # command made; one over the test process's whole heap costs about 0.1 s a run.
        gc.collect(1)
        gc.freeze()
        try:
            proc = _invoke(args, env)
        finally:
            os.chdir(cwd)
            # A command leaves its ledger to process exit; here its SQLite connections
            # would stay open, and the test's next plain open()/close() of ledger.db
            # would drop their POSIX locks ("disk I/O error"). Close them now: the
            # command's result (and any exception it caught, with its frames) is
            # already dropped, so what it made is garbage now.
            gc.collect()
            gc.unfreeze()
        return proc

    def parallel(self, commands: list[tuple[str, ...]], code: int = 0) -> list[str]:
        """Run independent commands (no --home) two at a time; return their stdout and
        stderr. With ``repeat_in_process`` they run one after the other through
        :meth:`run` instead: a process for the first of each kind, the repeats in process."""
        if self.repeat_in_process:
            runs = [self.run(*args, code=code, home=False) for args in commands]
            return [proc.stdout + proc.stderr for proc in runs]
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

    def copy(self, tmp: Path, *, repeat_in_process: bool = False) -> Cli:
        """A ``Cli`` in ``tmp`` holding a copy of this one's folder: its home (ledger,
        operator key, documents), party keys and files, and the same environment.

        A fixture builds a ledger once (module scope) and each test mutates its own
        copy instead of repeating the same ``custody`` runs. The copied ledger must
        be closed: no ``custody`` process of this ``Cli`` may still be running.
        """
        shutil.copytree(self.dir, tmp, symlinks=True, dirs_exist_ok=True)
        other = Cli(tmp, repeat_in_process=repeat_in_process)
        other.env = dict(self.env)
        return other

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


def _invoke(args: list[str], env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(
        [CUSTODY, *args], result.exit_code, result.stdout, result.stderr
    )


def seq_line(text: str) -> tuple[int, str]:
    """Parse ``seq N  sha256:...``."""
    words = text.split()
    assert words[0] == "seq", text
    assert words[2].startswith("sha256:"), text
    return int(words[1]), words[2]


def new_cli(tmp_path: Path, *, repeat_in_process: bool = False) -> Cli:
    """A ``Cli`` whose home holds a fresh ledger (``custody init``)."""
    c = Cli(tmp_path, repeat_in_process=repeat_in_process)
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
