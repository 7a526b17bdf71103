"""Render a verified trace as text, Graphviz DOT or JSON (SPEC §6, §8 ``custody trace``).

* :func:`trace_json`: the SPEC §10 verification report plus the provenance
  graph in networkx node-link form (``graph.nodes``, ``graph.edges``; node
  and edge kinds as in :mod:`provenance.graph`). It is the machine-readable
  trace, and the others can be rendered from it alone (a CLI talking to a
  server gets this document and draws the same text).
* :func:`trace_text`: an indented tree from the finished good down to its
  origins; each line names the party, the place, the quantity and the date,
  and nodes named by findings are marked (``[x RULE]`` error, ``[? RULE]``
  gap, ``[! RULE]`` warning, ``[i RULE]`` info). A lot reached twice (a
  diamond) is drawn once and referred to afterwards.
* :func:`trace_dot`: Graphviz DOT text of the lots, statements and external
  inputs (parties appear in labels), flagged nodes drawn in red (errors) or
  orange (gaps), statements off the custody path dashed.

Every function accepts a :class:`provenance.verify.Report` or the document
:func:`trace_json` returns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final

import networkx as nx

from provenance.graph import lot_node, party_node
from provenance.verify import Report

__all__ = ["TRACE_SCHEMA", "trace_dot", "trace_json", "trace_text"]

log = logging.getLogger(__name__)

TRACE_SCHEMA = "custody-trace/1"

_MARKS = {"error": "x", "gap": "?", "warning": "!", "info": "i"}
_RANK = {"error": 0, "gap": 1, "warning": 2, "info": 3}

Doc = Mapping[str, Any]


def trace_json(report: Report) -> dict[str, Any]:
    """The report (SPEC §10 keys first) with the provenance graph in node-link form."""
    doc = report.to_json()
    doc["schema"] = TRACE_SCHEMA
    doc["import_entries"] = list(report.import_entries)
    graph = nx.node_link_data(report.graph, edges="edges")
    doc["graph"] = json.loads(json.dumps(graph, default=str))
    return doc


def _doc(source: Report | Doc) -> Doc:
    return trace_json(source) if isinstance(source, Report) else source


def _graph(doc: Doc) -> nx.DiGraph[str]:
    g = nx.node_link_graph(doc["graph"], directed=True, multigraph=False, edges="edges")
    assert isinstance(g, nx.DiGraph)
    return g


# --------------------------------------------------------------------------- text


def _date(value: Any) -> str:
    """``2026-03-01T10:00:00Z`` as ``2026-03-01 10:00``."""
    return str(value)[:16].replace("T", " ") if value else "?"


def _amount(attrs: Mapping[str, Any]) -> str:
    if attrs.get("quantity") is None:
        return "? "
    text = f"{attrs['quantity']} {attrs.get('unit', '')}".strip()
    kg = attrs.get("mass_kg")
    if kg is not None and attrs.get("unit") not in ("kg", "g", "t", "lb"):
        text += f" ({kg} kg)"
    return text


def _place(attrs: Mapping[str, Any]) -> str:
    where = attrs.get("subdivision") or attrs.get("country")
    name = attrs.get("site")
    if name and where:
        return f"{name}, {where}"
    return str(name or where or "?")


_Task = tuple[str, str, str, bool, int]
"""One line still to draw: (kind, node, prefix, last, depth)."""

MAX_INDENT: Final = 60
"""Tree levels drawn with growing indentation; deeper lines start again at the left
margin after a ``depth N`` marker, so a 10,000-deep chain stays a few lines wide."""


class _Text:
    """The tree, drawn depth-first with an explicit stack (no recursion over depth)."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.g = _graph(doc)
        self.lines: list[str] = []
        self.shown: set[str] = set()

    def who(self, party: Any) -> str:
        if not party:
            return "?"
        node = party_node(str(party))
        name = self.g.nodes[node].get("name") if node in self.g else None
        return f"{party} ({name})" if name and name != party else str(party)

    def marks(self, node: str) -> str:
        attrs = self.g.nodes[node] if node in self.g else {}
        flags = attrs.get("flags") or []
        if not flags:
            return ""
        severity = attrs.get("severity") or "error"
        return f"  [{_MARKS.get(severity, '!')} {', '.join(flags)}]"

    def emit(self, prefix: str, last: bool, text: str) -> str:
        """Draw one line; return the prefix of its children's lines."""
        branch = "└─ " if last else "├─ "
        self.lines.append(prefix + branch + text)
        return prefix + ("   " if last else "│  ")

    def fold(self, depth: int, kids: list[_Task]) -> list[_Task]:
        """Children drawn at the left margin again every ``MAX_INDENT`` levels."""
        if not kids or depth == 0 or depth % MAX_INDENT:
            return kids
        self.lines.append(f"┆ depth {depth}: the tree goes on at the left margin")
        return [(kind, node, "", last, d) for kind, node, _, last, d in kids]

    def children_of_lot(self, node: str) -> list[tuple[str, str]]:
        """(kind, node) under a lot: imports, hand-offs, evidence, then its creator."""
        attrs = self.g.nodes[node]
        out: list[tuple[str, str]] = []
        for _, succ, data in sorted(self.g.out_edges(node, data=True), key=_by_seq(self.g)):
            if data.get("kind") == "import":
                out.append(("import", succ))
        for d, r in attrs.get("handoffs") or []:
            out.append(("handoff", f"stmt:{d}|{'' if r is None else f'stmt:{r}'}"))
        for pred, _, data in sorted(self.g.in_edges(node, data=True), key=_by_seq_src(self.g)):
            if data.get("kind") == "evidence":
                out.append(("evidence", pred))
        creator = attrs.get("creator")
        if creator and creator in self.g:
            out.append(("creator", str(creator)))
        return out

    def lot(self, node: str, prefix: str, last: bool, depth: int) -> list[_Task]:
        attrs = self.g.nodes[node]
        line = (
            f"LOT {attrs.get('lot')} · {attrs.get('material') or '?'} · {_amount(attrs)}"
            f" · by {self.who(attrs.get('party'))} · {_date(attrs.get('time'))}"
        )
        if attrs.get("subject"):
            line += "  (subject)"
        if "no-creator" in (attrs.get("labels") or []):
            line += "  (no creating statement in the evidence)"
        line += self.marks(node)
        if node in self.shown:
            line += "  (shown above)"
        if depth == 0:
            self.lines.append(line)
            inner = ""
        else:
            inner = self.emit(prefix, last, line)
        if node in self.shown:
            return []
        self.shown.add(node)
        kids = self.children_of_lot(node)
        return self.fold(
            depth,
            [
                (kind, child, inner, i == len(kids) - 1, depth + 1)
                for i, (kind, child) in enumerate(kids)
            ],
        )

    def handoff(self, pair: str, prefix: str, last: bool) -> None:
        dnode, rnode = pair.split("|", 1)
        d = self.g.nodes[dnode] if dnode in self.g else {}
        r = self.g.nodes[rnode] if rnode and rnode in self.g else None
        text = (
            f"hand-off {self.who(d.get('party'))} → {self.who(d.get('to'))} · {_amount(d)}"
            f" · sent {_date(d.get('time'))}"
        )
        text += " · in transit" if r is None else f" · received {_date(r.get('time'))}"
        text += self.marks(dnode) + (self.marks(rnode) if r is not None else "")
        self.emit(prefix, last, text)

    def statement_line(self, kind: str, node: str, prefix: str, last: bool) -> None:
        a = self.g.nodes[node]
        if kind == "import":
            text = (
                f"import entry {a.get('entry_number')} by {self.who(a.get('party'))}"
                f" · {_amount(a)} · {_date(a.get('time'))}"
            )
        else:
            doc = a.get("document") or {}
            text = (
                f"evidence {a.get('evidence_kind')} {doc.get('name', '')!r} by "
                f"{self.who(a.get('party'))} · {_date(a.get('time'))}"
            )
        self.emit(prefix, last, text + self.marks(node))

    def creator(self, node: str, prefix: str, last: bool, depth: int) -> list[_Task]:
        a = self.g.nodes[node]
        if a.get("type") == "origin":
            text = (
                f"origin by {self.who(a.get('party'))} at {_place(a)} · {_amount(a)}"
                f" · {_date(a.get('time'))} · seq {a.get('seq')}"
            )
            self.emit(prefix, last, text + self.marks(node))
            return []
        text = (
            f"{a.get('process')} by {self.who(a.get('party'))} at {_place(a)}"
            f" · {_date(a.get('time'))} · seq {a.get('seq')}"
        )
        inner = self.emit(prefix, last, text + self.marks(node))
        inputs = sorted(
            (
                src
                for src, _, data in self.g.in_edges(node, data=True)
                if data.get("kind") in ("input", "external_input")
            ),
            key=lambda n: (str(n).startswith("ext:"), str(n)),
        )
        kinds = ["external" if str(src).startswith("ext:") else "lot" for src in inputs]
        return self.fold(
            depth,
            [
                (k, src, inner, i == len(inputs) - 1, depth + 1)
                for i, (k, src) in enumerate(zip(kinds, inputs, strict=True))
            ],
        )

    def external(self, node: str, prefix: str, last: bool) -> None:
        a = self.g.nodes[node]
        where = a.get("subdivision") or a.get("country") or "?"
        supplier = a.get("supplier") or "an unnamed supplier"
        text = f"EXTERNAL {a.get('material')} · {_amount(a)} · from {supplier} ({where}) · untraced"
        self.emit(prefix, last, text + self.marks(node))

    def tree(self, root: str) -> None:
        """Depth-first, children in order: the stack holds what is still to draw."""
        stack: list[_Task] = [("lot", root, "", True, 0)]
        while stack:
            kind, node, prefix, last, depth = stack.pop()
            kids: list[_Task] = []
            if kind == "lot":
                kids = self.lot(node, prefix, last, depth)
            elif kind == "creator":
                kids = self.creator(node, prefix, last, depth)
            elif kind == "handoff":
                self.handoff(node, prefix, last)
            elif kind == "external":
                self.external(node, prefix, last)
            else:
                self.statement_line(kind, node, prefix, last)
            stack.extend(reversed(kids))

    def render(self) -> str:
        doc = self.doc
        subject = str(doc["subject"])
        self.lines.append(f"Trace of lot {subject}: verdict {str(doc.get('verdict', '?')).upper()}")
        node = lot_node(subject)
        if node in self.g:
            self.tree(node)
        self.lines.append("")
        self.lines.extend(_composition_lines(doc))
        findings = doc.get("findings") or []
        if findings:
            counts: dict[str, int] = {}
            for f in findings:
                counts[f["severity"]] = counts.get(f["severity"], 0) + 1
            summary = ", ".join(
                f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: _RANK.get(kv[0], 9))
            )
            self.lines.append(f"Findings: {summary} (custody verify {subject} lists them)")
            self.lines.append(
                "Marks: [x RULE] error, [? RULE] gap, [! RULE] warning, [i RULE] info"
            )
        return "\n".join(self.lines) + "\n"


