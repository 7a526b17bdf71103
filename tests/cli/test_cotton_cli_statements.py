"""Hand-written statements through the ``custody`` command, run for real.

``test_hand_written_statements``: statements typed as JSON files to SPEC §3,
signed with ``custody sign`` and appended with ``custody submit --json``: a
double-spend, a replay, a revoked key, a mixed batch, and statements ``custody
sign`` refuses to sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import Cli, new_cli, sign, write


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    # each command's first run is a real process; its repeats run in this process
    return new_cli(tmp_path, repeat_in_process=True)


@pytest.mark.slow
def test_hand_written_statements(cli: Cli) -> None:
    cli.parallel(
        [("keys", "generate", "--out", str(cli.dir / n)) for n in ("farm", "gin", "farm-2")]
    )
    cli.register(
        "farm", "Lubbock Cotton Farm", "US", "--subdivision", "US-TX", "--role", "supplier"
    )
    cli.register("gin", "Plains Gin Co", "US", "--role", "supplier")

    origin = write(cli, "origin.json", """{
  "spec": "custody/1",
  "type": "origin",
  "id": "origin/seed-7",
  "issuer": "farm",
  "time": "2026-09-01T14:00:00Z",
  "lot": {"id": "farm/seed-7", "material": "cotton.seed", "quantity": 5000, "unit": "kg"},
  "site": {"name": "Lubbock farm", "country": "US", "subdivision": "US-TX"}
}
""")  # fmt: skip
    env = sign(cli, origin, "farm.key")
    (res,) = cli.json("submit", env)
    assert res["seq"] == 3
    origin_digest = res["digest"]
    # the digest is the sha256 of the statement bytes exactly as signed
    signed_payload = json.loads((cli.dir / env).read_text())["payload"]
    payload = base64.b64decode(signed_payload)
    assert payload == (cli.dir / origin).read_bytes().rstrip(b"\n")
    assert origin_digest == "sha256:" + hashlib.sha256(payload).hexdigest()

    # replay: same envelope, same seq, exit 0
    (again,) = cli.json("submit", env)
    assert again == {"digest": origin_digest, "seq": 3, "duplicate": True}

    # same (issuer, id), other bytes: a conflict, exit 1
    changed = write(
        cli, "origin-changed.json", (cli.dir / origin).read_text().replace("5000", "5001")
    )
    (conflict,) = cli.json("submit", sign(cli, changed, "farm.key"), code=1)
    assert conflict["error"]["code"] == "conflict.statement_id"

    dispatch = write(cli, "dispatch.json", """{"spec": "custody/1", "type": "dispatch",
 "id": "dispatch/seed-7/gin-1", "issuer": "farm", "time": "2026-09-03T09:00:00Z",
 "lot": "farm/seed-7", "quantity": 5000, "unit": "kg", "to": "gin",
 "documents": [{"sha256": "%s", "kind": "bill_of_lading", "name": "BOL TX-17.pdf"}]}
