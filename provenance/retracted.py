"""Retracted statements in the evidence (docs/custody-rules.md, "Corrections").

A ``retract`` statement, or a statement whose ``replaces`` names another,
voids an earlier statement of the same issuer. Nothing leaves the log:
verification replays every statement through the custody state machine, which
undoes the target's effects where the retraction stands (and refuses it,
a finding, where it does not), while the trace, the rules, the composition
and the graph see only the statements still in force. :func:`retractions`
lists what was voided, for the report and its JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.statements import REPLACEABLE, Retract
from provenance.trace import ParsedEntry

__all__ = ["Retracted", "in_force", "retractions"]


@dataclass(frozen=True, slots=True)
class Retracted:
    """A statement voided by a later one of its issuer."""

    seq: int
    digest: str
    type: str
    issuer: str
    by_seq: int
    by_digest: str
    by_type: str
    """``retract``, or the type of the correcting statement (``replaces``)."""
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "digest": self.digest,
            "type": self.type,
            "issuer": self.issuer,
            "retracted_by": {"seq": self.by_seq, "digest": self.by_digest, "type": self.by_type},
            "reason": self.reason,
        }


def retractions(entries: Iterable[ParsedEntry]) -> list[Retracted]:
    """Every statement of ``entries`` voided by a later one of ``entries``, by seq.

    A retraction counts when its target is in the evidence, earlier, of a
    retractable type and issued by the same party; the first one counts.
    """
    ordered = sorted(entries, key=lambda e: e.seq)
    by_digest = {e.digest: e for e in ordered}
    found: dict[str, Retracted] = {}
    for e in ordered:
        target = e.statement.retracts()
        if target is None or target in found:
            continue
        t = by_digest.get(target)
        if t is None or t.seq >= e.seq or t.issuer != e.issuer:
            continue
        if t.statement.type not in REPLACEABLE:
            continue
        st = e.statement
        reason = st.reason if isinstance(st, Retract) else f"replaced by {st.type} seq {e.seq}"
        found[target] = Retracted(
            t.seq, t.digest, t.statement.type, t.issuer, e.seq, e.digest, st.type, reason
        )
    return sorted(found.values(), key=lambda r: r.seq)


def in_force(
    parsed: Mapping[int, ParsedEntry], retracted: Iterable[Retracted]
) -> dict[int, ParsedEntry]:
    """``parsed`` without the voided statements and the ``retract`` statements."""
    void = {r.seq for r in retracted}
    return {
        seq: e
        for seq, e in parsed.items()
        if seq not in void and not isinstance(e.statement, Retract)
    }
