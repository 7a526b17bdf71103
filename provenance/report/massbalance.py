"""The mass balance table of the HTML report: kilograms in and out of each transform."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ledger.statements import Transform
from provenance.report.model import Step
from provenance.report.view import View

__all__ = ["BalanceRow", "balances"]

BALANCE_RULES = ("MASS", "YIELD", "UNTRACED")
"""Rules whose findings on a transform are shown in its row."""


@dataclass
class BalanceRow:
    step: Step
    input_kg: Decimal | None
    external_kg: Decimal | None
    output_kg: Decimal | None
    unweighed: list[str]
    yield_pct: str | None
    flags: list[str]


def balances(view: View) -> list[BalanceRow]:
    """One row per transform step: traced inputs, external inputs, outputs, yield."""
    rows: list[BalanceRow] = []
    for step in view.steps:
        stmt = step.statement
        if not isinstance(stmt, Transform):
            continue
        unweighed: list[str] = []
        inputs = _sum_kg(((i.lot, i.kg) for i in stmt.inputs), unweighed)
        externals = _sum_kg(
            ((f"external {e.material}", e.kg) for e in stmt.external_inputs), unweighed
        )
        outputs = _sum_kg(((o.id, o.kg) for o in stmt.outputs), unweighed)
        total_in = (inputs or Decimal(0)) + (externals or Decimal(0))
        yield_pct = None
        if outputs is not None and total_in > 0:
            yield_pct = f"{(outputs / total_in * 100).quantize(Decimal('0.1'))} %"
        flags = sorted(
            {
                f.rule
                for f in view.findings_by_digest.get(stmt.digest, [])
                if f.rule in BALANCE_RULES
            }
        )
        rows.append(BalanceRow(step, inputs, externals, outputs, unweighed, yield_pct, flags))
    return rows


def _sum_kg(items: Iterable[tuple[str, Decimal | None]], unweighed: list[str]) -> Decimal | None:
    total: Decimal | None = None
    for label, kg in items:
        if kg is None:
            unweighed.append(label)
        else:
            total = kg if total is None else total + kg
    return total
