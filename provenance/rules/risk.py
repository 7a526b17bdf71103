"""Rule family "risk": HIGH-RISK-REGION and LISTED-ENTITY (SPEC §6), on the
screening data of :mod:`provenance.screening` (its version goes in the report).

* ``HIGH-RISK-REGION`` (error): an origin site, the site of a transform that
  created a traced lot, or an external input, lies in a listed region
  (``CN-XJ`` for all goods; regions limited to materials, such as
  Turkmenistan cotton, match when the origin's material, or one of the
  transform's input, output or external-input materials, falls under them).
  One finding per place, naming every region entry it lies in.
* ``LISTED-ENTITY`` (error): a party on the custody path of the trace (each
  party that created, transformed, handed on, received or imported a traced
  lot on its way to the subject; other buyers of the same upstream lots are
  off the path) whose registered name matches a screening-list entry, or an
  external input's ``supplier`` name that does. Matching is the screening
  module's (case, punctuation, word order, legal-form words); each finding
  names the list, the entry, the name or alias that matched and the score.
  The party's registered identifiers (LEI, DUNS, GLN) go in the details.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from ledger.statements import Origin, Party, Transform
from provenance.graph import ParsedEntry, Trace, ext_node, party_node
from provenance.rules.base import Context, Finding, RuleBase
from provenance.rules.util import place, site_text
from provenance.screening import EntityMatch, RegionMatch, ScreeningData

__all__ = ["HighRiskRegionRule", "ListedEntityRule"]


def _regions(
    data: ScreeningData, country: str, subdivision: str | None, materials: Iterable[str | None]
) -> list[RegionMatch]:
    found: dict[tuple[str, str], RegionMatch] = {}
    for material in materials:
        for m in data.region_findings(country, subdivision, material):
            found.setdefault((m.code, m.name), m)
    return list(found.values())


def _region_details(matches: list[RegionMatch]) -> list[dict[str, Any]]:
    return [
        {
            "code": m.code,
            "name": m.name,
            "basis": m.basis,
            "matched_material": m.matched_material,
            "status": m.status,
            "effective": m.effective,
            "source": m.source,
        }
        for m in matches
    ]


class HighRiskRegionRule(RuleBase):
    """HIGH-RISK-REGION: an origin, site or external input in a listed region."""

    id = "HIGH-RISK-REGION"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        data = ctx.screening
        for e in ctx.trace.origins():
            st = e.statement
            assert isinstance(st, Origin)
            found = _regions(data, st.site.country, st.site.subdivision, [st.lot.material])
            if found:
                yield self._finding(
                    f"seq {e.seq}: origin of lot {st.lot.id} ({st.lot.material}) by {st.issuer} "
                    f"at {site_text(st.site)}",
                    found,
                    [e.digest],
                    seq=e.seq,
                    lot=st.lot.id,
                )
        for e in ctx.trace.transforms():
            st = e.statement
            assert isinstance(st, Transform)
            materials: set[str | None] = {o.material for o in st.outputs}
            materials |= {ctx.trace.material(i.lot) for i in st.inputs}
            materials |= {x.material for x in st.external_inputs}
            found = _regions(data, st.site.country, st.site.subdivision, sorted(materials, key=str))
            if found:
                yield self._finding(
                    f"seq {e.seq}: {st.process} by {st.issuer} at {site_text(st.site)}",
                    found,
                    [e.digest],
                    seq=e.seq,
                )
            for i, x in enumerate(st.external_inputs):
                found = _regions(data, x.country, x.subdivision, [x.material])
                if found:
                    yield self._finding(
                        f"seq {e.seq}: external input {x.material} of {st.process} by "
                        f"{st.issuer}, from {x.supplier or 'an unnamed supplier'} in "
                        f"{place(x.country, x.subdivision)}",
                        found,
                        [e.digest],
                        seq=e.seq,
                        external_input=i,
                        nodes=[ext_node(e.digest, i)],
                    )

    def _finding(
        self, what: str, found: list[RegionMatch], digests: list[str], **details: Any
    ) -> Finding:
        names = "; ".join(f"{m.name} [{m.code}]" for m in found)
        return self.finding(
            f"{what} lies in a high-risk region: {names}",
            digests,
            regions=_region_details(found),
            **details,
        )


def _path_statements(trace: Trace) -> dict[str, list[ParsedEntry]]:
    """Per party, the statements it issued on the custody path."""
    out: dict[str, dict[int, ParsedEntry]] = defaultdict(dict)
    for e in trace.creators.values():
        out[e.issuer][e.seq] = e
    for es in trace.consumers.values():
        for e in es:
            out[e.issuer][e.seq] = e
    for hs in trace.handoffs.values():
        for h in hs:
            out[h.dispatch.issuer][h.dispatch.seq] = h.dispatch
            if h.receipt is not None:
                out[h.receipt.issuer][h.receipt.seq] = h.receipt
    return {p: [es[s] for s in sorted(es)] for p, es in out.items()}


def _match_details(m: EntityMatch) -> dict[str, Any]:
    return {
        "list": m.list_id,
        "entry": m.entry_name,
        "matched_alias": m.matched_alias,
        "query": m.query,
        "score": m.score,
        "source": m.source,
        "status": m.status,
        "entry_kind": m.kind,
    }


class ListedEntityRule(RuleBase):
    """LISTED-ENTITY: a party on the path, or an external supplier, matches a listed entity."""

    id = "LISTED-ENTITY"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        trace = ctx.trace
        issued = _path_statements(trace)
        for party in sorted(trace.path_parties()):
            reg = trace.registrations.get(party)
            if reg is None or not isinstance(reg.statement, Party):
                continue
            info = reg.statement.party
            for m in ctx.screening.match_entity(info.name):
                yield self.finding(
                    f"party {party} ({info.name!r}) matches {m.entry_name!r} on {m.list_id} "
                    f"(as {m.matched_alias!r}, score {m.score:.1f})",
                    [reg.digest, *(e.digest for e in issued.get(party, []))],
                    party=party,
                    name=info.name,
                    identifiers=dict(info.identifiers),
                    nodes=[party_node(party)],
                    **_match_details(m),
                )
        for e in trace.transforms():
            st = e.statement
            assert isinstance(st, Transform)
            for i, x in enumerate(st.external_inputs):
                if not x.supplier:
                    continue
                for m in ctx.screening.match_entity(x.supplier):
                    yield self.finding(
                        f"seq {e.seq}: supplier {x.supplier!r} of external input {x.material} "
                        f"to {st.process} by {st.issuer} matches {m.entry_name!r} on "
                        f"{m.list_id} (as {m.matched_alias!r}, score {m.score:.1f})",
                        [e.digest],
                        seq=e.seq,
                        supplier=x.supplier,
                        external_input=i,
                        nodes=[ext_node(e.digest, i)],
                        **_match_details(m),
                    )
