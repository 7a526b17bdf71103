"""The flow chart of the HTML report: which boxes and arrows, from the custody view.

One box per origin, transform and import step, and one "holds and ships on" box
per party that received a traced lot and shipped it on; an arrow for each hand-off
on the custody path (labelled with its step) and for each use of a lot. Above
:data:`MAX_CHART_NODES` boxes, boxes of one tier, activity and country are grouped.
The geometry is :mod:`provenance.report.layout`'s.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final

import networkx as nx

from ledger.statements import Origin, Transform
from provenance.report.layout import Chart, ChartEdge, ChartNode, group_chart, layout, tiers
from provenance.report.model import Step
from provenance.report.view import View

__all__ = ["MAX_CHART_NODES", "chart"]

MAX_CHART_NODES: Final = 120
"""Above this many nodes the chart groups nodes by tier, activity and country."""


def chart(view: View) -> Chart:
    """The laid-out flow chart of ``view``'s steps."""
    g: nx.DiGraph[str] = nx.DiGraph()
    nodes: dict[str, ChartNode] = {}
    for step in view.steps:
        if step.kind == "shipment":
            continue
        nodes[step.statement.digest] = _chart_node(step)
        g.add_node(step.statement.digest)
    edges: list[ChartEdge] = []
    builder = _Arrows(view)
    for lot in sorted(view.lots):
        builder.lot(lot, nodes, g, edges)
    total = len(nodes)
    for key, t in tiers(g).items():
        nodes[key].tier = t
    grouped = False
    if total > MAX_CHART_NODES:
        nodes, edges, g = group_chart(nodes, edges)
        grouped = True
    return layout(nodes, edges, g, grouped, total)


class _Arrows:
    def __init__(self, view: View) -> None:
        self.view = view

    def lot(
        self, lot: str, nodes: dict[str, ChartNode], g: nx.DiGraph[str], edges: list[ChartEdge]
    ) -> None:
        """Boxes and arrows of one lot: creator → holders → the statements that used it."""
        creator = self.view.creator.get(lot)
        if creator is None or creator.digest not in nodes:
            return
        path = self.view.path_dispatches.get(lot, [])
        senders = {d.issuer for d in path}
        by_party: dict[str, list[str]] = defaultdict(list)
        for c in self.view.lot_consumers(lot):
            if c.digest in nodes:
                by_party[c.issuer].append(c.digest)

        def hold(pid: str) -> str:
            key = f"hold:{lot}:{pid}"
            if key not in nodes:
                p = self.view.party(pid)
                nodes[key] = ChartNode(
                    key,
                    "custody",
                    "Holds and ships on",
                    p.name,
                    p.subdivision or p.country,
                    "",
                    None,
                    sorted(set(p.flags)),
                    f"{p.name} received lot {lot} and shipped it on",
                )
                g.add_node(key)
            return key

        def arrive(pid: str) -> list[str]:
            if pid in senders and pid != creator.issuer:
                return [hold(pid)]
            return by_party.get(pid, []) or [hold(pid)]

        for d in path:
            src = creator.digest if d.issuer == creator.issuer else hold(d.issuer)
            for dst in arrive(d.to):
                self._edge(g, edges, src, dst, self.view.step_of.get(d.digest))
        for pid, consumers in by_party.items():
            for cd in consumers:
                if pid == creator.issuer:
                    self._edge(g, edges, creator.digest, cd, None)
                elif pid in senders:
                    self._edge(g, edges, hold(pid), cd, None)

    def _edge(
        self,
        g: nx.DiGraph[str],
        edges: list[ChartEdge],
        src: str,
        dst: str,
        step: Step | None,
    ) -> None:
        if src == dst or g.has_edge(src, dst):
            return
        g.add_edge(src, dst)
        flagged = bool(step and step.flags)
        edges.append(
            ChartEdge(
                src,
                dst,
                None if step is None else str(step.number),
                None if step is None else f"#{step.anchor}",
                flagged,
            )
        )


def _chart_node(step: Step) -> ChartNode:
    p = step.party
    stmt = step.statement
    if isinstance(stmt, Origin):
        place = stmt.site.subdivision or stmt.site.country
        title = "Origin"
    elif isinstance(stmt, Transform):
        place = stmt.site.subdivision or stmt.site.country
        title = stmt.process.split(".")[-1].replace("_", " ").capitalize()
    else:
        place = p.subdivision or p.country
        title = "Import"
    flags = sorted(set(step.flags) | set(p.flags))
    return ChartNode(
        stmt.digest,
        step.kind,
        f"{step.number} · {title}",
        p.name,
        place,
        stmt.time.strftime("%Y-%m-%d"),
        f"#{step.anchor}",
        flags,
        f"Step {step.number}: {step.title} by {p.name} ({p.place}) on {step.time}"
        + (f" — {', '.join(flags)}" if flags else ""),
    )
