"""Trace a lot upstream and build its provenance graph (SPEC §3 "Custody state", §6).

Three layers, from storage to networkx:

* :func:`collect` reads from a :class:`ledger.store.ReadTx` only the entries a
  verification of one subject lot needs (SPEC §6, and the bundle contents of
  SPEC §7): a recursive CTE over the ``lot_refs`` index walks upstream from the
  subject (a lot's creator is its ``output`` row; a ``transform`` creator's
  ``input`` rows are the upstream lots), then every statement that names a
  traced lot (creation, draws, dispatches to any buyer, receipts, evidence,
  imports: so double-spending by siblings is visible), the ``party`` / ``key``
  / ``revoke`` history of every party those statements name, and always seq 0.
  Memory grows with the trace, never with the ledger: the query runs in the
  database (SQLite and PostgreSQL alike) and only the trace's rows come back.
* :class:`Trace` (:meth:`Trace.of`) recomputes the same walk from parsed
  statements alone (it never trusts the index), and works out who held each
  traced lot on its way to the subject (the *custody path*).
* :func:`build_graph` turns a trace into a :class:`networkx.DiGraph` whose
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
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import networkx as nx
from sqlalchemy import TextClause, select, text

from ledger.errors import NotFoundError
from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Origin,
    Party,
    Receipt,
    Site,
    Statement,
    Transform,
)
from ledger.store import ENTRIES, NODES, ReadTx, StoredEntry
from ledger.units import Quantity, format_decimal

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

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- storage

_TRACED = """
WITH RECURSIVE traced(lot) AS (
    SELECT CAST(:subject AS VARCHAR)
    UNION
    SELECT i.lot
    FROM traced t
    JOIN lot_refs o ON o.lot = t.lot AND o.role = 'output'
    JOIN lot_refs i ON i.seq = o.seq AND i.role = 'input'
)
"""

_LOTS_SQL = text(_TRACED + "SELECT lot FROM traced")  # noqa: S608 (constant text)

# Statements naming a traced lot, driven from the traced lots through the index
# on lot_refs.lot. PostgreSQL's planner cannot size the recursive CTE and may
# scan all of lot_refs for ``IN (SELECT ...)``; ``= ANY(ARRAY(...))`` makes it
# probe the index, so the query grows with the trace, not the ledger.
_IN_TRACED = {
    "postgresql": "= ANY(ARRAY(SELECT lot FROM traced))",
    "default": "IN (SELECT lot FROM traced)",
}

_ENTRIES = (
    _TRACED  # noqa: S608 (constant text; only a constant clause is formatted in)
    + """,
seqs AS (
    SELECT DISTINCT r.seq AS seq FROM lot_refs r WHERE r.lot {in_traced}
)
SELECT s.seq AS ref_seq, e.seq, e.leaf_hash, e.leaf, e.digest, e.issuer, e.stmt_id, e.type,
       e.received_at, n.hash AS node_hash
