"""Units and exact quantities (SPEC §3, "Quantities").

Quantities in statements are JSON numbers with a ``unit`` from a closed list.
They are held as :class:`decimal.Decimal`, never binary floats, and converted
within a dimension by exact factors to the dimension's base unit:

=========  ==========================  =========
dimension  units (factor to base)      base unit
=========  ==========================  =========
mass       g 0.001, kg 1, t 1000,      kg
           lb 0.45359237
count      pcs 1                       pcs
length     m 1                         m
area       m2 1                        m2
volume     l 1                         l
=========  ==========================  =========

Arithmetic runs in :data:`EXACT`, a decimal context of 50 significant digits
that *traps* ``Inexact``: conversion to the base unit, sums and
differences are exact for every value a statement may carry (at most 15
integer digits and 18 decimal places, see :mod:`ledger.statements`), and
anything that would round raises :class:`decimal.Inexact` instead of silently
losing mass. Holdings arithmetic should therefore be done on :attr:`Quantity.base`
or on quantities of one unit. Only :meth:`Quantity.to` into a unit whose factor
does not divide the value (kg → lb) rounds, at 50 significant digits; it is
meant for display.

Errors are :class:`ledger.errors.StatementError` with code
``invalid_statement.unknown_unit`` (a unit not in the list) or
``invalid_statement.unit_dimension`` (mixing dimensions, e.g. kg and pcs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
)
from types import MappingProxyType
from typing import Final, Literal

from ledger.errors import StatementError

__all__ = [
    "BASE_UNITS",
    "DIMENSIONS",
    "EXACT",
    "ROUNDED",
    "UNITS",
    "Dimension",
    "Quantity",
    "Unit",
    "dimension_of",
    "format_decimal",
]

Dimension = Literal["mass", "count", "length", "area", "volume"]

#: 50 significant digits; any rounding raises (see the module docstring).
EXACT: Final = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow, Clamped, Inexact],
)

#: 50 significant digits, rounding half-even; used only where division is inherent.
ROUNDED: Final = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit symbol, its dimension and its exact factor to the base unit."""

    symbol: str
    dimension: Dimension
    factor: Decimal


UNITS: Final = MappingProxyType(
    {
        "g": Unit("g", "mass", Decimal("0.001")),
        "kg": Unit("kg", "mass", Decimal("1")),
        "t": Unit("t", "mass", Decimal("1000")),
        "lb": Unit("lb", "mass", Decimal("0.45359237")),
        "pcs": Unit("pcs", "count", Decimal("1")),
        "m": Unit("m", "length", Decimal("1")),
        "m2": Unit("m2", "area", Decimal("1")),
        "l": Unit("l", "volume", Decimal("1")),
    }
)

#: The base unit of each dimension.
BASE_UNITS: Final[MappingProxyType[Dimension, str]] = MappingProxyType(
    {"mass": "kg", "count": "pcs", "length": "m", "area": "m2", "volume": "l"}
)

DIMENSIONS: Final[tuple[Dimension, ...]] = tuple(BASE_UNITS)


def _unit(symbol: str) -> Unit:
    try:
        return UNITS[symbol]
    except (KeyError, TypeError):
        known = ", ".join(UNITS)
        raise StatementError(
            f"unit: must be one of {known}, got {symbol!r}",
            field="unit",
            code="invalid_statement.unknown_unit",
        ) from None


def dimension_of(unit: str) -> Dimension:
    """The dimension of ``unit``; raises ``invalid_statement.unknown_unit``."""
    return _unit(unit).dimension


def format_decimal(value: Decimal) -> str:
    """``value`` in plain positional notation (``12000``, ``0.5``), exactly."""
    text = format(value, "f")
    return "0" if text == "-0" else text


