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

UN/ECE Recommendation 20 common codes, as EPCIS uses them for ``uom``, are
units too, with exact factors: mass KGM GRM MGM HGM DTN TNE KTN LBR ONZ
(avoirdupois ounce 0.028349523125 kg) STN (short ton) LTN (long ton); count
H87 (piece) C62 (one) EA PR (pair, 2) DZN (dozen, 12); length MTR MMT CMT DMT
KMT INH FOT YRD; area MTK CMK FTK YDK HAR; volume LTR MLT CLT DMQ MTQ HLT GLL
(US gallon 3.785411784 l). :func:`from_rec20` maps a code with an identical
custody unit to it (``KGM`` → ``kg``), :func:`to_rec20` the other way.

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
    "REC20_CODES",
    "REC20_SYMBOLS",
    "ROUNDED",
    "UNITS",
    "Dimension",
    "Quantity",
    "Unit",
    "dimension_of",
    "format_decimal",
    "from_rec20",
    "to_rec20",
    "trusted_quantity",
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
        # UN/ECE Recommendation 20 common codes (EPCIS ``uom``), exact factors
        "KGM": Unit("KGM", "mass", Decimal("1")),
        "GRM": Unit("GRM", "mass", Decimal("0.001")),
        "MGM": Unit("MGM", "mass", Decimal("0.000001")),
        "HGM": Unit("HGM", "mass", Decimal("0.1")),
        "DTN": Unit("DTN", "mass", Decimal("100")),
        "TNE": Unit("TNE", "mass", Decimal("1000")),
        "KTN": Unit("KTN", "mass", Decimal("1000000")),
        "LBR": Unit("LBR", "mass", Decimal("0.45359237")),
        "ONZ": Unit("ONZ", "mass", Decimal("0.028349523125")),
        "STN": Unit("STN", "mass", Decimal("907.18474")),
        "LTN": Unit("LTN", "mass", Decimal("1016.0469088")),
        "H87": Unit("H87", "count", Decimal("1")),
        "C62": Unit("C62", "count", Decimal("1")),
        "EA": Unit("EA", "count", Decimal("1")),
        "PR": Unit("PR", "count", Decimal("2")),
        "DZN": Unit("DZN", "count", Decimal("12")),
        "MTR": Unit("MTR", "length", Decimal("1")),
        "MMT": Unit("MMT", "length", Decimal("0.001")),
        "CMT": Unit("CMT", "length", Decimal("0.01")),
        "DMT": Unit("DMT", "length", Decimal("0.1")),
        "KMT": Unit("KMT", "length", Decimal("1000")),
        "INH": Unit("INH", "length", Decimal("0.0254")),
        "FOT": Unit("FOT", "length", Decimal("0.3048")),
        "YRD": Unit("YRD", "length", Decimal("0.9144")),
        "MTK": Unit("MTK", "area", Decimal("1")),
        "CMK": Unit("CMK", "area", Decimal("0.0001")),
        "FTK": Unit("FTK", "area", Decimal("0.09290304")),
        "YDK": Unit("YDK", "area", Decimal("0.83612736")),
        "HAR": Unit("HAR", "area", Decimal("10000")),
        "LTR": Unit("LTR", "volume", Decimal("1")),
        "MLT": Unit("MLT", "volume", Decimal("0.001")),
        "CLT": Unit("CLT", "volume", Decimal("0.01")),
        "DMQ": Unit("DMQ", "volume", Decimal("1")),
        "MTQ": Unit("MTQ", "volume", Decimal("1000")),
        "HLT": Unit("HLT", "volume", Decimal("100")),
        "GLL": Unit("GLL", "volume", Decimal("3.785411784")),
    }
)

#: UN/ECE Rec. 20 codes with a custody unit of exactly the same size, and back.
REC20_SYMBOLS: Final = MappingProxyType(
    {
        "KGM": "kg",
        "GRM": "g",
        "TNE": "t",
        "LBR": "lb",
        "H87": "pcs",
        "C62": "pcs",
        "EA": "pcs",
        "MTR": "m",
        "MTK": "m2",
        "LTR": "l",
    }
)
REC20_CODES: Final = MappingProxyType(
    {
        "kg": "KGM",
        "g": "GRM",
        "t": "TNE",
        "lb": "LBR",
        "pcs": "H87",
        "m": "MTR",
        "m2": "MTK",
        "l": "LTR",
    }
)


def from_rec20(code: str) -> str:
    """The custody unit for a UN/ECE Rec. 20 ``code`` (``KGM`` → ``kg``; ``MGM`` stays).

    Raises ``invalid_statement.unknown_unit`` for a code custody does not know.
    """
    symbol = REC20_SYMBOLS.get(code, code)
    _unit(symbol)
    return symbol


def to_rec20(unit: str) -> str:
    """The UN/ECE Rec. 20 code of a custody unit (``kg`` → ``KGM``; codes stay)."""
    _unit(unit)
    return REC20_CODES.get(unit, unit)


#: The base unit of each dimension.
BASE_UNITS: Final[MappingProxyType[Dimension, str]] = MappingProxyType(
    {"mass": "kg", "count": "pcs", "length": "m", "area": "m2", "volume": "l"}
)

DIMENSIONS: Final[tuple[Dimension, ...]] = tuple(BASE_UNITS)

#: How an error names the accepted units: custody's own symbols, then the Rec. 20 codes by example.
UNIT_CHOICES: Final = (
    ", ".join(symbol for symbol in UNITS if not symbol.isupper())
    + " or a UN/ECE Rec. 20 code (KGM, TNE, LBR, H87, MTR, LTR, ...; docs/epcis.md lists them)"
)


def _unit(symbol: str) -> Unit:
    try:
        return UNITS[symbol]
    except (KeyError, TypeError):
        raise StatementError(
            f"unit: must be one of {UNIT_CHOICES}, got {symbol!r}",
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


_new_quantity: Final = object.__new__
_set_value: Final = vars(Quantity)["value"].__set__
_set_unit: Final = vars(Quantity)["unit"].__set__


def trusted_quantity(value: Decimal, unit: str) -> Quantity:
    """``Quantity(value, unit)`` without its checks, for a parser that made them already:
    ``value`` a finite :class:`~decimal.Decimal`, ``unit`` a key of :data:`UNITS`."""
    quantity: Quantity = _new_quantity(Quantity)
    _set_value(quantity, value)
    _set_unit(quantity, unit)
    return quantity
