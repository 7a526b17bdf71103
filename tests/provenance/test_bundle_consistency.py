"""Bundles carry a later cosigned checkpoint with a consistency proof (issue 16): the
later cosignatures count towards the quorum once the proof verifies offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.cosignature import Cosigner
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
    run_cli,
    write_members,
)
from tests.support import World, q, site

LOT = "farm/seed-1"


def _origin(lot: str) -> dict[str, Any]:
    return {
        "lot": {"id": lot, "material": "cotton.seed", "quantity": q(1000), "unit": "kg"},
        "site": site("Lubbock farm", "US", "US-TX"),
    }


def _cosign(tmp: Path, name: str, ledger: Ledger) -> Cosigner:
    wh = WitnessHome(tmp / name)
    cosigner = wh.init(f"witness.test/{name}")
    state = wh.state()
    state.add_log(ledger.origin, ledger.verifier_key())
    answer = add_checkpoint(state, cosigner, format_request(0, [], ledger.checkpoint()))
    assert answer.status == 200
    state.close()
    ensure_table(ledger.store)
    store_cosignature(ledger.store, ledger.size(), cosigner.verifier.vkey, answer.body, 1)
    return cosigner


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("consistency")
    world = World(tmp / "home")
    farm = world.party("farm")
    farm.submit("origin", **_origin(LOT))
    ledger = world.ledger
    first = ledger.size()
    w1, w2 = _cosign(tmp, "w1", ledger), _cosign(tmp, "w2", ledger)
    for lot in ("farm/seed-2", "farm/seed-3"):
        (r,) = ledger.submit([farm.envelope("origin", **_origin(lot))])
        assert r.error is None
    w3 = _cosign(tmp, "w3", ledger)  # a witness that saw only the grown log
    bundle = export_bundle(ledger, LOT, tmp / "b.zip", created=CREATED)
    out = {
        "tmp": tmp,
        "first": first,
        "later": ledger.size(),
        "keys": [w.verifier.vkey for w in (w1, w2, w3)],
        "bundle": bundle,
        "key": ledger.verifier_key(),
    }
    yield out
    ledger.store.close()


def _edited(grown: dict[str, Any], name: str, edit: Any) -> Path:
    members = read_members(grown["bundle"].path)
    manifest = manifest_of(members)
    edit(manifest)
    put_manifest(members, manifest)
    return write_members(grown["tmp"] / name, members)


def _consistency(result: Any) -> list[Any]:
    return [f for f in result.integrity if f.details.get("check") == "consistency"]


def test_export_carries_the_later_cosigned_checkpoint(grown: dict[str, Any]) -> None:
    assert grown["bundle"].checkpoint.size == grown["first"]  # the most cosigned one
    manifest = manifest_of(read_members(grown["bundle"].path))
    (later,) = manifest["consistency"]
    assert f"\n{grown['later']}\n" in later["checkpoint"]
    assert "witness.test/w3" in later["checkpoint"]
    assert later["proof"]


def test_later_cosignatures_count_towards_the_quorum(grown: dict[str, Any]) -> None:
    w1, w2, w3 = grown["keys"]
    plain = verify_bundle(grown["bundle"].path, operator_key=grown["key"])
    assert _consistency(plain) == []
    res = verify_bundle(
        grown["bundle"].path, operator_key=grown["key"], witnesses=[w1, w2, w3], quorum=3
    )
    assert res.verdict == plain.verdict
    assert res.witnesses is not None
    assert res.witnesses.met
    cosigned = res.to_json()["witnesses"]["cosigned"]
    assert [c["name"] for c in cosigned] == [
        "witness.test/w1",
        "witness.test/w2",
        "witness.test/w3",
    ]
    assert "checkpoint_size" not in cosigned[0]
    assert cosigned[2]["checkpoint_size"] == grown["later"]
    (info,) = [f for f in res.integrity if f.details.get("check") == "witness"]
    assert f"witness.test/w3 (on the later checkpoint of size {grown['later']})" in info.message


def test_without_the_consistency_proof_the_later_witness_does_not_count(
    grown: dict[str, Any],
) -> None:
    path = _edited(grown, "bare.zip", lambda m: m.pop("consistency"))
    res = verify_bundle(path, operator_key=grown["key"], witnesses=grown["keys"], quorum=3)
    assert res.witnesses is not None
    assert not res.witnesses.met
    assert res.verdict == "fail"


def test_an_altered_consistency_proof_is_an_integrity_error(grown: dict[str, Any]) -> None:
    def edit(m: dict[str, Any]) -> None:
        proof = m["consistency"][0]["proof"]
        proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]

    path = _edited(grown, "altered.zip", edit)
    res = verify_bundle(path, operator_key=grown["key"], witnesses=grown["keys"], quorum=3)
    (bad,) = _consistency(res)
    assert bad.severity == "error"
    assert "does not verify" in bad.message
    assert bad.details["code"] == "invalid_proof.root_mismatch"
    assert res.verdict == "fail"
    assert res.witnesses is not None
    assert not res.witnesses.met  # w3's cosignature is not counted


def test_a_carried_checkpoint_that_is_not_later_is_not_used(grown: dict[str, Any]) -> None:
    def edit(m: dict[str, Any]) -> None:
        m["consistency"][0]["checkpoint"] = m["checkpoint"]

    path = _edited(grown, "same.zip", edit)
    res = verify_bundle(path, operator_key=grown["key"], witnesses=grown["keys"], quorum=2)
    (warning,) = _consistency(res)
    assert warning.severity == "warning"
    assert "is not later than the bundle's" in warning.message
    assert res.witnesses is not None
    assert res.witnesses.met


def test_a_checkpoint_not_signed_by_the_operator_is_not_used(grown: dict[str, Any]) -> None:
    def edit(m: dict[str, Any]) -> None:
        note = m["consistency"][0]["checkpoint"]
        m["consistency"][0]["checkpoint"] = note.replace(f"\n{grown['later']}\n", "\n999\n")

    path = _edited(grown, "forged.zip", edit)
    res = verify_bundle(path, operator_key=grown["key"], witnesses=grown["keys"], quorum=3)
    (warning,) = _consistency(res)
    assert warning.severity == "warning"
    assert "not signed by the operator key" in warning.message
    assert res.witnesses is not None
    assert not res.witnesses.met


def test_the_manifest_schema_checks_the_list(grown: dict[str, Any]) -> None:
    path = _edited(grown, "schema.zip", lambda m: m["consistency"][0].update(extra=1))
    res = verify_bundle(path, operator_key=grown["key"])
    assert res.verdict == "fail"
    assert any("consistency[0] has unknown key(s) 'extra'" in f.message for f in res.integrity)


def test_cli_names_the_later_checkpoint(grown: dict[str, Any]) -> None:
    args = [f"--witness={k}" for k in grown["keys"]]
    path = str(grown["bundle"].path)
    proc = run_cli(
        "bundle",
        "verify",
        path,
        "--operator-key",
        grown["key"],
        *args,
        "--quorum",
        "3",
        cwd=grown["tmp"],
    )
    assert f"later checkpoint of size {grown['later']}" in proc.stdout
    assert "quorum met" in proc.stdout
