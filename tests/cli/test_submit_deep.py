"""Deeply nested JSON through the ``custody`` command (issue 10, item 4): ``submit``
gives each envelope or line the project's own error (exit 1; ``--json`` error
objects), ``sign`` refuses a deep statement, and a deep or duplicate-key ``--claim``
value is a usage error; never a ``RecursionError`` traceback. Through the
installed ``custody`` script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.support import CUSTODY, Cli, new_cli

DEEP = 100_000
ARRAYS = "[" * DEEP + "]" * DEEP
OBJECTS = '{"a":' * DEEP + "1" + "}" * DEEP


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return new_cli(tmp_path_factory.mktemp("deep"))


@pytest.fixture
def cli(initialised: Cli, tmp_path: Path) -> Cli:
    """Each test's own copy of one freshly initialised ledger."""
    return initialised.copy(tmp_path)


def _codes(cli: Cli, name: str, text: str) -> list[str]:
    (cli.dir / name).write_text(text, encoding="utf-8")
    proc = cli.run("submit", name, "--json", code=1)
    assert "Traceback" not in proc.stderr
    return [item["error"]["code"] for item in json.loads(proc.stdout)]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (ARRAYS, ["invalid_envelope.json"]),
        (OBJECTS, ["invalid_envelope.json"]),
        ("[\n" * DEEP + "]\n" * DEEP, ["invalid_envelope.json"]),
        (OBJECTS + "\n" + ARRAYS + "\n", ["invalid_envelope.size", "invalid_envelope.json"]),
        ("[" + ARRAYS + ", {}]", ["invalid_envelope.json"]),
    ],
    ids=["arrays", "objects", "pretty-printed", "json-lines", "array-of-envelopes"],
)
def test_deep_file_gives_clean_errors(cli: Cli, text: str, codes: list[str]) -> None:
    assert _codes(cli, "deep.json", text) == codes


def test_deep_lines_fail_alone_beside_other_lines(cli: Cli) -> None:
    text = "\n".join([ARRAYS, json.dumps({"payloadType": "x"}), "[" * 65 + "]" * 65])
    assert _codes(cli, "lines.jsonl", text) == [
        "invalid_envelope.json",
        "invalid_envelope.missing",
        "invalid_envelope.json",
    ]


def test_deep_stdin_without_json(cli: Cli) -> None:
    proc = subprocess.run(
        [CUSTODY, "submit", "-", "--home", str(cli.home)],
        input=OBJECTS,
        capture_output=True,
        text=True,
        env=cli.env,
        cwd=cli.dir,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "RecursionError" not in proc.stdout + proc.stderr
    assert "invalid_envelope.json" in proc.stdout
    assert "0 appended, 1 rejected" in proc.stderr


def test_sign_of_a_deep_statement_is_a_clean_error(cli: Cli) -> None:
    cli.run("keys", "generate", "--out", str(cli.dir / "farm"), home=False)
    (cli.dir / "deep.json").write_text(OBJECTS, encoding="utf-8")
    proc = cli.run("sign", "--key", "farm.key", "deep.json", code=1, home=False)
    assert "Traceback" not in proc.stderr
    assert "invalid_statement" in proc.stderr


def test_deep_claim_value_is_a_usage_error(cli: Cli) -> None:
    cli.run("keys", "generate", "--out", str(cli.dir / "lab"), home=False)
    (cli.dir / "report.pdf").write_bytes(b"%PDF-1.4 lab report\n")
    deep = "[" * 30_000 + "]" * 30_000  # one argument stays under the kernel's 128 KiB
    for value, what in ((deep, "nested deeper"), ('{"a": 1, "a": 2}', "duplicate key")):
        proc = cli.run(
            "attest", "evidence", "--key", "lab.key", "--lots", "farm/seed-1",
            "--kind", "lab_test", "--file", "report.pdf", "--claim", f"x={value}",
            code=2,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr
        assert what in proc.stderr, proc.stderr
