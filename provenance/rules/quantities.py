"""Rule family "quantities": MASS and YIELD (SPEC §6).

Masses are exact decimals in kilograms: a quantity in a mass unit converts
exactly; another unit (``pcs``, ``m``, ``m2``, ``l``) weighs its declared
``mass_kg``; an item with neither cannot be weighed.

* ``MASS`` (error): a transform that creates a traced lot and whose outputs
  weigh more than its inputs (ledger and external) by more than
  :data:`MASS_TOLERANCE` (0.5%): material appeared from nowhere, the mark of
  laundering. A transform with an item that cannot be weighed is reported as
  a *gap* (its balance cannot be checked), never silently passed.
* ``YIELD`` (warning): the transform's yield lies outside the typical range
  of its process (:mod:`provenance.yields`). The yield is the mass of the
  outputs of the traced material (the outputs sharing a material with a
  traced output: lint, not the cottonseed of the same ginning) over the mass
  of all inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from ledger.statements import Transform
from ledger.units import EXACT, format_decimal
from provenance.graph import ParsedEntry
from provenance.rules.base import Context, Finding, RuleBase
from provenance.rules.util import qty

__all__ = ["MASS_TOLERANCE", "MassRule", "YieldRule", "transform_masses"]

MASS_TOLERANCE = Decimal("0.005")


def transform_masses(st: Transform) -> tuple[Decimal | None, Decimal | None, list[str]]:
    """(input kg, output kg, items that cannot be weighed); a total is None when incomplete."""
    missing: list[str] = []
    total_in = Decimal(0)
    for i, item in enumerate(st.inputs):
        kg = item.kg
        if kg is None:
            missing.append(f"inputs[{i}] (lot {item.lot}, {qty(item.quantity)})")
        else:
            total_in = EXACT.add(total_in, kg)
    for i, ext in enumerate(st.external_inputs):
        kg = ext.kg
        if kg is None:
            missing.append(f"external_inputs[{i}] ({ext.material}, {qty(ext.quantity)})")
        else:
            total_in = EXACT.add(total_in, kg)
    total_out = Decimal(0)
    out_missing = False
    for i, out in enumerate(st.outputs):
        kg = out.kg
        if kg is None:
            missing.append(f"outputs[{i}] (lot {out.id}, {qty(out.quantity)})")
            out_missing = True
        else:
            total_out = EXACT.add(total_out, kg)
    in_missing = any(not m.startswith("outputs") for m in missing)
    return (None if in_missing else total_in), (None if out_missing else total_out), missing


def _transforms(ctx: Context) -> Sequence[tuple[ParsedEntry, Transform]]:
    return [(e, e.statement) for e in ctx.trace.transforms() if isinstance(e.statement, Transform)]


class MassRule(RuleBase):
    """MASS: a transform's outputs weigh more than its inputs."""

    id = "MASS"
    severity = "error"
    tolerance = MASS_TOLERANCE

    def check(self, ctx: Context) -> Iterator[Finding]:
        for e, st in _transforms(ctx):
            total_in, total_out, missing = transform_masses(st)
            if missing:
                yield self.finding(
                    f"seq {e.seq}: {st.process} by {st.issuer} cannot be weighed "
                    f"({'; '.join(missing)}: not a mass unit and no mass_kg); its mass balance "
                    "is not checked",
                    [e.digest],
                    severity="gap",
                    seq=e.seq,
                    unweighable=missing,
                )
                continue
            assert total_in is not None
            assert total_out is not None
            limit = EXACT.multiply(total_in, 1 + self.tolerance)
            if total_out > limit:
                excess = "∞" if not total_in else f"{(total_out / total_in - 1) * 100:.2f}%"
                yield self.finding(
                    f"seq {e.seq}: {st.process} by {st.issuer} outputs "
                    f"{format_decimal(total_out)} kg from {format_decimal(total_in)} kg of "
                    f"inputs ({excess} more than went in; tolerance "
                    f"{format_decimal(self.tolerance * 100)}%)",
                    [e.digest],
                    seq=e.seq,
                    inputs_kg=format_decimal(total_in),
                    outputs_kg=format_decimal(total_out),
                )


class YieldRule(RuleBase):
    """YIELD: a transform's yield lies outside the typical range of its process."""

    id = "YIELD"
    severity = "warning"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for e, st in _transforms(ctx):
            rng = ctx.yields.lookup(st.process)
            if rng is None:
                continue
            total_in, _, _ = transform_masses(st)
            traced = {o.material for o in st.outputs if ctx.trace.creators.get(o.id) is e}
            main = [o.kg for o in st.outputs if o.material in traced]
            if total_in is None or not total_in or any(kg is None for kg in main):
                continue
            out = sum((kg for kg in main if kg is not None), Decimal(0))
            ratio = float(out / total_in)
            if rng.contains(ratio):
                continue
            side = rng.classify(ratio)
            basis = "an assumption" if rng.assumption else (rng.source or "the yield table")
            yield self.finding(
                f"seq {e.seq}: {st.process} by {st.issuer} yields {ratio:.3f} "
                f"({format_decimal(out)} kg of {', '.join(sorted(traced))} from "
                f"{format_decimal(total_in)} kg), {side} the typical {rng.min:.2f}-{rng.max:.2f} "
                f"for {rng.process} ({basis})",
                [e.digest],
                seq=e.seq,
                process=rng.process,
                ratio=round(ratio, 6),
                min=rng.min,
                max=rng.max,
                side=side,
                source=rng.source,
                assumption=rng.assumption,
            )