def _by_seq(g: nx.DiGraph[str]) -> Any:
    return lambda edge: (g.nodes[edge[1]].get("seq") or 0, str(edge[1]))


def _by_seq_src(g: nx.DiGraph[str]) -> Any:
    return lambda edge: (g.nodes[edge[0]].get("seq") or 0, str(edge[0]))


def _composition_lines(doc: Doc) -> list[str]:
    lines = ["Composition by origin:"]
    for s in doc.get("composition") or []:
        where = s.get("subdivision") or s.get("country")
        lines.append(f"  {float(s['share']) * 100:7.2f}%  {where}  {s['material']}")
    untraced = float(doc.get("untraced_share") or 0)
    lines.append(f"  {untraced * 100:7.2f}%  untraced")
    return lines


def trace_text(report: Report | Doc) -> str:
    """An indented tree from the finished good down to its origins."""
    return _Text(_doc(report)).render()


# --------------------------------------------------------------------------- dot


def _quote(text: Any) -> str:
    value = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{value}"'


def _dot_label(g: nx.DiGraph[str], node: str, a: Mapping[str, Any]) -> str:
    kind = a.get("kind")
    if kind == "lot":
        return f"{a.get('lot')}\n{a.get('material') or '?'}\n{_amount(a)}"
    if kind == "external":
        supplier = a.get("supplier") or "unnamed supplier"
        where = a.get("subdivision") or a.get("country")
        return f"external {a.get('material')}\n{_amount(a)}\n{supplier} ({where})\nuntraced"
    typ = a.get("type")
    party = a.get("party")
    name = g.nodes[party_node(str(party))].get("name") if party_node(str(party)) in g else party
    head = a.get("process") if typ == "transform" else typ
    lines = [f"{head}", f"{name}"]
    if typ in ("origin", "transform"):
        lines.append(_place(a))
    if typ in ("dispatch", "receipt", "import", "origin"):
        lines.append(_amount(a))
    if typ == "dispatch":
        lines.append(f"to {a.get('to')}")
    if typ == "import":
        lines.append(f"entry {a.get('entry_number')}")
    lines.append(f"{_date(a.get('time'))} · seq {a.get('seq')}")
    return "\n".join(str(x) for x in lines)


