"""Rule family "custody": CUSTODY and OVERDRAW (SPEC §6, §3 "Custody state").

Both come from replaying the trace through :func:`ledger.custody.apply`
(:mod:`provenance.replay`), so verification judges custody exactly as the
append path did, but from the statements themselves:

* ``CUSTODY`` (error): a lot transformed, dispatched or imported by a party
  that did not hold it (``rejected.not_held``), a lot that does not exist in
  the evidence (``unknown_lot``), a receipt without its dispatch or by
  another party than the addressee (``unknown_dispatch``, ``not_addressee``),
  a lot created twice (``duplicate_lot``), a draw in the wrong dimension
  (``unit_dimension``), a dispatch to an unregistered party;
* ``OVERDRAW`` (error): more of a lot drawn than was held (``overdraw``,
  double-spending; also ``not_held`` by a party whose holding was used up
  before), more received than dispatched
  (``receipt_exceeds_dispatch``) or a dispatch received twice
  (``duplicate_receipt``).
"""

from __future__ import annotations

from collections.abc import Iterator

from provenance.rules.base import Context, Finding, RuleBase, rejections_for
from provenance.rules.util import jsonable

__all__ = ["CustodyRule", "OverdrawRule"]


class _FromReplay(RuleBase):
    def check(self, ctx: Context) -> Iterator[Finding]:
        for r in rejections_for(ctx, self.id):
            yield self.finding(
                f"seq {r.seq} ({r.type} by {r.issuer}): {r.message}",
                [r.digest],
                seq=r.seq,
                code=r.code,
                **jsonable(r.details),
            )


class CustodyRule(_FromReplay):
    """CUSTODY: a party acted on a lot it did not hold."""

    id = "CUSTODY"
    severity = "error"


class OverdrawRule(_FromReplay):
    """OVERDRAW: more of a lot was drawn than existed (double-spending)."""

    id = "OVERDRAW"
    severity = "error"