""" % ("0f" * 32))  # fmt: skip
    (d,) = cli.json("submit", sign(cli, dispatch, "farm.key"))
    receipt = write(cli, "receipt.json", json.dumps({
        "spec": "custody/1", "type": "receipt", "id": "receipt/seed-7", "issuer": "gin",
        "time": "2026-09-04T08:00:00Z", "dispatch": d["digest"], "quantity": 5, "unit": "t",
    }))  # fmt: skip
    (r,) = cli.json("submit", sign(cli, receipt, "gin.key"))
    assert r["seq"] == d["seq"] + 1

    # a double-spend: two transforms draw 3000 kg each of the gin's 5000 kg
    def transform(n: int) -> str:
        return write(cli, f"transform-{n}.json", json.dumps({
            "spec": "custody/1", "type": "transform", "id": f"transform/lint-{n}",
            "issuer": "gin", "time": f"2026-09-0{5 + n}T10:00:00Z", "process": "cotton.ginning",
            "inputs": [{"lot": "farm/seed-7", "quantity": 3000, "unit": "kg"}],
            "outputs": [{"id": f"gin/lint-{n}", "material": "cotton.lint", "quantity": 1050,
                         "unit": "kg"}],
            "site": {"name": "Plains gin", "country": "US"},
        }))  # fmt: skip

    (t1,) = cli.json("submit", sign(cli, transform(1), "gin.key"))
    assert "seq" in t1
    double = cli.run("submit", sign(cli, transform(2), "gin.key"), code=1)
    assert "rejected.overdraw" in double.stdout
    assert "gin holds 2000 kg of lot 'farm/seed-7' but draws 3000 kg" in double.stdout
    assert "0 appended, 1 rejected" in double.stderr

    # a batch in JSON lines: the bad one is rejected alone, exit 1, results in order
    good = write(cli, "origin-8.json", (cli.dir / origin).read_text()
                 .replace("seed-7", "seed-8"))  # fmt: skip
    over = write(cli, "dispatch-over.json", json.dumps({
        "spec": "custody/1", "type": "dispatch", "id": "dispatch/over", "issuer": "gin",
        "time": "2026-09-09T10:00:00Z", "lot": "farm/seed-7", "quantity": 2001, "unit": "kg",
        "to": "farm",
    }))  # fmt: skip
    batch = cli.dir / "batch.jsonl"
    batch.write_text(
        (cli.dir / sign(cli, good, "farm.key")).read_text()
        + (cli.dir / sign(cli, over, "gin.key")).read_text()
        + (cli.dir / env).read_text()
    )
    results = cli.json("submit", "batch.jsonl", code=1)
    assert [sorted(x) for x in results] == [
        ["digest", "seq"],
        ["digest", "error"],
        ["digest", "duplicate", "seq"],
    ]
    assert results[1]["error"]["code"] == "rejected.overdraw"
    assert results[2]["seq"] == 3

    # key rotation by hand: add a new key (signed by the old), revoke the old (signed by the new)
    new_pub = (cli.dir / "farm-2.pub").read_text().strip()
    old_pub = (cli.dir / "farm.pub").read_text().strip()
    key_st = write(cli, "key.json", json.dumps({
        "spec": "custody/1", "type": "key", "id": "key/farm-2", "issuer": "farm",
        "time": "2026-09-10T00:00:00Z", "party": "farm", "public_key": new_pub,
    }))  # fmt: skip
    assert "seq" in cli.json("submit", sign(cli, key_st, "farm.key"))[0]
    revoke = write(cli, "revoke.json", json.dumps({
        "spec": "custody/1", "type": "revoke", "id": "revoke/farm-1", "issuer": "farm",
        "time": "2026-09-10T00:05:00Z", "party": "farm", "public_key": old_pub,
        "reason": "compromised", "effective": "2026-09-09T00:00:00Z",
    }))  # fmt: skip
    assert "seq" in cli.json("submit", sign(cli, revoke, "farm-2.key"))[0]
    late = write(cli, "origin-9.json", (cli.dir / origin).read_text().replace("seed-7", "seed-9"))
    (revoked,) = cli.json("submit", sign(cli, late, "farm.key"), code=1)
    assert revoked["error"]["code"] == "bad_signature.revoked"
    assert "was revoked (compromised)" in revoked["error"]["message"]

    # statements `custody sign` refuses to sign: exit 1 and the exact problem
    refusals: list[tuple[str, str]] = []

    def refused(name: str, text: str, code: str) -> None:
        refusals.append((write(cli, name, text), code))

    base = json.loads((cli.dir / origin).read_text())

    def variant(**lot: Any) -> str:
        return json.dumps({**base, "id": "origin/v", "lot": {**base["lot"], **lot}})

    refused("neg.json", variant(quantity=-5), "invalid_statement.bad_quantity")
    refused("zero.json", variant(quantity=0), "invalid_statement.bad_quantity")
    refused("text.json", variant(quantity="5000"), "invalid_statement.bad_quantity")
    refused("unit.json", variant(unit="bales"), "invalid_statement.unknown_unit")
    refused("time.json", json.dumps({**base, "time": "2026-09-01"}), "invalid_statement.bad_time")
    refused("type.json", json.dumps({**base, "type": "harvest"}), "invalid_statement.unknown_type")
    refused("sub.json", json.dumps({**base, "site": {"name": "x", "country": "US",
            "subdivision": "USTX"}}), "invalid_statement.bad_subdivision")  # fmt: skip
    refused("missing.json", json.dumps({k: v for k, v in base.items() if k != "site"}),
            "invalid_statement.missing_field")  # fmt: skip
    refused("dupkey.json", '{"spec": "custody/1", "spec": "custody/1"}',
            "invalid_statement.duplicate_key")  # fmt: skip
    outputs = cli.parallel([("sign", "--key", "farm-2.key", f) for f, _ in refusals], code=1)
    for (name, code), output in zip(refusals, outputs, strict=True):
        assert f"[{code}]" in output, (name, output)

    # a signed envelope whose payload was edited afterwards
    tampered = json.loads((cli.dir / env).read_text())
    edited = payload.replace(b"seed-7", b"seed-77")  # a new id, so no (issuer, id) conflict
    tampered["payload"] = base64.b64encode(edited).decode()
    (cli.dir / "tampered.env").write_text(json.dumps(tampered))
    (bad_sig,) = cli.json("submit", "tampered.env", code=1)
    assert bad_sig["error"]["code"] == "bad_signature.invalid"

    report = cli.json("ledger", "audit")
    assert report["ok"], report["problems"]
    held = cli.json("lots", "held", "--party", "gin")
    assert [(h["lot"], h["quantity"]) for h in held["holdings"]] == [
        ("farm/seed-7", "2000"),
        ("gin/lint-1", "1050"),
    ]
