"""Issue 10 items 4 and 8 through the real entry point: ``custody submit`` run as a
process on files holding a deeply nested envelope, an envelope with a deeply nested
payload, and an envelope in a foreign but valid DSSE form (unknown fields, URL-safe
base64), which is appended and shown by ``custody ledger show`` in canonical form."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.envelope import sign_envelope
from ledger.keys import PrivateKey
from tests.support import World

BIN = Path(sys.executable).with_name("custody")
CUSTODY = str(BIN) if BIN.exists() else (shutil.which("custody") or "custody")


def custody(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CUSTODY_HOME", "CUSTODY_DB_URL", "CUSTODY_SERVER")
    }
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    return subprocess.run(
        [CUSTODY, *args, "--home", str(home)],
        check=False, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, PrivateKey]:
    world = World(tmp_path / "home")
    gin = world.party("gin")
    world.close()
    return world.home.path, gin.key


def _submit_json(home: Path, file: Path) -> tuple[int, list[dict[str, Any]], str]:
    proc = custody(home, "submit", str(file), "--json")
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "RecursionError" not in proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"payloadType":' * 100_000 + "1" + "}" * 100_000,
        '{\n  "payload": ' + '{"a":\n' * 60_000 + "1" + "}" * 60_000 + "\n}\n",
    ],
    ids=["deep-array", "deep-object", "deep-pretty-printed"],
)
def test_submit_of_a_deeply_nested_envelope_is_refused_cleanly(home, tmp_path, text):
    path, _ = home
    file = tmp_path / "deep.json"
    file.write_text(text)
    code, results, _ = _submit_json(path, file)
    assert code == 1
    assert len(results) == 1
    assert results[0]["error"]["code"] == "invalid_envelope.json"
    assert "nested deeper than 64 levels" in results[0]["error"]["message"]


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":' * 65 + b"1" + b"}" * 65,
        b'{"a":' * 1_000 + b"1" + b"}" * 1_000,
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=["65-deep", "1000-deep", "30000-deep"],
)
def test_submit_of_an_envelope_with_a_deep_payload_is_refused_cleanly(home, tmp_path, payload):
    path, key = home
    env = sign_envelope(payload, [key])
    file = tmp_path / "deep-payload.json"
    file.write_text(env.to_json())
    code, results, _ = _submit_json(path, file)
    assert code == 1
    assert results[0]["error"]["code"] == "invalid_statement.bad_json"
    assert "nested deeper than 64 levels" in results[0]["error"]["message"]


def test_submit_of_a_foreign_dsse_form_appends_the_canonical_envelope(home, tmp_path):
    path, key = home
    payload = json.dumps(
        {
            "spec": "custody/1",
            "type": "key",
            "id": "key/foreign-form",
            "issuer": "gin",
            "time": "2026-03-01T09:00:00Z",
            "party": "gin",
            "public_key": PrivateKey.generate().public_key_b64,
            "unused": "\u00fb\u00ff",
        },
        separators=(",", ":"),
    ).encode()
    env = sign_envelope(payload, [key])
    foreign = env.to_json_obj()
    foreign["payload"] = base64.urlsafe_b64encode(payload).decode()
    foreign["signatures"][0]["sig"] = base64.urlsafe_b64encode(env.signatures[0].sig).decode()
    foreign["signatures"][0]["x-cert"] = "ignored"
    foreign["x-producer"] = {"tool": "another DSSE implementation"}
    file = tmp_path / "foreign.json"
    file.write_text(json.dumps(foreign, indent=2))
    code, results, stderr = _submit_json(path, file)
    # the statement has an unknown field, so it is refused by the statement rules ...
    assert code == 1, stderr
    assert results[0]["error"]["code"] == "invalid_statement.unknown_field"
    # ... while the same foreign envelope form around a good statement is appended
    good = json.loads(payload)
    del good["unused"]
    payload = json.dumps(good, separators=(",", ":")).encode()
    env = sign_envelope(payload, [key])
    foreign["payload"] = base64.urlsafe_b64encode(payload).decode()
    foreign["signatures"][0]["sig"] = base64.urlsafe_b64encode(env.signatures[0].sig).decode()
    file.write_text(json.dumps(foreign, indent=2))
    code, results, stderr = _submit_json(path, file)
    assert code == 0, (results, stderr)
    seq = results[0]["seq"]
    shown = custody(path, "ledger", "show", "--seq", str(seq), "--json")
    assert shown.returncode == 0, shown.stderr
    leaf = json.loads(shown.stdout)
    assert leaf["envelope"] == env.to_json_obj()
    assert set(leaf["envelope"]) == {"payloadType", "payload", "signatures"}
    assert set(leaf["envelope"]["signatures"][0]) == {"keyid", "sig"}
    audit = custody(path, "ledger", "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
