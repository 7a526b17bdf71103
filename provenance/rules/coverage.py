"""Rule family "coverage": UNTRACED and CORROBORATION (SPEC §6).

* ``UNTRACED`` (gap): material in the subject that does not trace to an
  origin, each with its share of the subject's mass (from
  :mod:`provenance.composition`): external inputs of traced transforms (with
  their declared country and supplier), lots with no creating statement in
  the evidence, transforms none of whose inputs can be weighed. An external
  input that cannot be weighed is reported with an unknown share.
* ``CORROBORATION`` (info): an ``evidence`` statement bound to a traced lot by
  a party registered as ``lab`` or ``auditor`` (third-party evidence: an
  audit report, an isotope or DNA test), whose signature holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from ledger.statements import Evidence, Party, Transform
from provenance.graph import ParsedEntry, ext_node, lot_node
from provenance.rules.base import Context, Finding, RuleBase, rejection_rule
from provenance.rules.util import jsonable, percent, place, qty

__all__ = ["CorroborationRule", "UntracedRule"]

THIRD_PARTY_ROLES = frozenset({"lab", "auditor"})


class UntracedRule(RuleBase):
    """UNTRACED: material that does not trace to an origin, with its share."""

    id = "UNTRACED"
    severity = "gap"

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_digest = {e.digest: e for e in ctx.trace.transforms()}
        subject = ctx.subject
        for u in ctx.composition.untraced:
            share = percent(u.share)
            if u.kind == "external" and u.digest is not None and u.index is not None:
                e = by_digest.get(u.digest)
                st = None if e is None else e.statement
                if not isinstance(st, Transform) or e is None:
                    continue
                x = st.external_inputs[u.index]
                yield self.finding(
                    f"seq {e.seq}: {st.process} by {st.issuer} used {qty(x.quantity)} of "
                    f"{x.material} from {x.supplier or 'an unnamed supplier'} "
                    f"({place(x.country, x.subdivision)}) from outside the ledger: {share} of "
                    f"{subject} is untraced",
                    [e.digest],
                    seq=e.seq,
                    share=str(u.share),
                    material=x.material,
                    country=x.country,
                    subdivision=x.subdivision,
                    supplier=x.supplier,
                    mass_kg=None if u.mass_kg is None else str(u.mass_kg),
                    external_input=u.index,
                    nodes=[ext_node(e.digest, u.index)],
                )
            elif u.kind == "unknown" and u.lot is not None:
                yield self.finding(
                    f"lot {u.lot} has no creating statement in the evidence: {share} of "
                    f"{subject} does not trace to an origin",
                    [],
                    lot=u.lot,
                    share=str(u.share),
                    nodes=[lot_node(u.lot)],
                )
            else:
                e = by_digest.get(u.digest or "")
                what = f"seq {e.seq}" if e is not None else "a transform"
                yield self.finding(
                    f"{what}: none of its inputs can be weighed ({u.kind}): {share} of "
                    f"{subject} cannot be attributed to an origin",
                    [u.digest] if u.digest else [],
                    share=str(u.share),
                    reason=u.kind,
                )
        for w in ctx.composition.unweighable:
            if not w.external or w.index is None:
                continue
            e = by_digest.get(w.digest)
            if e is None or not isinstance(e.statement, Transform):
                continue
            x = e.statement.external_inputs[w.index]
            yield self.finding(
                f"seq {e.seq}: external input {x.material} ({qty(x.quantity)}) from "
                f"{x.supplier or 'an unnamed supplier'} cannot be weighed (no mass_kg): its "
                f"share of {subject} is unknown and untraced",
                [e.digest],
                seq=e.seq,
                share=None,
                external_input=w.index,
                nodes=[ext_node(e.digest, w.index)],
            )


class CorroborationRule(RuleBase):
    """CORROBORATION: third-party evidence (lab, auditor) bound to the trace."""

    id = "CORROBORATION"
    severity = "info"

    def check(self, ctx: Context) -> Iterator[Finding]:
        trace = ctx.trace
        unsigned = {r.digest for r in ctx.replay.rejections if rejection_rule(r) == "SIGNATURE"} | {
            v.digest for v in ctx.replay.voided
        }
        seen: dict[int, ParsedEntry] = {}
        for lot in trace.lots:
            for e in trace.on_lot.get(lot, []):
                if isinstance(e.statement, Evidence):
                    seen[e.seq] = e
        for seq in sorted(seen):
            e = seen[seq]
            st = e.statement
            assert isinstance(st, Evidence)
            reg = trace.registrations.get(st.issuer)
            if reg is None or not isinstance(reg.statement, Party):
                continue
            roles = THIRD_PARTY_ROLES.intersection(reg.statement.party.roles)
            if not roles or e.digest in unsigned:
                continue
            lots = [lot for lot in st.lots if lot in trace.lots]
            yield self.finding(
                f"seq {e.seq}: {reg.statement.party.name} ({st.issuer}, "
                f"{'/'.join(sorted(roles))}) bound {st.kind} document {st.document.name!r} "
                f"(sha256 {st.document.sha256[:12]}…) to {', '.join(lots)}",
                [e.digest],
                seq=e.seq,
                party=st.issuer,
                roles=sorted(roles),
                kind=st.kind,
                document=st.document.sha256,
                document_name=st.document.name,
                lots=lots,
                claims=None if st.claims is None else jsonable(st.claims),
            )
