"""One scenario per SPEC §6 rule that triggers it, and a clean twin that does not.

Every chain is made of real signed statements appended to a real ledger
(tests.support). The append path refuses double-spending, bad signatures and
the like, so those scenarios edit the database behind the ledger's back
(tests.provenance.chains) or verify hand-built leaves with ``verify_entries``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ledger.envelope import sign_envelope
from ledger.keys import PrivateKey
from provenance.replay import Rejection
from provenance.rules import DEFAULT_RULES, RULE_IDS
from provenance.rules.base import rejection_rule
from provenance.verify import ensure_pass, verify_entries
from tests.provenance.chains import (
    append_leaf,
    append_raw,
    collected_leaves,
    cotton,
    rechain,
    rewrite_leaf,
)
from tests.support import World, q, site

SPEC_RULES = {
    "SIGNATURE": "error",
    "INTEGRITY": "error",
    "CUSTODY": "error",
    "OVERDRAW": "error",
    "MASS": "error",
    "TIME-ORDER": "error",
    "HIGH-RISK-REGION": "error",
    "LISTED-ENTITY": "error",
    "UNTRACED": "gap",
    "YIELD": "warning",
    "CORROBORATION": "info",
    "EVIDENCE": "gap",
    "PAYMENT": "error",
    "INVOICE-QUANTITY": "error",
    "LAB-TEST": "error",
    "CAPACITY": "warning",
}


def by_rule(report, rule):
    return [f for f in report.findings if f.rule == rule]


def test_every_spec_rule_is_an_object_with_id_and_severity():
    assert {r.id: r.severity for r in DEFAULT_RULES} == SPEC_RULES
    assert set(RULE_IDS) == set(SPEC_RULES)
    for rule in DEFAULT_RULES:
        assert callable(rule.check)


def test_clean_chain_passes(world: World):
    chain = cotton(world)
    report = chain.verify()
    assert report.verdict == "pass", report.findings
    assert report.findings == []
    assert ensure_pass(report) is report
    assert report.import_entries == ["ABC-1234567-8"]


# ------------------------------------------------------------------ SIGNATURE


def test_signature_forged_in_a_rewritten_history(world: World):
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    seq = chain.seqs["dispatch_lint"]
    old = json.loads(dict(pairs)[seq])
    payload = __import__("base64").b64decode(old["envelope"]["payload"])
    forged = sign_envelope(payload, [PrivateKey.generate()])  # same statement, a stranger's key
    report = verify_entries(rechain(pairs, seq, forged), chain.subject)
    sig = by_rule(report, "SIGNATURE")
    assert sig, report.findings
    assert sig[0].details["code"] == "bad_signature.unknown_key"
    assert chain.digests["dispatch_lint"] in sig[0].statements
    assert not by_rule(report, "INTEGRITY")  # the chain was rewritten consistently
    # judged as if signed, the custody that follows does not cascade into more errors
    assert {f.rule for f in report.findings if f.severity == "error"} == {"SIGNATURE"}
    assert report.verdict == "fail"


def test_signature_clean_twin_rechained_unchanged(world: World):
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    assert verify_entries(pairs, chain.subject).verdict == "pass"


def _rotating_farm(world: World, reason: str, effective: datetime | None) -> str:
    farm = world.party("farm", "Lubbock Farm", subdivision="US-TX")
    imp = world.party("imp", "Acme Imports", roles=("importer",))
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site("Lubbock farm", "US", "US-TX"),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(100), unit="kg", to="imp")
    imp.submit("receipt", dispatch=d.digest, quantity=q(100), unit="kg")
    new = PrivateKey.generate()
    farm.submit("key", party="farm", public_key=new.public_key_b64)
    body = {"party": "farm", "public_key": farm.key.public_key_b64, "reason": reason}
    if effective is not None:
        body["effective"] = effective
    world.operator.submit("revoke", **body)
    return "farm/seed-1"


def test_signature_voided_by_compromised_revocation(world: World):
    # the key is revoked as compromised with effect from before the farm's statements
    # were appended: their signatures are void, although they precede the revocation
    lot = _rotating_farm(world, "compromised", datetime(2026, 1, 1, tzinfo=UTC))
    report = world_verify(world, lot)
    voided = [
        f for f in by_rule(report, "SIGNATURE") if f.details["code"] == "bad_signature.compromised"
    ]
    assert len(voided) >= 2  # the origin and the dispatch (and the key statement)
    assert report.verdict == "fail"


def test_signature_clean_twin_superseded_key(world: World):
    lot = _rotating_farm(world, "superseded", None)
    report = world_verify(world, lot)
    assert not by_rule(report, "SIGNATURE")
    assert report.verdict == "pass"


def test_signature_compromised_effective_after_append_voids_nothing(world: World):
    lot = _rotating_farm(world, "compromised", datetime.now(UTC) + timedelta(days=365))
    assert not by_rule(world_verify(world, lot), "SIGNATURE")


def world_verify(world: World, lot: str):
    from provenance.verify import verify_lot

    return verify_lot(world.ledger.store, lot)


# ------------------------------------------------------------------ INTEGRITY


def test_integrity_leaf_replaced_in_the_database(world: World):
    """A leaf replaced by another validly signed leaf: the ledger does not pass."""
    chain = cotton(world)
    seq = chain.seqs["dispatch_lint"]
    # the gin signs a different dispatch (more lint to the spinner) and an attacker
    # swaps it into the database, leaving hashes alone
    other = chain.gin.envelope("dispatch", lot="gin/lint-1", quantity=q(3500), unit="kg", to="spin")
    rewrite_leaf(world, seq, other, fix_hashes=False)
    report = chain.verify()
    codes = {f.details.get("code") for f in by_rule(report, "INTEGRITY")}
    assert {"integrity.leaf_hash", "integrity.leaf_node", "integrity.chain"} <= codes
    assert report.verdict == "fail"


def test_integrity_leaf_replaced_with_hashes_fixed_still_breaks_the_chain(world: World):
    chain = cotton(world)
    seq = chain.seqs["dispatch_lint"]
    other = chain.gin.envelope("dispatch", lot="gin/lint-1", quantity=q(3000), unit="kg", to="spin")
    rewrite_leaf(world, seq, other, fix_hashes=True)
    report = chain.verify()
    assert {f.details.get("code") for f in by_rule(report, "INTEGRITY")} == {"integrity.chain"}
    # the receipt now names a dispatch that is not in the evidence
    assert by_rule(report, "CUSTODY")
    assert report.verdict == "fail"


def test_integrity_unparseable_leaf_and_bad_link():
    world_pairs = [(0, b"not json"), (1, b'{"seq": 1}')]
    report = verify_entries(world_pairs, "x")
    codes = [f.details.get("code") for f in by_rule(report, "INTEGRITY")]
    assert "integrity.leaf_json" in codes
    assert "integrity.leaf_shape" in codes
    assert report.verdict == "fail"


def test_integrity_chain_link_in_hand_built_leaves(world: World):
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    seq, leaf = next((s, leaf) for s, leaf in pairs if s > 0 and s - 1 in dict(pairs))
    obj = json.loads(leaf)
    obj["prev"] = "ab" * 32
    from ledger.leaf import leaf_bytes

    bad = leaf_bytes(obj["seq"], obj["prev"], obj["received_at"], obj["envelope"])
    report = verify_entries([(s, bad if s == seq else lf) for s, lf in pairs], chain.subject)
    found = by_rule(report, "INTEGRITY")
    assert {f.details["code"] for f in found} == {"integrity.chain"}
    # both links around the edited leaf break: into it, and out of it when seq+1 is present
    expected = {seq, seq + 1} if seq + 1 in dict(pairs) else {seq}
    assert {f.details["seq"] for f in found} == expected


def test_integrity_missing_seq0(world: World):
    chain = cotton(world)
    pairs = [p for p in collected_leaves(world, chain.subject) if p[0] != 0]
    report = verify_entries(pairs, chain.subject)
    assert "integrity.no_seq0" in {f.details.get("code") for f in by_rule(report, "INTEGRITY")}


# ------------------------------------------------------------------ CUSTODY / OVERDRAW


def test_custody_dispatch_by_a_party_that_never_held_the_lot(world: World):
    chain = cotton(world)
    # the farm never held the lint; an editor appends its dispatch of it
    env = chain.farm.envelope("dispatch", lot="gin/lint-1", quantity=q(10), unit="kg", to="imp")
    append_raw(world, env, [("gin/lint-1", "dispatch")])
    report = chain.verify()
    found = by_rule(report, "CUSTODY")
    assert [f.details["code"] for f in found] == ["rejected.not_held"]
    assert not by_rule(report, "INTEGRITY")
    assert report.verdict == "fail"


def test_custody_import_of_a_lot_the_importer_never_received(world: World):
    chain = cotton(world, import_lot=False)
    other = world.party("imp2", "Beta Imports", roles=("importer",))
    env = other.envelope(
        "import", lot="spin/yarn-1", quantity=q(1), unit="kg", entry_number="XYZ-0000001-1"
    )
    pairs = append_leaf(collected_leaves(world, chain.subject), env)
    # the importer's registration is in the ledger: add its history by hand
    with world.ledger.store.read() as r:
        history = [(e.seq, e.leaf) for e in r.entries_by_seqs(r.party_history(["imp2"]))]
    report = verify_entries(sorted({*pairs, *history}), chain.subject)
    assert [f.details["code"] for f in by_rule(report, "CUSTODY")] == ["rejected.not_held"]


def test_overdraw_double_spend_by_a_sibling_dispatch(world: World):
    chain = cotton(world)
    # all 3.6 t of lint are dispatched already; an editor slips in one more dispatch
    env = chain.gin.envelope("dispatch", lot="gin/lint-1", quantity=q(500), unit="kg", to="imp")
    append_raw(world, env, [("gin/lint-1", "dispatch")])
    report = chain.verify()
    found = by_rule(report, "OVERDRAW")
    assert len(found) == 1
    assert found[0].details["code"] == "rejected.not_held"
    assert found[0].details["exhausted"] is True
    assert "double-spending" in found[0].message
    assert not by_rule(report, "CUSTODY")
    assert report.verdict == "fail"


def test_overdraw_more_than_held(world: World):
    world_ = world
    farm = world_.party("farm", "Lubbock Farm")
    a = world_.party("buyer-a", "Buyer A")
    b = world_.party("buyer-b", "Buyer B")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(60), unit="kg", to="buyer-a")
    a.submit("receipt", dispatch=d.digest, quantity=q(60), unit="kg")
    # 40 kg remain; the farm double-spends 70 kg to b behind the ledger's back
    env = farm.envelope("dispatch", lot="farm/seed-1", quantity=q(70), unit="kg", to="buyer-b")
    append_raw(world_, env, [("farm/seed-1", "dispatch")])
    report = world_verify(world_, "farm/seed-1")
    found = by_rule(report, "OVERDRAW")
    assert [f.details["code"] for f in found] == ["rejected.overdraw"]
    assert found[0].details["held"] == "40"
    del b


def test_overdraw_clean_twin_partial_dispatches_within_holding(world: World):
    chain = cotton(world)  # 3 t + 0.6 t of 3.6 t dispatched, all appended normally
    assert not by_rule(chain.verify(), "OVERDRAW")


@pytest.mark.parametrize(
    ("kind", "code", "details", "rule"),
    [
        ("receipt", "rejected.receipt_exceeds_dispatch", {}, "OVERDRAW"),
        ("receipt", "rejected.duplicate_receipt", {}, "OVERDRAW"),
        ("dispatch", "rejected.overdraw", {}, "OVERDRAW"),
        ("dispatch", "rejected.not_held", {"exhausted": True}, "OVERDRAW"),
        ("dispatch", "rejected.not_held", {}, "CUSTODY"),
        ("transform", "rejected.unknown_lot", {}, "CUSTODY"),
        ("receipt", "rejected.unknown_dispatch", {}, "CUSTODY"),
        ("dispatch", "rejected.unknown_party", {}, "CUSTODY"),
        ("revoke", "rejected.unknown_party", {}, "SIGNATURE"),
        ("key", "rejected.duplicate_key", {}, "SIGNATURE"),
        ("origin", "bad_signature.revoked", {}, "SIGNATURE"),
        ("import", "rejected.future_time", {}, "TIME-ORDER"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_rejection_codes_map_to_rules(kind, code, details, rule):
    assert rejection_rule(Rejection(5, "sha256:x", kind, "p", code, "", details, False)) == rule


def test_overdraw_receipt_exceeding_its_dispatch_in_hand_built_leaves(world: World):
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(40), unit="kg", to="gin")
    pairs = collected_leaves(world, "farm/seed-1")
    receipt = gin.envelope("receipt", dispatch=d.digest, quantity=q(90), unit="kg")
    report = verify_entries(append_leaf(pairs, receipt), "farm/seed-1")
    found = by_rule(report, "OVERDRAW")
    assert [f.details["code"] for f in found] == ["rejected.receipt_exceeds_dispatch"]


# ------------------------------------------------------------------ MASS


def test_mass_laundering_more_out_than_in(world: World):
    chain = cotton(world, yarn_kg=4000)  # 4 t of yarn from 3 t of lint
    report = chain.verify()
    found = by_rule(report, "MASS")
    assert len(found) == 1
    assert found[0].severity == "error"
    assert found[0].statements == [chain.digests["spinning"]]
    assert found[0].details == {
        "seq": chain.seqs["spinning"],
        "inputs_kg": "3000",
        "outputs_kg": "4000",
    }
    assert report.verdict == "fail"


def test_mass_within_tolerance_passes(world: World):
    chain = cotton(world, yarn_kg=3015)  # +0.5%: within tolerance (YIELD warns, MASS does not)
    report = chain.verify()
    assert not by_rule(report, "MASS")
    assert by_rule(report, "YIELD")
    assert report.verdict == "pass"


def test_mass_unweighable_output_is_a_gap_not_silence(world: World):
    farm = world.party("farm", "Farm")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )
    farm.submit(
        "transform",
        process="packing",
        inputs=[{"lot": "farm/seed-1", "quantity": q(100), "unit": "kg"}],
        outputs=[
            {"id": "farm/bags-1", "material": "cotton.seed.bagged", "quantity": q(4), "unit": "pcs"}
        ],
        site=site(),
    )
    report = world_verify(world, "farm/bags-1")
    found = by_rule(report, "MASS")
    assert [f.severity for f in found] == ["gap"]
    assert "cannot be weighed" in found[0].message
    assert report.verdict == "incomplete"
