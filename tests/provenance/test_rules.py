"""One scenario per SPEC §6 rule that triggers it, and a clean twin that does not.

Every chain is made of real signed statements appended to a real ledger
(tests.support). The append path refuses double-spending, bad signatures and
the like, so those scenarios edit the database behind the ledger's back
(tests.provenance.chains) or verify hand-built leaves with ``verify_entries``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.envelope import sign_envelope
from ledger.keys import PrivateKey
from ledger.leaf import format_received_at as ledger_time
from ledger.units import ROUNDED
from provenance.replay import Rejection
from provenance.rules import DEFAULT_RULES, RULE_IDS
from provenance.rules.base import rejection_rule
from provenance.verify import VerificationError, ensure_pass, verify_entries
from tests.provenance.chains import (
    append_leaf,
    append_raw,
    collected_leaves,
    cotton,
    rechain,
    rewrite_leaf,
    stored,
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


# ------------------------------------------------------------------ TIME-ORDER


def test_time_order_receipt_before_its_dispatch(world: World):
    chain = cotton(world, receipt_time_shift=-60)
    report = chain.verify()
    found = by_rule(report, "TIME-ORDER")
    assert found
    assert chain.digests["receipt_lint"] in found[0].statements
    assert report.verdict == "fail"


def test_time_order_clean_twin(world: World):
    assert not by_rule(cotton(world).verify(), "TIME-ORDER")


def test_time_order_statement_after_its_ledger_time(world: World):
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    # evidence dated a year after the ledger time its leaf claims
    late = datetime.now(UTC) + timedelta(days=365)
    env = chain.spin.envelope(
        "evidence",
        lots=["spin/yarn-1"],
        kind="production_record",
        document={"sha256": "b" * 64, "name": "p.pdf", "media_type": "application/pdf", "size": 1},
        time=late,
    )
    report = verify_entries(
        append_leaf(pairs, env, received_at=ledger_time(datetime.now(UTC))), chain.subject
    )
    found = by_rule(report, "TIME-ORDER")
    assert [f.details["code"] for f in found] == ["rejected.future_time"]


def test_time_order_draw_before_holding(world: World):
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    t0 = world.tick()
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
        time=t0,
    )
    d = farm.submit(
        "dispatch",
        lot="farm/seed-1",
        quantity=q(100),
        unit="kg",
        to="gin",
        time=t0 + timedelta(hours=1),
    )
    gin.submit(
        "receipt", dispatch=d.digest, quantity=q(100), unit="kg", time=t0 + timedelta(hours=2)
    )
    gin.submit(
        "transform",
        process="cotton.ginning",
        inputs=[{"lot": "farm/seed-1", "quantity": q(100), "unit": "kg"}],
        outputs=[{"id": "gin/lint-1", "material": "cotton.lint", "quantity": q(36), "unit": "kg"}],
        site=site(),
        time=t0 + timedelta(minutes=30),  # ginned before it was received
    )
    found = by_rule(world_verify(world, "gin/lint-1"), "TIME-ORDER")
    assert len(found) == 1
    assert "before gin held it" in found[0].message


# ------------------------------------------------------------------ HIGH-RISK-REGION


def test_high_risk_region_origin_in_xinjiang(world: World):
    chain = cotton(world, farm_site=site("Aksu farm", "CN", "CN-XJ"))
    report = chain.verify()
    found = by_rule(report, "HIGH-RISK-REGION")
    assert len(found) == 1
    assert chain.digests["origin"] in found[0].statements
    assert "CN-XJ" in {r["code"] for r in found[0].details["regions"]}
    assert report.composition[0].subdivision == "CN-XJ"
    assert report.verdict == "fail"


def test_high_risk_region_clean_twin(world: World):
    assert not by_rule(cotton(world).verify(), "HIGH-RISK-REGION")


@pytest.mark.parametrize(
    ("material", "flagged"),
    [("cotton.seed", True), ("wool.greasy", False)],
    ids=["turkmen-cotton", "turkmen-wool"],
)
def test_high_risk_region_limited_to_materials(world: World, material: str, flagged: bool):
    farm = world.party("farm", "Ashgabat Farm", "TM")
    farm.submit(
        "origin",
        lot={"id": "farm/lot-1", "material": material, "quantity": q(100), "unit": "kg"},
        site=site("Mary", "TM"),
    )
    assert bool(by_rule(world_verify(world, "farm/lot-1"), "HIGH-RISK-REGION")) is flagged


def test_high_risk_region_external_input(world: World):
    chain = cotton(
        world,
        external={
            "material": "polyester.fiber",
            "quantity": q(400),
            "unit": "kg",
            "supplier": "Far Away Fibres",
            "country": "CN",
            "subdivision": "CN-XJ",
        },
    )
    found = by_rule(chain.verify(), "HIGH-RISK-REGION")
    assert len(found) == 1
    assert found[0].details["external_input"] == 0


# ------------------------------------------------------------------ LISTED-ENTITY


def test_listed_entity_variant_of_a_listed_name_on_the_path(world: World):
    chain = cotton(world, spin_name="ESQUEL TEXTILE (CHANGJI) CO")
    report = chain.verify()
    found = by_rule(report, "LISTED-ENTITY")
    assert found
    entries = {f.details["entry"] for f in found}
    assert "Changji Esquel Textile Co., Ltd." in entries
    hit = next(f for f in found if f.details["entry"] == "Changji Esquel Textile Co., Ltd.")
    assert hit.details["list"] == "uflpa-entity-list"
    assert hit.details["score"] >= 90
    assert hit.details["party"] == "spin"
    assert chain.digests["spinning"] in hit.statements
    assert report.verdict == "fail"


def test_listed_entity_clean_twin(world: World):
    assert not by_rule(cotton(world).verify(), "LISTED-ENTITY")


def test_listed_entity_off_the_path_is_not_flagged(world: World):
    chain = cotton(world)
    # another buyer of the same lint, named like a listed entity, is not on the yarn's path
    world.party("listed", "Hoshine Silicon Industry Co Ltd")
    d = chain.gin.submit("dispatch", lot="gin/cottonseed-1", quantity=q(10), unit="kg", to="listed")
    assert d.seq
    assert not by_rule(chain.verify(), "LISTED-ENTITY")


def test_listed_entity_external_supplier(world: World):
    chain = cotton(
        world,
        external={
            "material": "polyester.fiber",
            "quantity": q(100),
            "unit": "kg",
            "supplier": "Zhongtai Textiles Group",
            "country": "CN",
        },
    )
    found = by_rule(chain.verify(), "LISTED-ENTITY")
    assert found
    assert found[0].details["supplier"] == "Zhongtai Textiles Group"


# ------------------------------------------------------------------ UNTRACED


def test_untraced_external_input_with_its_share(world: World):
    chain = cotton(
        world,
        yarn_kg=2900,
        external={
            "material": "polyester.fiber",
            "quantity": q(400),
            "unit": "kg",
            "supplier": "Fibre Co",
            "country": "KR",
        },
    )
    report = chain.verify()
    found = by_rule(report, "UNTRACED")
    assert len(found) == 1
    assert found[0].severity == "gap"
    # 400 kg of 3,400 kg of inputs: 2/17 of the yarn, exactly (to 50 digits)
    assert Decimal(found[0].details["share"]) == ROUNDED.divide(Decimal(2), Decimal(17))
    assert report.untraced_share == Decimal(found[0].details["share"])
    assert found[0].details["country"] == "KR"
    assert report.verdict == "incomplete"
    with pytest.raises(VerificationError) as e:
        ensure_pass(report)
    assert e.value.code == "verification.incomplete"


def test_untraced_clean_twin(world: World):
    report = cotton(world).verify()
    assert not by_rule(report, "UNTRACED")
    assert report.untraced_share == 0


# ------------------------------------------------------------------ YIELD


def test_yield_at_the_edge_of_the_range_does_not_warn(world: World):
    assert not by_rule(cotton(world, lint_kg=4200).verify(), "YIELD")  # lint turnout 0.42


def test_yield_ginning_far_above_lint_turnout(world: World):
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(1000), "unit": "kg"},
        site=site(),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(1000), unit="kg", to="gin")
    gin.submit("receipt", dispatch=d.digest, quantity=q(1000), unit="kg")
    gin.submit(
        "transform",
        process="cotton.ginning",
        inputs=[{"lot": "farm/seed-1", "quantity": q(1000), "unit": "kg"}],
        outputs=[{"id": "gin/lint-1", "material": "cotton.lint", "quantity": q(900), "unit": "kg"}],
        site=site(),
    )
    report = world_verify(world, "gin/lint-1")
    found = by_rule(report, "YIELD")
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert found[0].details["side"] == "above"
    assert found[0].details["process"] == "cotton.ginning"
    assert not by_rule(report, "MASS")
    assert report.verdict == "pass"  # a warning does not change the verdict


def test_yield_by_products_do_not_count(world: World):
    # ginning makes 3.6 t lint and 5.8 t cottonseed from 10 t: lint turnout 0.36
    assert not by_rule(cotton(world).verify(), "YIELD")


# ------------------------------------------------------------------ CORROBORATION


def _evidence(world: World, issuer_roles: tuple[str, ...]) -> str:
    chain = cotton(world)
    lab = world.party("lab", "Isotope Lab GmbH", "DE", roles=issuer_roles)
    lab.submit(
        "evidence",
        lots=["gin/lint-1"],
        kind="isotope_test",
        document={
            "sha256": "c" * 64,
            "name": "iso.pdf",
            "media_type": "application/pdf",
            "size": 9,
        },
    )
    return chain.subject


def test_corroboration_lab_evidence_on_the_trace(world: World):
    subject = _evidence(world, ("lab",))
    report = world_verify(world, subject)
    found = by_rule(report, "CORROBORATION")
    assert len(found) == 1
    assert found[0].severity == "info"
    assert found[0].details["kind"] == "isotope_test"
    assert report.verdict == "pass"


def test_corroboration_clean_twin_supplier_evidence(world: World):
    subject = _evidence(world, ("supplier",))
    assert not by_rule(world_verify(world, subject), "CORROBORATION")


# ------------------------------------------------------------------ verdicts


def test_three_verdicts(world: World, tmp_path):
    assert cotton(world).verify().verdict == "pass"
    w2 = World(tmp_path / "w2")
    incomplete = cotton(
        w2,
        external={"material": "polyester.fiber", "quantity": q(10), "unit": "kg", "country": "KR"},
    )
    assert incomplete.verify().verdict == "incomplete"
    w3 = World(tmp_path / "w3")
    assert cotton(w3, yarn_kg=5000).verify().verdict == "fail"


def test_findings_sorted_by_severity(world: World):
    chain = cotton(
        world,
        yarn_kg=5000,
        external={"material": "polyester.fiber", "quantity": q(10), "unit": "kg", "country": "KR"},
    )
    severities = [f.severity for f in chain.verify().findings]
    order = ["error", "gap", "warning", "info"]
    assert severities == sorted(severities, key=order.index)


def test_stored_leaf_helper_reads_back(world: World):
    chain = cotton(world)
    assert stored(world, chain.seqs["origin"]).digest == chain.digests["origin"]
