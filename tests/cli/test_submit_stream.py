"""``custody submit`` streamed (issue 12): a large JSON-lines input goes through the
pipelined path (more than ``SMALL`` envelopes, signatures on worker processes),
results stay in input order and the same as one batch would give; the human
output is the rejected envelopes and a summary (``--each`` prints every one); a
progress bar only on a terminal; ``-`` is stdin; an unreadable file appends
nothing; ``--server`` sends the stream in batches. Real ``custody`` processes."""

from __future__ import annotations

import os
import pty
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cli.submit_cmds import BATCH, SMALL
from ledger.envelope import Envelope, sign_envelope
from ledger.keys import PrivateKey, load_private_key
from ledger.statements import build_statement
from tests.api.support import Server
from tests.cli.support import CUSTODY, Cli, new_cli

T0 = datetime(2026, 9, 1, tzinfo=UTC)
N = SMALL + 300  # more than the one-batch path takes
GARBAGE, FORGED, AGAIN, OF = 5, 1000, N - 100, 10  # line AGAIN repeats line OF


def _origins(key: PrivateKey, n: int, tag: str = "") -> list[Envelope]:
    return [
        sign_envelope(
            build_statement(
                "origin", f"o/{tag}{i}", "farm", T0 + timedelta(seconds=i),
                lot={"id": f"farm/{tag}{i}", "material": "cotton.seed",
                     "quantity": Decimal(100), "unit": "kg"},
                site={"name": "Field", "country": "US"},
            ),
            [key],
        )
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, PrivateKey, Path]:
    """A ledger with the farm registered, and N lines of its origins (with a bad
    line, a forged signature and a repeated envelope)."""
    cli = new_cli(tmp_path_factory.mktemp("submit"))
    cli.keys("farm")
    cli.register("farm", "Farm", "US", "--role", "supplier")
    key = load_private_key(cli.dir / "farm.key")
    envs = _origins(key, N)
    lines = [e.to_json() for e in envs]
    lines[GARBAGE] = "{not json"
    (other,) = _origins(key, 1, "forged-")  # the farm's signature of another statement:
    forged = Envelope(other.payload_type, other.payload, envs[FORGED].signatures)
    lines[FORGED] = forged.to_json()  # checked on a worker process, and refused
    lines[AGAIN] = lines[OF]
    path = cli.dir / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cli, key, path


def test_a_large_input_streams_in_order(farm: tuple[Cli, PrivateKey, Path]) -> None:
    cli, _, path = farm
    results = cli.json("submit", path.name, code=1)
    assert len(results) == N
    errors = {i: r["error"]["code"] for i, r in enumerate(results) if "error" in r}
    assert sorted(errors) == [GARBAGE, FORGED]
    assert errors[GARBAGE] == "invalid_envelope.json"
    assert errors[FORGED].startswith("bad_signature"), errors
    assert results[AGAIN] == {"digest": results[OF]["digest"], "seq": results[OF]["seq"],
                              "duplicate": True}  # fmt: skip
    fresh = [r["seq"] for i, r in enumerate(results) if i not in errors and i != AGAIN]
    assert fresh == list(range(fresh[0], fresh[0] + N - 3))

    # again, for people: the rejected lines and a summary; no bar off a terminal
    again = cli.run("submit", path.name, code=1)
    rejected = again.stdout.splitlines()
    assert len(rejected) == 2
    assert all(line.startswith("rejected ") for line in rejected)
    assert "invalid_envelope.json" in rejected[0]
    codes = ", ".join(f"{c} 1" for c in sorted(errors.values()))
    assert again.stderr.splitlines() == [
        f"{N - 2} appended, 2 rejected; {N - 2} of them already in the ledger; "
        f"rejected by code: {codes}"
    ]


def test_a_progress_bar_only_on_a_terminal(farm: tuple[Cli, PrivateKey, Path]) -> None:
    cli, _, path = farm
    main, other = pty.openpty()
    env = dict(cli.env, TERM="xterm", COLUMNS="120")
    env.pop("NO_COLOR")
    proc = subprocess.Popen(
        [CUSTODY, "submit", path.name, "--home", str(cli.home)],
        cwd=cli.dir, env=env, stdout=subprocess.PIPE, stderr=other,
    )  # fmt: skip
    os.close(other)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = proc.communicate(timeout=60)
    os.close(main)
    assert proc.returncode == 1
    text = shown.decode()
    assert "envelopes," in text
    assert "/s" in text
    assert "appended, 2 rejected" in text
    assert len(stdout.splitlines()) == 2  # stdout: the rejected lines only


