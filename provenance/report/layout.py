"""The flow chart's geometry: boxes and arrows laid out in columns by tier (inline SVG).

:func:`tiers` ranks each box by its longest path to the finished good;
:func:`group_chart` collapses boxes of one tier, activity and place when a chart
is too large; :func:`layout` orders each column by barycentre sweeps and places
boxes, arrow paths and tier labels. Pure functions of their inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import networkx as nx

from provenance.report.format import wrap

_NODE_W: Final = 138
_NODE_H: Final = 74
_COL_GAP: Final = 40
_ROW_GAP: Final = 40
_TAG_CHAR: Final = 6.2
"""Width of one character of a 9.5 px bold rule-id tag."""
_TAG_ROWS: Final = 2
_LINE_CHARS: Final = 20
"""About how many characters of 11.5 px text fit on one line of a box."""
_MARGIN: Final = 24
_HEADER: Final = 48

_KIND_LABEL: Final = {
    "origin": "Origin",
    "transform": "Transformation",
    "shipment": "Shipment",
    "import": "Import",
    "custody": "Custody",
}


@dataclass
class ChartNode:
    id: str
    kind: str
    title: str
    party: str
    place: str
    date: str
    href: str | None
    flags: list[str]
    tooltip: str
    x: int = 0
    y: int = 0
    tier: int = 0

    @property
    def cx(self) -> int:
        return self.x + _NODE_W // 2

    @property
    def party_lines(self) -> list[str]:
        """The party name on at most two lines of a box."""
        return wrap(self.party, _LINE_CHARS, 2)

    @property
    def tags(self) -> list[tuple[int, int, int, str]]:
        """Red rule-id tags above the box, ``(x, y, width, text)``: packed into at most
        ``_TAG_ROWS`` rows of the box's width, the rest counted in a last ``+n`` tag."""
        rows: list[list[str]] = [[]]
        for i, flag in enumerate(self.flags):
            if rows[-1] and _tags_width([*rows[-1], flag]) > _NODE_W:
                if len(rows) == _TAG_ROWS:
                    rest = len(self.flags) - i
                    while rows[-1] and _tags_width([*rows[-1], f"+{rest}"]) > _NODE_W:
                        rows[-1].pop()
                        rest += 1
                    rows[-1].append(f"+{rest}")
                    break
                rows.append([])
            rows[-1].append(flag)
        out: list[tuple[int, int, int, str]] = []
        for r, row in enumerate(rows):
            x = self.x
            for tag in row:
                out.append((x, self.y - 15 * (r + 1), _tag_width(tag), tag))
                x += _tag_width(tag) + 3
        return out


def _tag_width(tag: str) -> int:
    return int(len(tag) * _TAG_CHAR + 10)


def _tags_width(tags: Sequence[str]) -> int:
    return sum(_tag_width(t) for t in tags) + 3 * (len(tags) - 1)


@dataclass
class ChartEdge:
    source: str
    target: str
    label: str | None
    href: str | None
    flagged: bool
    path: str = ""
    lx: int = 0
    ly: int = 0


@dataclass
class Chart:
    nodes: list[ChartNode]
    edges: list[ChartEdge]
    width: int
    height: int
    tiers: list[tuple[int, str]]
    grouped: bool
    total_nodes: int

    @property
    def w(self) -> int:
        return _NODE_W

    @property
    def h(self) -> int:
        return _NODE_H


def tiers(g: nx.DiGraph[str]) -> dict[str, int]:
    """Tier of each node: the longest path from it to a sink (0 = the finished good)."""
    tiers: dict[str, int] = {}
    if not nx.is_directed_acyclic_graph(g):
        return dict.fromkeys(g, 0)
    for n in reversed(list(nx.topological_sort(g))):
        succ = list(g.successors(n))
        tiers[n] = 1 + max(tiers[s] for s in succ) if succ else 0
    return tiers


