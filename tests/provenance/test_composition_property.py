"""Composition, property test: backward propagation equals a naive forward mix."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.statements import Origin, Transform
from provenance.composition import compose, to_decimal
from tests.provenance.test_composition import origin, transform

# ------------------------------------------------------------------ property test


@st.composite
def dags(draw: Any) -> tuple[str, dict[str, Origin | Transform]]:
    """Random layered supply graphs: origins, then transforms drawing on earlier lots
    (so shared inputs make diamonds), some with external inputs."""
    n_origins = draw(st.integers(1, 5))
    creators: dict[str, Origin | Transform] = {}
    lots: list[str] = []
    places = [("US", "US-TX"), ("IN", None), ("CN", "CN-XJ"), ("VN", None)]
    for i in range(n_origins):
        country, sub = draw(st.sampled_from(places))
        lot = f"o{i}"
        creators[lot] = origin(lot, draw(st.integers(1, 1000)), country, sub)
        lots.append(lot)
    for j in range(draw(st.integers(1, 6))):
        picked = draw(st.lists(st.sampled_from(lots), min_size=1, max_size=4, unique=True))
        inputs = [
            (lot, draw(st.integers(1, 500)), draw(st.sampled_from(["kg", "g", "t"])))
            for lot in picked
        ]
        externals = []
        if draw(st.booleans()):
            externals.append(
                {
                    "material": "ext",
                    "quantity": Decimal(draw(st.integers(1, 300))),
                    "unit": "kg",
                    "country": "KR",
                }
            )
        lot = f"t{j}"
        creators[lot] = transform(lot, inputs, externals)
        lots.append(lot)
    return lots[-1], creators


def naive(
    subject: str, creators: Mapping[str, Origin | Transform]
) -> dict[tuple[Any, ...], Fraction]:
    """Forward reference: a lot's composition is the exact mass-weighted mix of its inputs'."""

    @cache
    def comp(lot: str) -> tuple[tuple[tuple[Any, ...], Fraction], ...]:
        c = creators[lot]
        if isinstance(c, Origin):
            return (((c.site.country, c.site.subdivision, c.lot.material), Fraction(1)),)
        total = sum((Fraction(i.kg) for i in c.inputs), Fraction(0)) + sum(
            (Fraction(x.kg) for x in c.external_inputs), Fraction(0)
        )
        out: dict[tuple[Any, ...], Fraction] = {}
        for i in c.inputs:
            for key, share in comp(i.lot):
                out[key] = out.get(key, Fraction(0)) + share * Fraction(i.kg) / total
        for n, x in enumerate(c.external_inputs):
            key = ("untraced", c.digest, n)
            out[key] = out.get(key, Fraction(0)) + Fraction(x.kg) / total
        return tuple(out.items())

    return dict(comp(subject))


@settings(max_examples=60, deadline=None)
@given(dags())
def test_backward_propagation_matches_naive_forward_mix(case):
    subject, creators = case
    expected = naive(subject, creators)
    comp = compose(subject, creators)
    got = {(s.country, s.subdivision, s.material): s.share for s in comp.shares}
    want = {k: to_decimal(v) for k, v in expected.items() if k[0] != "untraced" and v}
    assert got == want
    untraced = sum((v for k, v in expected.items() if k[0] == "untraced"), Fraction(0))
    assert comp.untraced_share == to_decimal(untraced)
