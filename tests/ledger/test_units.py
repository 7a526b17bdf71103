"""Units and exact quantities (SPEC §3): exact factors, no binary floats."""

from __future__ import annotations

from decimal import Decimal, Inexact

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import StatementError
from ledger.units import BASE_UNITS, UNITS, Quantity, dimension_of, format_decimal


@pytest.mark.parametrize(
    ("unit", "dimension", "factor"),
    [
        ("g", "mass", "0.001"),
        ("kg", "mass", "1"),
        ("t", "mass", "1000"),
        ("lb", "mass", "0.45359237"),
        ("pcs", "count", "1"),
        ("m", "length", "1"),
        ("m2", "area", "1"),
        ("l", "volume", "1"),
    ],
    ids=str,
)
def test_unit_table(unit, dimension, factor):
    assert UNITS[unit].dimension == dimension
    assert UNITS[unit].factor == Decimal(factor)
    assert dimension_of(unit) == dimension
    assert UNITS[BASE_UNITS[dimension]].factor == 1


def test_pound_to_kilogram_is_exact():
    assert Quantity(Decimal(1), "lb").kg == Decimal("0.45359237")
    assert Quantity(Decimal(1000000), "lb").base == Decimal("453592.37")
    assert Quantity(Decimal("2204.62"), "lb").to("kg").value == Decimal("999.9988107494")


def test_tenths_add_up_exactly():
    total = Quantity(Decimal("0.1"), "kg") + Quantity(Decimal("0.2"), "kg")
    assert total.value == Decimal("0.3")
    assert total == Quantity(Decimal("0.3"), "kg")
    assert str(total) == "0.3 kg"


def test_mixed_units_add_in_base_unit():
    total = Quantity(Decimal(1), "t") + Quantity(Decimal(500), "g")
    assert total.unit == "kg"
    assert total.value == Decimal("1000.5")
    assert Quantity(Decimal(2), "lb") - Quantity(Decimal(1), "lb") == Quantity(Decimal(1), "lb")


def test_equality_and_ordering_across_units():
    assert Quantity(Decimal(1000), "g") == Quantity(Decimal(1), "kg")
    assert hash(Quantity(Decimal(1000), "g")) == hash(Quantity(Decimal("1.0"), "kg"))
    assert Quantity(Decimal(1), "lb") < Quantity(Decimal("0.5"), "kg")
    assert Quantity(Decimal(1), "t") >= Quantity(Decimal(1000), "kg")
    assert Quantity(Decimal(1), "kg") != Quantity(Decimal(1), "l")


def test_conversions():
    assert Quantity(Decimal(12), "t").to("kg").value == Decimal(12000)
    assert Quantity(Decimal(12000), "kg").to("t").value == Decimal(12)
    assert Quantity(Decimal("0.45359237"), "kg").to("lb").value == Decimal(1)
    assert Quantity(Decimal(5), "pcs").kg is None
    assert Quantity(Decimal(5), "pcs").base == Decimal(5)
    assert Quantity(Decimal(1), "kg").to("kg") == Quantity(Decimal(1), "kg")


def test_inexact_display_conversion_rounds_at_fifty_digits():
    pounds = Quantity(Decimal(1), "kg").to("lb")
    assert len(pounds.value.as_tuple().digits) == 50
    assert str(pounds).startswith("2.20462262184877")


def test_dimension_mismatch():
    with pytest.raises(StatementError) as info:
        Quantity(Decimal(1), "kg").to("pcs")
    assert info.value.code == "invalid_statement.unit_dimension"
    with pytest.raises(StatementError) as info:
        _ = Quantity(Decimal(1), "kg") + Quantity(Decimal(1), "m")
    assert info.value.code == "invalid_statement.unit_dimension"
    with pytest.raises(StatementError):
        _ = Quantity(Decimal(1), "kg") < Quantity(Decimal(1), "m2")


def test_unknown_unit():
    with pytest.raises(StatementError) as info:
        Quantity(Decimal(1), "oz")
    assert info.value.code == "invalid_statement.unknown_unit"
    assert info.value.field == "unit"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Quantity(0.1, "kg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Quantity(Decimal("NaN"), "kg")


def test_int_is_accepted():
    assert Quantity(3, "pcs").value == Decimal(3)  # type: ignore[arg-type]


def test_exact_context_refuses_to_round():
    huge = Quantity(Decimal("1." + "1" * 60), "lb")
    with pytest.raises(Inexact):
        _ = huge.base


def test_str_uses_plain_notation():
    assert str(Quantity(Decimal("1.2E+4"), "kg")) == "12000 kg"
    assert str(Quantity(Decimal("0.5"), "t")) == "0.5 t"
    assert format_decimal(Decimal("-0")) == "0"
    assert str(Quantity.zero("pcs")) == "0 pcs"
    assert (-Quantity(Decimal(2), "m")).value == Decimal(-2)
    assert Quantity.zero("kg").is_zero()
    assert Quantity(Decimal(1), "kg").is_positive()


amounts = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("1e12"), places=6, allow_nan=False
)


@given(a=amounts, b=amounts, unit=st.sampled_from(sorted(UNITS)))
def test_addition_is_exact_and_commutative(a, b, unit):
    total = Quantity(a, unit) + Quantity(b, unit)
    assert total.value == a + b
    assert total - Quantity(b, unit) == Quantity(a, unit)
    assert total == Quantity(b, unit) + Quantity(a, unit)


@given(a=amounts, unit=st.sampled_from(["g", "kg", "t", "lb"]))
def test_round_trip_through_base_unit_is_exact(a, unit):
    quantity = Quantity(a, unit)
    assert quantity.to("kg").to(unit) == quantity
    assert quantity.kg == a * UNITS[unit].factor
