"""Trace a lot upstream and build its provenance graph (SPEC §3 "Custody state", §6).

Three layers, from storage to networkx:

* :func:`provenance.collect.collect` reads from a :class:`ledger.store.ReadTx`
  only the entries a verification of one subject lot needs, through the
  store's upstream walk (one recursive query over the ``lot_refs`` index);
* :class:`provenance.trace.Trace` recomputes the same walk from parsed
  statements alone (it never trusts the index), and works out who held each
  traced lot on its way to the subject (the *custody path*);
* :func:`build_graph` (this module) turns a trace into a
  :class:`networkx.DiGraph` whose
  nodes are lots, statements, parties and external inputs, with edges from
  upstream to downstream:

  ==========================  =============================================
  edge ``kind``               from → to
  ==========================  =============================================
  ``creates``                 origin statement → lot
  ``input``                   input lot → transform
  ``external_input``          external input (untraced) → transform
  ``output``                  transform → output lot
  ``dispatch``                lot → dispatch
  ``handoff``                 dispatch → its receipt (custody moves)
  ``import``                  lot → import
  ``evidence``                evidence → lot
  ``issued``                  party → statement it issued
  ``addressed``               party → dispatch addressed to it
  ==========================  =============================================

  Node ids are ``lot:<id>``, ``stmt:<digest>``, ``party:<id>`` and
  ``ext:<digest>:<index>``. Every attribute is JSON-ready (quantities as exact
  decimal strings, times as RFC 3339), so ``networkx.node_link_data`` of the
  graph is the machine-readable trace.

``collect``, ``Collected``, ``Trace``, ``ParsedEntry`` and ``Handoff`` are
re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Origin,
    Party,
    Receipt,
    Site,
    Transform,
)
from ledger.units import Quantity, format_decimal
from provenance.collect import Collected, collect
from provenance.trace import Handoff, ParsedEntry, Trace

if TYPE_CHECKING:  # loaded when a graph is first built
    import networkx as nx

__all__ = [
    "Collected",
    "Handoff",
    "ParsedEntry",
    "Trace",
    "build_graph",
    "collect",
    "ext_node",
    "lot_node",
    "party_node",
    "stmt_node",
]

# --------------------------------------------------------------------------- graph


def lot_node(lot: str) -> str:
    return f"lot:{lot}"


def stmt_node(digest: str) -> str:
    return f"stmt:{digest}"


def party_node(party: str) -> str:
    return f"party:{party}"


def ext_node(digest: str, index: int) -> str:
    return f"ext:{digest}:{index}"


def _time(moment: datetime) -> str:
    """RFC 3339 UTC with ``Z`` (statement times are UTC; faster than strftime)."""
    return moment.isoformat().replace("+00:00", "Z")


def _qty(q: Quantity) -> dict[str, str]:
    return {"quantity": format_decimal(q.value), "unit": q.unit}


def _kg(value: Any) -> str | None:
    return None if value is None else format_decimal(value)


def _site(site: Site) -> dict[str, Any]:
    return {
        "site": site.name,
        "country": site.country,
        "subdivision": site.subdivision,
    }


def _stmt_attrs(e: ParsedEntry, on_path: bool) -> dict[str, Any]:
    st = e.statement
    attrs: dict[str, Any] = {
        "kind": "statement",
        "type": st.type,
        "id": st.id,
        "party": st.issuer,
        "time": _time(st.time),
        "received_at": _time(e.received_at),
        "seq": e.seq,
        "digest": st.digest,
        "on_path": on_path,
        "labels": [st.type],
        "flags": [],
    }
    if isinstance(st, Origin):
        attrs.update(_site(st.site))
        attrs.update(_qty(st.lot.quantity))
        attrs["material"] = st.lot.material
        attrs["lot"] = st.lot.id
        attrs["label"] = f"origin {st.lot.material} by {st.issuer}"
    elif isinstance(st, Transform):
        attrs.update(_site(st.site))
        attrs["process"] = st.process
        attrs["inputs"] = [
            {"lot": i.lot, **_qty(i.quantity), "mass_kg": _kg(i.mass_kg)} for i in st.inputs
        ]
        attrs["outputs"] = [
            {"lot": o.id, "material": o.material, **_qty(o.quantity), "mass_kg": _kg(o.mass_kg)}
            for o in st.outputs
        ]
        attrs["label"] = f"{st.process} by {st.issuer}"
    elif isinstance(st, Dispatch):
        attrs.update(_qty(st.quantity))
        attrs["lot"] = st.lot
        attrs["to"] = st.to
        attrs["label"] = f"dispatch {st.issuer} → {st.to}"
    elif isinstance(st, Receipt):
        attrs.update(_qty(st.quantity))
        attrs["dispatch"] = st.dispatch
        attrs["label"] = f"receipt by {st.issuer}"
    elif isinstance(st, Import):
        attrs.update(_qty(st.quantity))
        attrs["lot"] = st.lot
        attrs["entry_number"] = st.entry_number
        attrs["hts"] = st.hts
        attrs["port"] = st.port
        attrs["country_of_origin"] = st.country_of_origin
        attrs["label"] = f"import entry {st.entry_number} by {st.issuer}"
    elif isinstance(st, Evidence):
        attrs["lots"] = list(st.lots)
        attrs["evidence_kind"] = st.kind
        attrs["document"] = {
            "sha256": st.document.sha256,
            "name": st.document.name,
            "media_type": st.document.media_type,
            "size": st.document.size,
        }
        attrs["label"] = f"evidence {st.kind} by {st.issuer}"
    else:
        attrs["label"] = f"{st.type} by {st.issuer}"
    return attrs


def _lot_attrs(lot: str, trace: Trace) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "kind": "lot",
        "lot": lot,
        "traced": True,
        "subject": lot == trace.subject,
        "labels": ["subject"] if lot == trace.subject else [],
        "flags": [],
        "holders": sorted(trace.holders.get(lot, ())),
        "handoffs": [
            [h.dispatch.digest, None if h.receipt is None else h.receipt.digest]
            for h in trace.handoffs.get(lot, [])
        ],
        "label": lot,
    }
    creator = trace.creators.get(lot)
    if creator is None:
        attrs["labels"].append("no-creator")
        attrs.update({"material": None, "party": None, "seq": None, "digest": None})
        return attrs
    st = creator.statement
    attrs.update(
        {
            "party": st.issuer,
            "seq": creator.seq,
            "digest": st.digest,
            "time": _time(st.time),
            "creator": stmt_node(st.digest),
        }
    )
    if isinstance(st, Origin):
        attrs.update(_site(st.site))
        attrs.update(_qty(st.lot.quantity))
        attrs["material"] = st.lot.material
        attrs["mass_kg"] = _kg(st.lot.quantity.kg)
        attrs["labels"].append("origin")
    elif isinstance(st, Transform):
        attrs.update(_site(st.site))
        for out in st.outputs:
            if out.id == lot:
                attrs.update(_qty(out.quantity))
                attrs["material"] = out.material
                attrs["mass_kg"] = _kg(out.kg)
    attrs["label"] = f"{attrs.get('material')} {lot}"
    return attrs


def _party_attrs(party: str, trace: Trace, on_path: set[str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "kind": "party",
        "party": party,
        "name": party,
        "labels": [],
        "flags": [],
        "label": party,
        "on_path": party in on_path,
    }
    reg = trace.registrations.get(party)
    if reg is not None and isinstance(reg.statement, Party):
        info = reg.statement.party
        attrs.update(
            {
                "name": info.name,
                "country": info.country,
                "subdivision": info.subdivision,
                "roles": list(info.roles),
                "identifiers": dict(info.identifiers),
                "seq": reg.seq,
                "digest": reg.digest,
                "label": f"{info.name} ({party})",
            }
        )
    return attrs


def build_graph(
    statements: Iterable[ParsedEntry], subject: str | None = None, *, trace: Trace | None = None
) -> nx.DiGraph[str]:
    """The provenance graph of ``subject`` (see the module docstring for nodes and edges).

    ``statements`` are parsed ledger entries; only those naming a traced lot,
    and the parties they name, become nodes. Without ``subject`` the trace's
    subject is used (``trace`` may be passed when already computed).
    """
    if trace is None:
        if subject is None:
            raise ValueError("build_graph needs a subject or a trace")
        trace = Trace.of(statements, subject)
    path_digests = {
        d
        for hs in trace.handoffs.values()
        for h in hs
        for d in (h.dispatch.digest, None if h.receipt is None else h.receipt.digest)
        if d is not None
    }
    path_digests |= {e.digest for e in trace.creators.values()}
    path_digests |= {e.digest for es in trace.consumers.values() for e in es}
    nodes: list[tuple[str, dict[str, Any]]] = [
        (lot_node(lot), _lot_attrs(lot, trace)) for lot in trace.lots
    ]
    edges: list[tuple[str, str, dict[str, Any]]] = []
    parties: set[str] = set()
    for e in trace.statements():
        st = e.statement
        node = stmt_node(st.digest)
        on_path = st.digest in path_digests or isinstance(st, Evidence)
        nodes.append((node, _stmt_attrs(e, on_path)))
        parties.add(st.issuer)
        edges.append((party_node(st.issuer), node, {"kind": "issued"}))
        _statement_edges(nodes, edges, e, trace)
        if isinstance(st, Dispatch):
            parties.add(st.to)
            edges.append((party_node(st.to), node, {"kind": "addressed"}))
    on_path_parties = trace.path_parties()
    nodes.extend(
        (party_node(party), _party_attrs(party, trace, on_path_parties)) for party in parties
    )
    import networkx as nx  # loaded when a graph is first built

    g: nx.DiGraph[str] = nx.DiGraph(subject=trace.subject)
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


def _statement_edges(
    nodes: list[tuple[str, dict[str, Any]]],
    edges: list[tuple[str, str, dict[str, Any]]],
    e: ParsedEntry,
    trace: Trace,
) -> None:
    st = e.statement
    node = stmt_node(st.digest)
    if isinstance(st, Origin):
        if trace.creators.get(st.lot.id) is e:
            edges.append((node, lot_node(st.lot.id), {"kind": "creates"}))
    elif isinstance(st, Transform):
        for item in st.inputs:
            if item.lot in trace.lots:
                attrs = {"kind": "input", **_qty(item.quantity), "mass_kg": _kg(item.mass_kg)}
                edges.append((lot_node(item.lot), node, attrs))
        creates = False
        for out in st.outputs:
            if trace.creators.get(out.id) is e:
                creates = True
                edges.append((node, lot_node(out.id), {"kind": "output", **_qty(out.quantity)}))
        if creates:
            for index, ext in enumerate(st.external_inputs):
                ext_id = ext_node(st.digest, index)
                supplier = ext.supplier or "unnamed supplier"
                nodes.append(
                    (
                        ext_id,
                        {
                            "kind": "external",
                            "material": ext.material,
                            **_qty(ext.quantity),
                            "mass_kg": _kg(ext.kg),
                            "supplier": ext.supplier,
                            "country": ext.country,
                            "subdivision": ext.subdivision,
                            "untraced": True,
                            "labels": ["untraced"],
                            "flags": [],
                            "party": st.issuer,
                            "time": _time(st.time),
                            "digest": st.digest,
                            "seq": e.seq,
                            "label": f"external {ext.material} from {supplier}",
                        },
                    )
                )
                edges.append((ext_id, node, {"kind": "external_input", **_qty(ext.quantity)}))
    elif isinstance(st, Dispatch):
        edges.append((lot_node(st.lot), node, {"kind": "dispatch", **_qty(st.quantity)}))
    elif isinstance(st, Receipt):
        d = trace.dispatches.get(st.dispatch)
        if d is not None:
            attrs = {
                "kind": "handoff",
                "sender": d.issuer,
                "receiver": st.issuer,
                **_qty(st.quantity),
            }
            edges.append((stmt_node(d.digest), node, attrs))
    elif isinstance(st, Import):
        edges.append((lot_node(st.lot), node, {"kind": "import", **_qty(st.quantity)}))
    elif isinstance(st, Evidence):
        for lot in st.lots:
            if lot in trace.lots:
                edges.append((node, lot_node(lot), {"kind": "evidence"}))