def trace_dot(report: Report | Doc) -> str:
    """Graphviz DOT text of the trace (upstream at the top)."""
    doc = _doc(report)
    g = _graph(doc)
    out = [
        f"digraph {_quote('trace ' + str(doc['subject']))} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f"  label={_quote('Trace of ' + str(doc['subject']) + ': ' + str(doc.get('verdict')))};",
    ]
    for node in sorted(g.nodes, key=str):
        a: Mapping[str, Any] = g.nodes[node]
        kind = a.get("kind")
        if kind == "party":
            continue
        attrs = [f"label={_quote(_dot_label(g, node, a))}"]
        if kind == "lot":
            attrs.append("shape=box")
            if a.get("subject"):
                attrs.append("peripheries=2")
        elif kind == "external":
            attrs.append("shape=box")
            attrs.append('style="dashed"')
        else:
            attrs.append("shape=ellipse")
            if not a.get("on_path", True):
                attrs.append('style="dashed"')
                attrs.append("fontcolor=gray40")
        severity = a.get("severity")
        if a.get("flags"):
            color = {"error": "red", "gap": "orange", "warning": "goldenrod"}.get(
                str(severity), "steelblue"
            )
            attrs.append(f"color={color}")
            attrs.append("penwidth=2")
            attrs.append(f"tooltip={_quote(', '.join(a['flags']))}")
        out.append(f"  {_quote(node)} [{', '.join(attrs)}];")
    for src, dst, data in sorted(g.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        if data.get("kind") in ("issued", "addressed"):
            continue
        label = data.get("kind", "")
        if data.get("quantity") is not None and data.get("kind") in ("input", "dispatch"):
            label = f"{label} {data['quantity']} {data.get('unit', '')}".strip()
        out.append(f"  {_quote(src)} -> {_quote(dst)} [label={_quote(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"
