"""Rule family "timing": TIME-ORDER (SPEC §6).

``TIME-ORDER`` (error) when an event precedes an event it depends on, or
follows its own ledger time:

* a receipt dated before its dispatch;
* a transform input, dispatch or import of a lot dated before the issuer
  held it (its creation of the lot, or its first receipt of it);
* a statement whose ``time`` is more than
  :data:`ledger.custody.MAX_CLOCK_SKEW` (5 minutes) after its ledger
  ``received_at``: the tolerance the append path grants (SPEC §3), so a
  statement the ledger accepted is never failed for the same clock skew.
  This one comes from the replay (``rejected.future_time``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ledger.statements import Dispatch, Receipt, format_time
from provenance.rules.base import Context, Finding, RuleBase, rejections_for

__all__ = ["TimeOrderRule"]


class TimeOrderRule(RuleBase):
    """TIME-ORDER: an event before what it depends on, or after its ledger time."""

    id = "TIME-ORDER"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for r in rejections_for(ctx, self.id):
            yield self.finding(
                f"seq {r.seq} ({r.type} by {r.issuer}): {r.message}",
                [r.digest],
                seq=r.seq,
                code=r.code,
            )
        trace = ctx.trace
        statements = trace.statements()
        held_since: dict[tuple[str, str], datetime] = {}
        for lot, creator in trace.creators.items():
            held_since[(lot, creator.issuer)] = creator.statement.time
        for e in statements:
            st = e.statement
            if not isinstance(st, Receipt):
                continue
            d = trace.dispatches.get(st.dispatch)
            if d is None or not isinstance(d.statement, Dispatch):
                continue
            if st.time < d.statement.time:
                yield self.finding(
                    f"seq {e.seq}: {st.issuer} received lot {d.statement.lot} at "
                    f"{format_time(st.time)}, before it was dispatched at "
                    f"{format_time(d.statement.time)} (seq {d.seq})",
                    [e.digest, d.digest],
                    seq=e.seq,
                    depends_on=d.seq,
                )
            key = (d.statement.lot, st.issuer)
            if key not in held_since or st.time < held_since[key]:
                held_since[key] = st.time
        for e in statements:
            st = e.statement
            for lot, _ in st.draws():
                since = held_since.get((lot, st.issuer))
                if lot not in trace.lots or since is None or st.time >= since:
                    continue
                yield self.finding(
                    f"seq {e.seq}: {st.type} by {st.issuer} draws on lot {lot} at "
                    f"{format_time(st.time)}, before {st.issuer} held it (from "
                    f"{format_time(since)})",
                    [e.digest],
                    seq=e.seq,
                    lot=lot,
                    held_from=format_time(since),
                )