FROM seqs s
LEFT JOIN entries e ON e.seq = s.seq
LEFT JOIN nodes n ON n.id = s.seq
"""
)
# The Merkle leaf node (0, seq) is stored under ledger.store.node_id(0, seq), which is seq.

_ADDRESSEES = _TRACED + 'SELECT DISTINCT d."to" FROM dispatches d WHERE d.lot {in_traced}'  # noqa: S608


@lru_cache(maxsize=8)
def _queries(dialect: str) -> tuple[TextClause, TextClause]:
    """The entries and addressees queries for a database dialect (constant texts)."""
    in_traced = _IN_TRACED.get(dialect, _IN_TRACED["default"])
    return (
        text(_ENTRIES.format(in_traced=in_traced)),
        text(_ADDRESSEES.format(in_traced=in_traced)),
    )


_SUBJECT_SQL = text("SELECT COUNT(*) FROM lot_refs WHERE lot = :subject")

_CHUNK = 900
_ENTRY_COLUMNS = ("seq", "leaf_hash", "leaf", "digest", "issuer", "stmt_id", "type", "received_at")


@dataclass(frozen=True)
class Collected:
    """What :func:`collect` read for one subject lot.

    ``entries`` are sorted by seq. ``leaf_nodes`` holds the stored level-0
    Merkle node of each entry (``None`` when the row is missing) and
    ``missing_seqs`` the seqs the ``lot_refs`` index names but ``entries``
    lacks, both for the store-level INTEGRITY checks of
    :func:`provenance.verify.verify_lot`.
    """

    subject: str
    lots: set[str]
    entries: list[StoredEntry]
    leaf_nodes: dict[int, bytes | None] = field(default_factory=dict)
    missing_seqs: list[int] = field(default_factory=list)


def _rows(
    rows: Iterable[Sequence[Any]],
    entries: list[StoredEntry],
    nodes: dict[int, bytes | None],
    missing: list[int],
) -> None:
    """Rows of (ref seq, seq, leaf_hash, leaf, digest, issuer, stmt_id, type, received_at,
    node hash) into entries (by position: it is the hot loop of a large trace)."""
    for ref, seq, leaf_hash, leaf, digest, issuer, stmt_id, kind, received_at, node in rows:
        if seq is None:
            missing.append(int(ref))
            continue
        entries.append(
            StoredEntry(
                int(seq),
                bytes(leaf_hash),
                bytes(leaf),
                digest,
                issuer,
                stmt_id,
                kind,
                received_at,
            )
        )
        nodes[int(seq)] = None if node is None else bytes(node)


def collect(r: ReadTx, lot: str) -> Collected:
    """Read the entries that verifying ``lot`` needs (see the module docstring).

    Raises :class:`ledger.errors.NotFoundError` when no statement names ``lot``.
    """
    if not r.conn.execute(_SUBJECT_SQL, {"subject": lot}).scalar():
        raise NotFoundError(f"lot {lot!r} is not in the ledger", details={"lot": lot})
    lots = {str(x) for (x,) in r.conn.execute(_LOTS_SQL, {"subject": lot})}
    entries: list[StoredEntry] = []
    nodes: dict[int, bytes | None] = {}
    missing: list[int] = []
    parties: set[str] = set()
    entries_sql, addressees_sql = _queries(r.conn.dialect.name)
    _rows(r.conn.execute(entries_sql, {"subject": lot}).all(), entries, nodes, missing)
    parties.update(e.issuer for e in entries)
    # Addressees of dispatches of traced lots, from the derived dispatch table: a
    # tampered table can only leave a party's keys out, which verification reports.
    parties.update(str(p) for (p,) in r.conn.execute(addressees_sql, {"subject": lot}))
    operator = r.operator()
    if operator is not None:
        parties.add(operator)
    have = {e.seq for e in entries}
    wanted = sorted({0, *r.party_history(parties)} - have)
    for i in range(0, len(wanted), _CHUNK):
        entries.extend(_fetch(r, wanted[i : i + _CHUNK], nodes))
    entries.sort(key=lambda e: e.seq)
    log.debug(
        "collected %d entries over %d lots for %s (%d parties)",
        len(entries),
        len(lots),
        lot,
        len(parties),
    )
    return Collected(lot, lots, entries, nodes, missing)


def _fetch(r: ReadTx, seqs: Sequence[int], nodes: dict[int, bytes | None]) -> list[StoredEntry]:
    joined = ENTRIES.outerjoin(NODES, NODES.c.id == ENTRIES.c.seq)
    query = (
        select(
            ENTRIES.c.seq.label("ref_seq"),
            *(ENTRIES.c[name] for name in _ENTRY_COLUMNS),
            NODES.c.hash.label("node_hash"),
        )
        .select_from(joined)
        .where(ENTRIES.c.seq.in_(list(seqs)))
    )
    out: list[StoredEntry] = []
    _rows(r.conn.execute(query).all(), out, nodes, [])
    return out


# --------------------------------------------------------------------------- trace


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """A ledger entry whose leaf parsed: the statement, its signatures and ledger time."""

    seq: int
    received_at: datetime
    statement: Statement
    signatures: tuple[tuple[str, bytes], ...]
    pae: bytes
    leaf_hash: bytes
    prev: str

    @property
    def digest(self) -> str:
        return self.statement.digest

    @property
    def issuer(self) -> str:
        return self.statement.issuer


@dataclass(frozen=True, slots=True)
class Handoff:
    """A dispatch of a traced lot and its receipt (None while in transit)."""

    dispatch: ParsedEntry
    receipt: ParsedEntry | None


@dataclass
class Trace:
    """The upstream trace of ``subject``, recomputed from parsed statements.

    * ``lots``: the traced lots (the subject, and recursively the inputs of the
      transform that created each traced lot);
    * ``creators``: each traced lot's creating ``origin`` or ``transform`` (the
      first by seq; a second creation is a CUSTODY finding of the replay);
    * ``on_lot``: every statement naming a traced lot, in seq order (a
      receipt names the lot of its dispatch);
    * ``consumers``: the traced transforms drawing on each lot, and the
      imports of the subject;
    * ``holders`` and ``handoffs``: the custody path, the parties that held
      each lot on its way to its consumers and the dispatch/receipt pairs
      between them (other buyers of the same lot are off the path);
    * ``registrations``: each party's ``party`` statement.
    """

    subject: str
    lots: set[str]
    creators: dict[str, ParsedEntry]
    on_lot: dict[str, list[ParsedEntry]]
    consumers: dict[str, list[ParsedEntry]]
    holders: dict[str, set[str]]
    handoffs: dict[str, list[Handoff]]
    registrations: dict[str, ParsedEntry]
    dispatches: dict[str, ParsedEntry]
    receipts: dict[str, ParsedEntry]
    _statements: list[ParsedEntry] | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, entries: Iterable[ParsedEntry], subject: str) -> Trace:
        ordered = sorted(entries, key=lambda e: e.seq)
        all_creators: dict[str, ParsedEntry] = {}
        registrations: dict[str, ParsedEntry] = {}
        dispatches: dict[str, ParsedEntry] = {}
        receipts: dict[str, ParsedEntry] = {}
        for e in ordered:
            st = e.statement
            if isinstance(st, Origin | Transform):
                for lot in st.lots_created():
                    all_creators.setdefault(lot, e)
            elif isinstance(st, Party):
                registrations.setdefault(st.party.id, e)
            elif isinstance(st, Dispatch):
                dispatches.setdefault(st.digest, e)
            elif isinstance(st, Receipt):
                receipts.setdefault(st.dispatch, e)
        lots = _walk(subject, all_creators)
        creators = {lot: all_creators[lot] for lot in lots if lot in all_creators}
        on_lot: dict[str, list[ParsedEntry]] = defaultdict(list)
        for e in ordered:
            for lot in _lots_named(e.statement, dispatches):
                if lot in lots:
                    on_lot[lot].append(e)
        consumers: dict[str, list[ParsedEntry]] = defaultdict(list)
        seen: set[int] = set()
        for e in creators.values():
            st = e.statement
            if isinstance(st, Transform) and e.seq not in seen:
                seen.add(e.seq)
                for item in st.inputs:
                    consumers[item.lot].append(e)
        for e in on_lot.get(subject, []):
            if isinstance(e.statement, Import):
                consumers[subject].append(e)
        trace = cls(
            subject,
            lots,
            creators,
            dict(on_lot),
            dict(consumers),
            {},
            {},
            registrations,
            dispatches,
            receipts,
        )
        for lot in lots:
            trace._custody_path(lot)
        return trace

    # -- custody path ---------------------------------------------------------

    def _custody_path(self, lot: str) -> None:
        creator = self.creators.get(lot)
        named = self.on_lot.get(lot, [])
        incoming: dict[str, list[ParsedEntry]] = defaultdict(list)
        for e in named:
            st = e.statement
            if isinstance(st, Dispatch):
                incoming[st.to].append(e)
        holders = {c.issuer for c in self.consumers.get(lot, [])}
        if not holders:
            # the subject with no import (or a lot nobody consumed): everyone who held it
            holders = {e.issuer for e in named if isinstance(e.statement, Receipt)}
            if creator is not None:
                holders.add(creator.issuer)
        queue = list(holders)
        handoffs: list[Handoff] = []
        while queue:
            party = queue.pop()
            if creator is not None and party == creator.issuer:
                continue
            for d in incoming.get(party, []):
                handoffs.append(Handoff(d, self.receipts.get(d.digest)))
                if d.issuer not in holders:
                    holders.add(d.issuer)
                    queue.append(d.issuer)
        handoffs.sort(key=lambda h: h.dispatch.seq)
        self.holders[lot] = holders
        self.handoffs[lot] = handoffs

    # -- read-outs --------------------------------------------------------------

    def statements(self) -> list[ParsedEntry]:
        """Every statement naming a traced lot, once each, in seq order."""
        if self._statements is None:
            unique = {e.seq: e for entries in self.on_lot.values() for e in entries}
            self._statements = [unique[s] for s in sorted(unique)]
        return list(self._statements)

    def transforms(self) -> list[ParsedEntry]:
        """The transforms that created traced lots, once each, in seq order."""
        unique = {e.seq: e for e in self.creators.values() if isinstance(e.statement, Transform)}
        return [unique[s] for s in sorted(unique)]

    def origins(self) -> list[ParsedEntry]:
        """The origins of traced lots, in seq order."""
        unique = {e.seq: e for e in self.creators.values() if isinstance(e.statement, Origin)}
        return [unique[s] for s in sorted(unique)]

    def path_parties(self) -> set[str]:
        """Every party that held a traced lot on its way to the subject."""
        out: set[str] = set()
        for parties in self.holders.values():
            out |= parties
        return out

    def party_name(self, party: str) -> str:
        reg = self.registrations.get(party)
        if reg is not None and isinstance(reg.statement, Party):
            return reg.statement.party.name
        return party

    def material(self, lot: str) -> str | None:
        """A traced lot's material, from its creator."""
        e = self.creators.get(lot)
        if e is None:
            return None
        st = e.statement
        if isinstance(st, Origin):
            return st.lot.material
        if isinstance(st, Transform):
            for out in st.outputs:
                if out.id == lot:
                    return out.material
        return None


def _walk(subject: str, creators: Mapping[str, ParsedEntry]) -> set[str]:
    lots = {subject}
    queue = [subject]
    while queue:
        creator = creators.get(queue.pop())
        if creator is None or not isinstance(creator.statement, Transform):
            continue
        for item in creator.statement.inputs:
            if item.lot not in lots:
                lots.add(item.lot)
                queue.append(item.lot)
    return lots


def _lots_named(st: Statement, dispatches: Mapping[str, ParsedEntry]) -> tuple[str, ...]:
    if isinstance(st, Receipt):
        d = dispatches.get(st.dispatch)
        if d is not None and isinstance(d.statement, Dispatch):
            return (d.statement.lot,)
        return ()
    return st.lots_referenced()


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
