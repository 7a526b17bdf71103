"""Composition by origin (SPEC §6): hand-computed shares, diamonds, units, and a
property test of the backward weight propagation against a naive forward
reference (each lot's composition as an exact mix of its inputs')."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from ledger.statements import Origin, Transform, build_statement, parse_statement
from ledger.units import ROUNDED
from provenance.composition import compose
from tests.support import World, q, site


def d(a: int, b: int) -> Decimal:
    """a/b at the 50 significant digits the composition uses."""
    return ROUNDED.divide(Decimal(a), Decimal(b))


def shares(report) -> dict[tuple[str, str | None, str], Decimal]:
    return {(s.country, s.subdivision, s.material): s.share for s in report.composition}


def move(src, dst, lot: str, qty: int, unit: str = "kg") -> None:
    r = src.submit("dispatch", lot=lot, quantity=q(qty), unit=unit, to=dst.id)
    dst.submit("receipt", dispatch=r.digest, quantity=q(qty), unit=unit)


def test_diamond_one_origin_reaching_the_subject_by_two_paths(world: World):
    """Farm A's lint reaches the fabric through two spinners; farm B's through one.

    A: 10 t seed → gin → 3,600 kg lint; 1,800 kg to each spinner.
    B: 5 t seed → 1,500 kg lint, all to spinner 2.
    spinner 1: 1,800 kg A-lint → 1,500 kg yarn;
    spinner 2: 1,800 kg A-lint + 1,500 kg B-lint → 2,800 kg yarn.
    knitter: 1,500 kg yarn 1 + 1,400 kg yarn 2 → fabric.
    Yarn 2 is 1800/3300 = 6/11 A. Share of A = (1500 + 1400 · 6/11) / 2900 =
    24900/31900 = 249/319; B = 1400 · 5/11 / 2900 = 70/319.
    A path-by-path walk that did not weigh both paths would count A twice.
    """
    fa = world.party("farm-a", "Farm A", subdivision="US-TX")
    fb = world.party("farm-b", "Farm B", "IN", subdivision="IN-GJ")
    gin = world.party("gin", "Gin")
    s1 = world.party("spin-1", "Spinner 1")
    s2 = world.party("spin-2", "Spinner 2")
    knit = world.party("knit", "Knitter")
    fa.submit(
        "origin",
        lot={"id": "a/seed", "material": "cotton.seed", "quantity": q(10000), "unit": "kg"},
        site=site("A", "US", "US-TX"),
    )
    fb.submit(
        "origin",
        lot={"id": "b/seed", "material": "cotton.seed", "quantity": q(5000), "unit": "kg"},
        site=site("B", "IN", "IN-GJ"),
    )
    move(fa, gin, "a/seed", 10000)
    move(fb, gin, "b/seed", 5000)
    for src, out, kg_in, kg_out in (
        ("a/seed", "gin/a-lint", 10000, 3600),
        ("b/seed", "gin/b-lint", 5000, 1500),
    ):
        gin.submit(
            "transform",
            process="cotton.ginning",
            inputs=[{"lot": src, "quantity": q(kg_in), "unit": "kg"}],
            outputs=[{"id": out, "material": "cotton.lint", "quantity": q(kg_out), "unit": "kg"}],
            site=site(),
        )
    move(gin, s1, "gin/a-lint", 1800)
    move(gin, s2, "gin/a-lint", 1800)
    move(gin, s2, "gin/b-lint", 1500)
    s1.submit(
        "transform",
        process="yarn.spinning",
        inputs=[{"lot": "gin/a-lint", "quantity": q(1800), "unit": "kg"}],
        outputs=[{"id": "s1/yarn", "material": "yarn.cotton", "quantity": q(1500), "unit": "kg"}],
        site=site(),
    )
    s2.submit(
        "transform",
        process="yarn.spinning",
        inputs=[
            {"lot": "gin/a-lint", "quantity": q(1800), "unit": "kg"},
            {"lot": "gin/b-lint", "quantity": q(1500), "unit": "kg"},
        ],
        outputs=[{"id": "s2/yarn", "material": "yarn.cotton", "quantity": q(2800), "unit": "kg"}],
        site=site(),
    )
    move(s1, knit, "s1/yarn", 1500)
    move(s2, knit, "s2/yarn", 1400)
    knit.submit(
        "transform",
        process="fabric.knitting",
        inputs=[
            {"lot": "s1/yarn", "quantity": q(1500), "unit": "kg"},
            {"lot": "s2/yarn", "quantity": q(1400), "unit": "kg"},
        ],
        outputs=[
            {"id": "knit/fabric", "material": "fabric.cotton", "quantity": q(2800), "unit": "kg"}
        ],
        site=site(),
    )
    from provenance.verify import verify_lot

    report = verify_lot(world.ledger.store, "knit/fabric")
    assert shares(report) == {
        ("US", "US-TX", "cotton.seed"): d(249, 319),
        ("IN", "IN-GJ", "cotton.seed"): d(70, 319),
    }
    assert report.untraced_share == 0
    assert [c["share"] for c in report.to_json()["composition"]] == [0.780564, 0.219436]
    assert report.verdict == "pass", report.findings


def test_mixed_inputs_units_and_external(world: World):
    """Cut-and-sew of fabric in kg (US), fabric in metres with mass_kg (IN) and an
    external thread in pieces with mass_kg (CN): shares by mass, untraced with country.

    1 t + 0.5 t + 0.02 t... in kg: 200 kg (US) + 150 kg (IN, 600 m) + 10 kg thread
    (2,000 pcs): US 200/360 = 5/9, IN 150/360 = 5/12, untraced 10/360 = 1/36.
    """
    us = world.party("mill-us", "US Mill")
    ind = world.party("mill-in", "IN Mill", "IN")
    sew = world.party("sew", "Sewing Co", "VN")
    us.submit(
        "origin",
        lot={"id": "us/fab", "material": "fabric.cotton", "quantity": q("0.2"), "unit": "t"},
        site=site("US", "US"),
    )
    ind.submit(
        "origin",
        lot={"id": "in/fab", "material": "fabric.cotton", "quantity": q(600), "unit": "m"},
        site=site("IN", "IN", "IN-GJ"),
    )
    move(us, sew, "us/fab", 200)
    move(ind, sew, "in/fab", 600, "m")
    sew.submit(
        "transform",
        process="apparel.cut_and_sew",
        inputs=[
            {"lot": "us/fab", "quantity": q(200000), "unit": "g"},
            {"lot": "in/fab", "quantity": q(600), "unit": "m", "mass_kg": q(150)},
        ],
        external_inputs=[
            {
                "material": "thread.polyester",
                "quantity": q(2000),
                "unit": "pcs",
                "mass_kg": q(10),
                "supplier": "Thread Co",
                "country": "CN",
            }
        ],
        outputs=[
            {
                "id": "sew/tees",
                "material": "apparel.tshirt",
                "quantity": q(1500),
                "unit": "pcs",
                "mass_kg": q(300),
            }
        ],
        site=site("Factory", "VN"),
    )
    from provenance.verify import verify_lot

    report = verify_lot(world.ledger.store, "sew/tees")
    assert shares(report) == {
        ("US", None, "fabric.cotton"): d(5, 9),
        ("IN", "IN-GJ", "fabric.cotton"): d(5, 12),
    }
    assert report.untraced_share == d(1, 36)
    untraced = [f for f in report.findings if f.rule == "UNTRACED"]
    assert len(untraced) == 1
    assert untraced[0].details["country"] == "CN"
    assert report.verdict == "incomplete"


def test_custody_hand_offs_keep_composition(world: World):
    farm = world.party("farm", "Farm", subdivision="US-TX")
    a = world.party("trader", "Trader")
    b = world.party("buyer", "Buyer")
    farm.submit(
        "origin",
        lot={"id": "farm/seed", "material": "cotton.seed", "quantity": q(100), "unit": "lb"},
        site=site("F", "US", "US-TX"),
    )
    move(farm, a, "farm/seed", 60, "lb")
    move(a, b, "farm/seed", 25, "lb")
    from provenance.verify import verify_lot

    report = verify_lot(world.ledger.store, "farm/seed")
    assert shares(report) == {("US", "US-TX", "cotton.seed"): Decimal(1)}


# ------------------------------------------------------------------ pure function


def origin(
    lot: str,
    kg: int | str,
    country: str = "US",
    sub: str | None = None,
    material: str = "cotton.seed",
):
    s = {"name": "x", "country": country}
    if sub:
        s["subdivision"] = sub
    payload = build_statement(
        "origin",
        f"o-{lot}",
        "farm",
        "2026-03-01T00:00:00Z",
        lot={"id": lot, "material": material, "quantity": Decimal(str(kg)), "unit": "kg"},
        site=s,
    )
    st = parse_statement(payload)
    assert isinstance(st, Origin)
    return st


def transform(out: str, inputs: list[tuple[str, Any, str]], externals: list[dict[str, Any]] = ()):
    payload = build_statement(
        "transform",
        f"t-{out}",
        "mill",
        "2026-03-01T00:00:00Z",
        process="mixing",
        inputs=[
            {"lot": lot, "quantity": Decimal(str(qty)), "unit": unit}
            | ({} if unit in ("kg", "g", "t", "lb") else {"mass_kg": Decimal(1)})
            for lot, qty, unit in inputs
        ],
        external_inputs=list(externals),
        outputs=[{"id": out, "material": "mix", "quantity": Decimal(1), "unit": "kg"}],
        site={"name": "m", "country": "US"},
    )
    st = parse_statement(payload)
    assert isinstance(st, Transform)
    return st


def test_compose_unweighable_input_is_reported_and_left_out():
    creators = {
        "a": origin("a", 10, "US"),
        "b": origin("b", 10, "IN"),
        "mix": parse_statement(
            build_statement(
                "transform",
                "t-mix",
                "mill",
                "2026-03-01T00:00:00Z",
                process="mixing",
                inputs=[
                    {"lot": "a", "quantity": Decimal(3), "unit": "kg"},
                    {"lot": "b", "quantity": Decimal(5), "unit": "m"},  # no mass_kg
                ],
                outputs=[{"id": "mix", "material": "mix", "quantity": Decimal(3), "unit": "kg"}],
                site={"name": "m", "country": "US"},
            )
        ),
    }
    comp = compose("mix", creators)  # type: ignore[arg-type]
    assert [(s.country, s.share) for s in comp.shares] == [("US", Decimal(1))]
    assert [(u.lot, u.unit) for u in comp.unweighable] == [("b", "m")]


def test_compose_nothing_weighable_is_untraced():
    creators = {
        "a": origin("a", 10),
        "mix": parse_statement(
            build_statement(
                "transform",
                "t-mix",
                "mill",
                "2026-03-01T00:00:00Z",
                process="mixing",
                inputs=[{"lot": "a", "quantity": Decimal(5), "unit": "pcs"}],
                outputs=[{"id": "mix", "material": "mix", "quantity": Decimal(3), "unit": "kg"}],
                site={"name": "m", "country": "US"},
            )
        ),
    }
    comp = compose("mix", creators)  # type: ignore[arg-type]
    assert comp.shares == []
    assert comp.untraced_share == 1
    assert [u.kind for u in comp.untraced] == ["unweighable"]


def test_compose_lot_without_creator_is_unknown():
    comp = compose("mix", {"mix": transform("mix", [("a", 1, "kg"), ("ghost", 3, "kg")])})
    assert comp.untraced_share == 1  # neither input has a creator in the evidence
    comp = compose(
        "mix", {"a": origin("a", 5), "mix": transform("mix", [("a", 1, "kg"), ("ghost", 3, "kg")])}
    )
    assert comp.untraced_share == Decimal("0.75")
    assert {u.kind: u.lot for u in comp.untraced} == {"unknown": "ghost"}


def test_compose_cycle_in_corrupt_evidence_terminates():
    creators = {
        "x": transform("x", [("y", 1, "kg")]),
        "y": transform("y", [("x", 1, "kg")]),
    }
    comp = compose("x", creators)
    assert comp.untraced_share == 1


def test_shares_are_exact_and_sum_to_one():
    creators = {
        "a": origin("a", 1, "US"),
        "b": origin("b", 1, "IN"),
        "c": origin("c", 1, "BD"),
        "mix": transform("mix", [("a", 1, "kg"), ("b", 1, "kg"), ("c", 1, "kg")]),
    }
    comp = compose("mix", creators)
    assert [s.share for s in comp.shares] == [d(1, 3)] * 3
    with localcontext(prec=60):
        assert abs(sum(s.share for s in comp.shares) - 1) < Decimal("1e-48")