@dataclass(frozen=True, slots=True, eq=False)
class Quantity:
    """An exact amount in a unit: ``Quantity(Decimal("12000"), "kg")``.

    Equality, hashing and ordering compare the amount in the base unit, so
    ``Quantity(Decimal(1000), "g") == Quantity(Decimal(1), "kg")``; comparing
    or adding different dimensions raises ``invalid_statement.unit_dimension``.
    ``int`` values are accepted and converted; floats are refused.
    """

    value: Decimal
    unit: str

    def __post_init__(self) -> None:
        value: object = self.value
        if type(value) is int:
            object.__setattr__(self, "value", Decimal(value))
        elif not isinstance(value, Decimal):
            raise TypeError(f"Quantity value must be a Decimal or int, got {type(value).__name__}")
        if not self.value.is_finite():
            raise ValueError(f"Quantity value must be finite, got {self.value}")
        _unit(self.unit)

    # -- dimension and conversions -------------------------------------------------

    @property
    def dimension(self) -> Dimension:
        """``mass``, ``count``, ``length``, ``area`` or ``volume``."""
        return UNITS[self.unit].dimension

    @property
    def base_unit(self) -> str:
        """The base unit of this quantity's dimension (``kg`` for mass)."""
        return BASE_UNITS[UNITS[self.unit].dimension]

    @property
    def base(self) -> Decimal:
        """The amount in the base unit of the dimension, exactly."""
        return EXACT.multiply(self.value, UNITS[self.unit].factor)

    @property
    def kg(self) -> Decimal | None:
        """The mass in kilograms, or ``None`` when this is not a mass."""
        unit = UNITS[self.unit]
        if unit.dimension != "mass":
            return None
        return EXACT.multiply(self.value, unit.factor)

    def in_base(self) -> Quantity:
        """This quantity expressed in its base unit, exactly."""
        return Quantity(self.base, self.base_unit)

    def to(self, unit: str) -> Quantity:
        """This quantity in ``unit`` of the same dimension.

        Exact whenever the result is representable in 50 digits (always for
        g, kg, t and the base units); into ``lb`` it may round at 50 digits.
        """
        target = _unit(unit)
        self._check_dimension(target.dimension, unit)
        if unit == self.unit:
            return self
        base = self.base
        try:
            value = EXACT.divide(base, target.factor)
        except Inexact:
            value = ROUNDED.divide(base, target.factor)
        return Quantity(value, unit)

    def _check_dimension(self, dimension: Dimension, what: str) -> None:
        if dimension != self.dimension:
            raise StatementError(
                f"unit: cannot convert {self.unit} ({self.dimension}) to {what} ({dimension})",
                field="unit",
                code="invalid_statement.unit_dimension",
                details={"from": self.unit, "to": what},
            )

    def _other_base(self, other: Quantity) -> Decimal:
        self._check_dimension(other.dimension, other.unit)
        return other.base

    # -- arithmetic ------------------------------------------------------------------

    @classmethod
    def zero(cls, unit: str) -> Quantity:
        """Nothing, in ``unit``."""
        return cls(Decimal(0), unit)

    def __add__(self, other: Quantity) -> Quantity:
        """Sum; in this unit when both share it, else in the base unit."""
        if not isinstance(other, Quantity):
            return NotImplemented
        if other.unit == self.unit:
            return Quantity(EXACT.add(self.value, other.value), self.unit)
        return Quantity(EXACT.add(self.base, self._other_base(other)), self.base_unit)

    def __sub__(self, other: Quantity) -> Quantity:
        """Difference; in this unit when both share it, else in the base unit."""
        if not isinstance(other, Quantity):
            return NotImplemented
        if other.unit == self.unit:
            return Quantity(EXACT.subtract(self.value, other.value), self.unit)
        return Quantity(EXACT.subtract(self.base, self._other_base(other)), self.base_unit)

    def __neg__(self) -> Quantity:
        return Quantity(EXACT.minus(self.value), self.unit)

    def is_positive(self) -> bool:
        """Whether the amount is greater than zero."""
        return self.value > 0

    def is_zero(self) -> bool:
        """Whether the amount is exactly zero."""
        return self.value.is_zero()

    # -- comparison ------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.dimension == other.dimension and self.base == other.base

    def __hash__(self) -> int:
        return hash((self.dimension, self.base))

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.base < self._other_base(other)

    def __le__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.base <= self._other_base(other)

    def __gt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.base > self._other_base(other)

    def __ge__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.base >= self._other_base(other)

    def __str__(self) -> str:
        return f"{format_decimal(self.value)} {self.unit}"