def test_stdin_and_each(farm: tuple[Cli, PrivateKey, Path]) -> None:
    cli, key, _ = farm
    envs = _origins(key, 3, "stdin-")
    proc = subprocess.run(
        [CUSTODY, "submit", "-", "--each", "--home", str(cli.home)],
        input="\n".join(e.to_json() for e in envs) + "\n",
        capture_output=True, text=True, env=cli.env, cwd=cli.dir, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["seq"] * 3
    first, last = int(lines[0].split()[1]), int(lines[2].split()[1])
    assert last == first + 2
    assert proc.stderr.strip() == f"3 appended, 0 rejected; new entries: seq {first}–{last}"


def test_an_unreadable_file_appends_nothing(farm: tuple[Cli, PrivateKey, Path]) -> None:
    cli, key, _ = farm
    (good,) = _origins(key, 1, "before-bad-")
    (cli.dir / "good.env").write_text(good.to_json(), encoding="utf-8")
    (cli.dir / "latin1.env").write_bytes(b"caf\xe9\n")
    proc = cli.run("submit", "good.env", "latin1.env", code=1)
    assert "latin1.env: not UTF-8 text" in proc.stderr
    proc = cli.run("submit", "good.env", "missing.env", code=1)
    assert "cannot read missing.env" in proc.stderr
    (result,) = cli.json("submit", "good.env")
    assert "duplicate" not in result  # nothing was appended before


def test_server_gets_the_stream_in_batches(farm: tuple[Cli, PrivateKey, Path]) -> None:
    cli, key, _ = farm
    envs = _origins(key, BATCH + 50, "http-")
    path = cli.dir / "http.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in envs), encoding="utf-8")
    with Server(cli.home) as srv:
        results = cli.json("submit", path.name, "--server", srv.url)
    seqs = [r["seq"] for r in results]
    assert len(seqs) == BATCH + 50
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    again = cli.json("submit", path.name)  # the local ledger holds what the server appended
    assert [r["seq"] for r in again] == seqs
    assert all(r["duplicate"] for r in again)


def test_no_ledger_is_the_first_error_whatever_the_size(
    farm: tuple[Cli, PrivateKey, Path], tmp_path: Path
) -> None:
    cli, _, path = farm
    empty = tmp_path / "empty-home"
    empty.mkdir()
    one = cli.dir / "one.jsonl"
    one.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    seen = []
    for name in (path.name, one.name):  # N lines (the worker path), one line
        proc = subprocess.run(
            [CUSTODY, "submit", name, "--home", str(empty)],
            capture_output=True, text=True, env=cli.env, cwd=cli.dir, timeout=60, check=False,
        )  # fmt: skip
        assert f"no ledger in {empty}" in " ".join(proc.stderr.split()), proc.stderr
        seen.append((proc.returncode, proc.stdout, proc.stderr))
    assert seen[0] == seen[1]
    assert seen[0][0] == 2
    assert seen[0][1] == ""


@pytest.mark.postgres
def test_a_large_input_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The bulk path on PostgreSQL through a real ``custody submit``: the workers read
    the keys through psycopg (and name a signature with no keyid by the issuer's
    key); the results are those SQLite gives, the ledger audits clean, and a second
    submit of the same file finds every envelope already there."""
    cli = Cli(tmp_path)
    cli.env["CUSTODY_DB_URL"] = pg_url
    cli.run("init", "--origin", "custody.test/cotton")
    cli.keys("farm")
    cli.register("farm", "Farm", "US", "--role", "supplier")
    key = load_private_key(cli.dir / "farm.key")
    envs = _origins(key, N, "pg-")
    lines = [e.to_json() for e in envs]
    lines[GARBAGE] = "{not json"
    unnamed = envs[FORGED].signatures[0]
    lines[FORGED] = Envelope(
        envs[FORGED].payload_type, envs[FORGED].payload, (replace(unnamed, keyid=""),)
    ).to_json()
    (cli.dir / "big.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = cli.json("submit", "big.jsonl", code=1)
    assert [i for i, r in enumerate(results) if "error" in r] == [GARBAGE]
    seqs = [r["seq"] for i, r in enumerate(results) if i != GARBAGE]
    assert seqs == list(range(seqs[0], seqs[0] + N - 1))
    audit = cli.json("ledger", "audit", "--json")
    assert audit["ok"] is True
    assert audit["size"] == seqs[-1] + 1
    again = cli.json("submit", "big.jsonl", code=1)
    assert all(r.get("duplicate") for i, r in enumerate(again) if i != GARBAGE)
