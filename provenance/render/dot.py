"""The trace as Graphviz DOT text (upstream at the top, flagged nodes coloured)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from provenance.graph import party_node
from provenance.render.document import Doc, amount, as_doc, as_graph, date, place
from provenance.verify import Report

__all__ = ["trace_dot"]


def _quote(text: Any) -> str:
    value = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{value}"'


def _dot_label(g: nx.DiGraph[str], node: str, a: Mapping[str, Any]) -> str:
    kind = a.get("kind")
    if kind == "lot":
        return f"{a.get('lot')}\n{a.get('material') or '?'}\n{amount(a)}"
    if kind == "external":
        supplier = a.get("supplier") or "unnamed supplier"
        where = a.get("subdivision") or a.get("country")
        return f"external {a.get('material')}\n{amount(a)}\n{supplier} ({where})\nuntraced"
    typ = a.get("type")
    party = a.get("party")
    name = g.nodes[party_node(str(party))].get("name") if party_node(str(party)) in g else party
    head = a.get("process") if typ == "transform" else typ
    lines = [f"{head}", f"{name}"]
    if typ in ("origin", "transform"):
        lines.append(place(a))
    if typ in ("dispatch", "receipt", "import", "origin"):
        lines.append(amount(a))
    if typ == "dispatch":
        lines.append(f"to {a.get('to')}")
    if typ == "import":
        lines.append(f"entry {a.get('entry_number')}")
    lines.append(f"{date(a.get('time'))} · seq {a.get('seq')}")
    return "\n".join(str(x) for x in lines)


def trace_dot(report: Report | Doc) -> str:
    """Graphviz DOT text of the trace (upstream at the top)."""
    doc = as_doc(report)
    g = as_graph(doc)
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
