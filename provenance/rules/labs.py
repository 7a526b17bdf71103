"""Rule family "tests and production": LAB-TEST and CAPACITY.

* ``LAB-TEST``: a typed ``lab_test`` bound to a traced lot whose result is
  ``inconsistent`` with the origin claimed is an **error**; one whose laboratory
  gives no ISO/IEC 17025 accreditation id, or whose sample's chain of custody is
  not documented (no ``sample.custody`` steps), is a **warning** each; an
  ``inconclusive`` result is reported as **info**.
* ``CAPACITY`` (warning): a typed ``production_record`` whose output for its
  period exceeds the site's declared daily capacity times the days of the
  period; and the traced transforms its issuer made at that site (same name)
  within the period whose outputs together exceed that capacity.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ledger.statements import Transform
from ledger.statements.evidence_models import LabTest, ProductionRecord
from ledger.units import Quantity
from provenance.rules.base import Context, Finding, RuleBase
from provenance.rules.trade import documents

__all__ = ["CapacityRule", "LabTestRule"]


class LabTestRule(RuleBase):
    """LAB-TEST: origin tests inconsistent with the claimed origin, or weakly documented."""

    id = "LAB-TEST"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for d in documents(ctx):
            t = d.fields
            if not isinstance(t, LabTest):
                continue
            lots = [lot for lot in d.lots if lot in ctx.trace.lots]
            test = f"seq {d.seq}: {t.method} test by {t.laboratory} of sample {t.sample.id}"
            common: dict[str, Any] = {
                "seq": d.seq,
                "laboratory": str(t.laboratory),
                "method": t.method,
                "origin_claimed": t.origin_claimed,
                "lots": lots,
            }
            if t.result == "inconsistent":
                yield self.finding(
                    f"{test} is inconsistent with the claimed origin {t.origin_claimed} "
                    f"of {', '.join(lots)}",
                    [d.digest],
                    result=t.result,
                    **common,
                )
            elif t.result == "inconclusive":
                yield self.finding(
                    f"{test} is inconclusive about the claimed origin {t.origin_claimed}",
                    [d.digest],
                    severity="info",
                    result=t.result,
                    **common,
                )
            if t.accreditation is None:
                yield self.finding(
                    f"{test}: the laboratory gives no ISO/IEC 17025 accreditation id",
                    [d.digest],
                    severity="warning",
                    problem="accreditation",
                    **common,
                )
            if not t.sample.custody:
                yield self.finding(
                    f"{test}: the sample's chain of custody is not documented",
                    [d.digest],
                    severity="warning",
                    problem="sample_custody",
                    **common,
                )


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


class CapacityRule(RuleBase):
    """CAPACITY: a site's output in a period exceeds its declared capacity."""

    id = "CAPACITY"
    severity = "warning"

    def check(self, ctx: Context) -> Iterator[Finding]:
        transforms = ctx.trace.transforms()
        for d in documents(ctx):
            rec = d.fields
            if not isinstance(rec, ProductionRecord):
                continue
            capacity = rec.capacity
            where = f"{rec.site_name} ({rec.site_country})"
            period = f"{rec.period_start.isoformat()} to {rec.period_end.isoformat()}"
            base = f"seq {d.seq}: {where} declares {rec.capacity_per_day} a day"
            if rec.output > capacity:
                yield self.finding(
                    f"{base} ({capacity} over {rec.days} days) but records an output of "
                    f"{rec.output} for {period}",
                    [d.digest],
                    seq=d.seq,
                    site=rec.site_name,
                    capacity=str(capacity),
                    output=str(rec.output),
                )
            made: Quantity | None = None
            involved: list[str] = []
            for e in transforms:
                st = e.statement
                assert isinstance(st, Transform)
                day = st.time.date()
                if (
                    st.issuer != d.issuer
                    or _folded(st.site.name) != _folded(rec.site_name)
                    or not rec.period_start <= day <= rec.period_end
                ):
                    continue
                for out in st.outputs:
                    q = _measured(out.quantity, out.kg, capacity)
                    if q is not None:
                        made = q if made is None else made + q
                        involved.append(e.digest)
            if made is not None and made > capacity:
                yield self.finding(
                    f"{base} ({capacity} over {rec.days} days) but its transforms in the ledger "
                    f"made {made} there from {period}",
                    [d.digest, *involved],
                    seq=d.seq,
                    site=rec.site_name,
                    capacity=str(capacity),
                    output=str(made),
                )


def _measured(quantity: Quantity, kg: Decimal | None, like: Quantity) -> Quantity | None:
    """``quantity`` in the dimension of ``like`` (a mass through ``mass_kg``), else None."""
    if quantity.dimension == like.dimension:
        return quantity
    if like.dimension == "mass" and kg is not None:
        return Quantity(kg, "kg")
    return None
