"""The trace document (``custody-trace/1``) and the field formatting its renderings share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx

from provenance.verify import Report

__all__ = ["TRACE_SCHEMA", "Doc", "amount", "as_doc", "as_graph", "date", "place", "trace_json"]

TRACE_SCHEMA = "custody-trace/1"

Doc = Mapping[str, Any]


def trace_json(report: Report) -> dict[str, Any]:
    """The report (SPEC §10 keys first) with the provenance graph in node-link form,
    its nodes sorted by id and its edges by (source, target): the same trace gives
    the same text in every process (the graph's own order follows the order sets of
    strings come in, which differs from process to process)."""
    doc = report.to_json()
    doc["schema"] = TRACE_SCHEMA
    doc["import_entries"] = list(report.import_entries)
    graph = json.loads(json.dumps(nx.node_link_data(report.graph, edges="edges"), default=str))
    graph["nodes"].sort(key=lambda n: str(n["id"]))
    graph["edges"].sort(key=lambda e: (str(e["source"]), str(e["target"])))
    doc["graph"] = graph
    return doc


def as_doc(source: Report | Doc) -> Doc:
    return trace_json(source) if isinstance(source, Report) else source


def as_graph(doc: Doc) -> nx.DiGraph[str]:
    g = nx.node_link_graph(doc["graph"], directed=True, multigraph=False, edges="edges")
    assert isinstance(g, nx.DiGraph)
    return g


def date(value: Any) -> str:
    """``2026-03-01T10:00:00Z`` as ``2026-03-01 10:00``."""
    return str(value)[:16].replace("T", " ") if value else "?"


def amount(attrs: Mapping[str, Any]) -> str:
    if attrs.get("quantity") is None:
        return "? "
    text = f"{attrs['quantity']} {attrs.get('unit', '')}".strip()
    kg = attrs.get("mass_kg")
    if kg is not None and attrs.get("unit") not in ("kg", "g", "t", "lb"):
        text += f" ({kg} kg)"
    return text


def place(attrs: Mapping[str, Any]) -> str:
    where = attrs.get("subdivision") or attrs.get("country")
    name = attrs.get("site")
    if name and where:
        return f"{name}, {where}"
    return str(name or where or "?")
