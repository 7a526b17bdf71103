"""SPEC §6 rules, continued: time order, high-risk regions, listed entities, untraced
material, yields, corroboration, and the verdicts (one scenario and a clean twin each).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.leaf import format_received_at as ledger_time
from ledger.units import ROUNDED
from provenance.verify import VerificationError, ensure_pass, verify_entries
from tests.provenance.chains import (
    append_leaf,
    collected_leaves,
    cotton,
    stored,
)
from tests.provenance.test_rules import by_rule, world_verify
from tests.support import World, q, site

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
