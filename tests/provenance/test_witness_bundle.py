"""Bundles with witness cosignatures and a quorum: an operator forks its log; the
witness cosigns the first history and refuses the second (keeping both
checkpoints as evidence); the bundle of the first passes a quorum, the bundle
of the fork fails it, even with the honest cosignatures copied onto it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ledger.checkpoint import split_note
from ledger.cosignature import Cosigner, CosignerVerifier
from ledger.errors import InputError
from ledger.keys import PrivateKey
from ledger.log import Ledger
from ledger.store.cosignatures import ensure_table, store_cosignature
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import add_checkpoint, format_request
from provenance.bundle import export_bundle, verify_bundle
from tests.provenance.bundle_support import (
    CREATED,
    manifest_of,
    put_manifest,
    read_members,
    write_members,
)
from tests.support import World, q, site

LOT = "farm/seed-1"


def _origin(lot: str) -> dict[str, Any]:
    return {
        "lot": {"id": lot, "material": "cotton.seed", "quantity": q(1000), "unit": "kg"},
        "site": site("Lubbock farm", "US", "US-TX"),
    }


def _witness_findings(result: Any) -> list[Any]:
    return [f for f in result.integrity if f.details.get("check") == "witness"]


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fork")
    world = World(tmp / "home")
    farm = world.party("farm")
    farm.submit("origin", **_origin(LOT))
    world.ledger.store.close()
    shutil.copytree(tmp / "home", tmp / "fork")  # same operator key, same history so far
    honest = world.home.open()
    fork = type(world.home)(tmp / "fork").open()
    world.ledger = honest
    (r,) = honest.submit([farm.envelope("origin", **_origin("farm/seed-2"))])
    assert r.error is None
    (r,) = fork.submit([farm.envelope("origin", **_origin("farm/other-2"))])
    assert r.error is None
    assert honest.size() == fork.size()
    assert honest.checkpoint() != fork.checkpoint()

    witnesses = []
    for i in (1, 2):
        wh = WitnessHome(tmp / f"witness{i}")
        cosigner = wh.init(f"witness.test/w{i}")
        state = wh.state()
        state.add_log(honest.origin, honest.verifier_key())
        note = honest.checkpoint()
        answer = add_checkpoint(state, cosigner, format_request(0, [], note))
        assert answer.status == 200
        if i == 1:
            # the fork, offered from the size the witness holds: refused, kept as evidence
            refused = add_checkpoint(
                state, cosigner, format_request(honest.size(), [], fork.checkpoint())
            )
            assert refused.status == 409
            (evidence,) = state.evidence()
            assert evidence.kind == "same_size"
            assert evidence.held_note == note
            assert evidence.offered_note == fork.checkpoint()
        state.close()
        ensure_table(honest.store)
        cosig = answer.body
        store_cosignature(honest.store, honest.size(), cosigner.verifier.vkey, cosig, 1)
        witnesses.append(cosigner)
    # the honest log grows after the witnesses cosigned: bundles still use the cosigned one
    (r,) = honest.submit([farm.envelope("origin", **_origin("farm/seed-3"))])
    assert r.error is None
    good = export_bundle(honest, LOT, tmp / "honest.zip", created=CREATED)
    bad = export_bundle(fork, LOT, tmp / "fork.zip", created=CREATED)
    out = {
        "tmp": tmp,
        "honest": honest,
        "fork": fork,
        "witnesses": witnesses,
        "good": good,
        "bad": bad,
        "key": honest.verifier_key(),
    }
    yield out
    honest.store.close()
    fork.store.close()


def test_the_bundle_carries_the_cosigned_checkpoint(forked: dict[str, Any]) -> None:
    honest: Ledger = forked["honest"]
    assert forked["good"].checkpoint.size == honest.size() - 1  # the cosigned one
    note = manifest_of(read_members(forked["good"].path))["checkpoint"]
    names = [s.name for s in split_note(note)[1]]
    assert names == [honest.origin, "witness.test/w1", "witness.test/w2"]


def test_quorum_met_and_reported(forked: dict[str, Any]) -> None:
    w1, w2 = (w.verifier.vkey for w in forked["witnesses"])
    plain = verify_bundle(forked["good"].path, operator_key=forked["key"])
    assert plain.witnesses is None
    res = verify_bundle(forked["good"].path, operator_key=forked["key"], witnesses=[w1, w2])
    assert res.verdict == plain.verdict
    assert res.witnesses is not None
    assert res.witnesses.met
    assert [k for k, _ in res.witnesses.cosigned] == [w1, w2]
    doc = res.to_json()
    assert [c["name"] for c in doc["witnesses"]["cosigned"]] == [
        "witness.test/w1",
        "witness.test/w2",
    ]
    (info,) = _witness_findings(res)
    assert info.severity == "info"
    assert "witness.test/w1, witness.test/w2" in info.message


def test_the_fork_fails_the_quorum(forked: dict[str, Any]) -> None:
    w1, w2 = (w.verifier.vkey for w in forked["witnesses"])
    plain = verify_bundle(forked["bad"].path, operator_key=forked["key"])
    assert plain.verdict == verify_bundle(forked["good"].path, operator_key=forked["key"]).verdict
    res = verify_bundle(
        forked["bad"].path, operator_key=forked["key"], witnesses=[w1, w2], quorum=1
    )
    assert res.verdict == "fail"
    assert res.witnesses is not None
    assert not res.witnesses.met
    (err,) = _witness_findings(res)
    assert err.severity == "error"
    assert "0 of the 1" in err.message


def test_copied_cosignatures_do_not_count_for_the_fork(forked: dict[str, Any]) -> None:
    w1, w2 = (w.verifier.vkey for w in forked["witnesses"])
    honest_note = manifest_of(read_members(forked["good"].path))["checkpoint"]
    members = read_members(forked["bad"].path)
    manifest = manifest_of(members)
    fork_note = manifest["checkpoint"]
    # the fork's checkpoint is at the cosigned size: paste the honest lines onto it
    lines = honest_note.split("\n\n", 1)[1].splitlines(keepends=True)[1:]
    manifest["checkpoint"] = fork_note + "".join(lines)
    put_manifest(members, manifest)
    path = write_members(forked["tmp"] / "pasted.zip", members)
    res = verify_bundle(path, operator_key=forked["key"], witnesses=[w1, w2], quorum=1)
    assert res.verdict == "fail"
    assert res.witnesses is not None
    assert res.witnesses.cosigned == ()
    assert sorted(res.witnesses.invalid) == sorted([w1, w2])


def test_quorum_counting(forked: dict[str, Any]) -> None:
    c1, c2 = forked["witnesses"]
    w1, w2 = c1.verifier.vkey, c2.verifier.vkey
    path, key = forked["good"].path, forked["key"]
    # one key is one vote, whatever it is called
    alias = CosignerVerifier("alias.test/w1", c1.verifier.public_key).vkey
    with pytest.raises(InputError):
        verify_bundle(path, operator_key=key, witnesses=[w1, w1], quorum=2)
    with pytest.raises(InputError):
        verify_bundle(path, operator_key=key, witnesses=[w1, alias], quorum=2)
    with pytest.raises(InputError):
        verify_bundle(path, operator_key=key, quorum=1)
    # a witness that did not cosign (another key) does not count
    stranger = Cosigner("witness.test/w3", PrivateKey(bytes([3]) * 32)).verifier.vkey
    res = verify_bundle(path, operator_key=key, witnesses=[w1, stranger])
    assert res.witnesses is not None
    assert not res.witnesses.met  # default quorum: all of them
    assert res.witnesses.missing == (stranger,)
    res = verify_bundle(path, operator_key=key, witnesses=[w1, stranger], quorum=1)
    assert res.witnesses is not None
    assert res.witnesses.met
    # a key under a trusted witness's name but not its key id: its line is not counted
    impostor = Cosigner("witness.test/w2", PrivateKey(bytes([4]) * 32)).verifier.vkey
    res = verify_bundle(path, operator_key=key, witnesses=[impostor, w1], quorum=2)
    assert res.witnesses is not None
    assert [k for k, _ in res.witnesses.cosigned] == [w1]
    assert not res.witnesses.met
    assert w2 not in {k for k, _ in res.witnesses.cosigned}


def test_cli_bundle_verify_with_witnesses(forked: dict[str, Any], tmp_path: Path) -> None:
    import json
    import subprocess

    from tests.provenance.bundle_support import CUSTODY

    w1, w2 = (w.verifier.vkey for w in forked["witnesses"])
    wfile = tmp_path / "w2.vkey"
    wfile.write_text(w2 + "\n")
    args = [CUSTODY, "bundle", "verify", "--operator-key", forked["key"]]
    ok = subprocess.run(
        [*args, str(forked["good"].path), "--witness", w1, "--witness", str(wfile), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    doc = json.loads(ok.stdout)
    assert doc["witnesses"]["met"] is True
    assert doc["witnesses"]["quorum"] == 2
    bad = subprocess.run(
        [*args, str(forked["bad"].path), "--witness", w1, "--quorum", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert "split view" in bad.stdout
    assert "quorum NOT met" in bad.stdout
    usage = subprocess.run(
        [*args, str(forked["good"].path), "--witness", w1, "--quorum", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert usage.returncode != 0
    assert "Traceback" not in usage.stderr
    assert json.loads(usage.stdout)["error"]["code"] == "invalid_input.quorum"