def group_chart(
    nodes: Mapping[str, ChartNode], edges: Sequence[ChartEdge]
) -> tuple[dict[str, ChartNode], list[ChartEdge], nx.DiGraph[str]]:
    """Collapse nodes of one tier, activity and country into one box with a count."""
    groups: dict[tuple[int, str, str], list[ChartNode]] = defaultdict(list)
    for n in nodes.values():
        groups[(n.tier, n.kind, n.place)].append(n)
    out: dict[str, ChartNode] = {}
    member: dict[str, str] = {}
    for (tier, kind, place), members in sorted(groups.items()):
        key = f"group:{tier}:{kind}:{place}"
        flags = sorted({f for m in members for f in m.flags})
        titles = sorted({m.title.split(" · ", 1)[-1] for m in members})
        label = titles[0] if len(titles) == 1 else _KIND_LABEL.get(kind, kind)
        parties = sorted({m.party for m in members})
        out[key] = ChartNode(
            key,
            kind,
            f"{len(members)} × {label}" if len(members) > 1 else members[0].title,
            parties[0] if len(parties) == 1 else f"{len(parties)} parties",
            place,
            "",
            members[0].href if len(members) == 1 else None,
            flags,
            f"{len(members)} {kind} node(s) in tier {tier}, {place}: "
            + ", ".join(parties[:8])
            + (" …" if len(parties) > 8 else ""),
            tier=tier,
        )
        for m in members:
            member[m.id] = key
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(out)
    new_edges: list[ChartEdge] = []
    for e in edges:
        s, t = member[e.source], member[e.target]
        if s == t:
            continue
        if g.has_edge(s, t):
            if e.flagged:
                for ne in new_edges:
                    if ne.source == s and ne.target == t:
                        ne.flagged = True
            continue
        g.add_edge(s, t)
        new_edges.append(ChartEdge(s, t, None, None, e.flagged))
    return out, new_edges, g


def layout(
    nodes: dict[str, ChartNode],
    edges: list[ChartEdge],
    g: nx.DiGraph[str],
    grouped: bool,
    total: int,
) -> Chart:
    """Columns by tier (highest tier left), rows ordered by barycentre sweeps."""
    if not nodes:
        return Chart([], [], 2 * _MARGIN, 2 * _MARGIN, [], grouped, total)
    max_tier = max(n.tier for n in nodes.values())
    columns: dict[int, list[str]] = defaultdict(list)
    for key in sorted(nodes, key=lambda k: (nodes[k].date, nodes[k].title, k)):
        columns[nodes[key].tier].append(key)
    pos: dict[str, float] = {}

    def index() -> None:
        for col in columns.values():
            for i, k in enumerate(col):
                pos[k] = float(i)

    index()
    for _ in range(4):
        for tier in range(max_tier - 1, -1, -1):  # left to right: by predecessors
            col = columns[tier]
            col.sort(key=lambda k: _bary(g.predecessors(k), pos, pos[k]))
            for i, k in enumerate(col):
                pos[k] = float(i)
        for tier in range(1, max_tier + 1):  # right to left: by successors
            col = columns[tier]
            col.sort(key=lambda k: _bary(g.successors(k), pos, pos[k]))
            for i, k in enumerate(col):
                pos[k] = float(i)
    tallest = max(len(c) for c in columns.values())
    height = 2 * _MARGIN + _HEADER + tallest * (_NODE_H + _ROW_GAP) - _ROW_GAP
    for tier, col in columns.items():
        x = _MARGIN + (max_tier - tier) * (_NODE_W + _COL_GAP)
        offset = (tallest - len(col)) * (_NODE_H + _ROW_GAP) // 2
        for i, k in enumerate(col):
            nodes[k].x = x
            nodes[k].y = _MARGIN + _HEADER + offset + i * (_NODE_H + _ROW_GAP)
    for e in edges:
        a, b = nodes[e.source], nodes[e.target]
        x1, y1 = a.x + _NODE_W, a.y + _NODE_H // 2
        x2, y2 = b.x, b.y + _NODE_H // 2
        dx = max((x2 - x1) // 2, 20)
        e.path = f"M{x1},{y1} C{x1 + dx},{y1} {x2 - dx},{y2} {x2 - 6},{y2}"
        e.lx, e.ly = (x1 + x2) // 2, (y1 + y2) // 2
    width = 2 * _MARGIN + (max_tier + 1) * (_NODE_W + _COL_GAP) - _COL_GAP
    labels = []
    for tier in range(max_tier, -1, -1):
        x = _MARGIN + (max_tier - tier) * (_NODE_W + _COL_GAP) + _NODE_W // 2
        labels.append((x, "Finished good" if tier == 0 else f"Tier {tier}"))
    ordered = [nodes[k] for t in sorted(columns, reverse=True) for k in columns[t]]
    return Chart(ordered, edges, width, height, labels, grouped, total)


def _bary(neighbours: Iterable[str], pos: Mapping[str, float], default: float) -> float:
    values = [pos[n] for n in neighbours if n in pos]
    return sum(values) / len(values) if values else default
