"""The readable evidence report: one self-contained HTML page (``report.html``).

Laid out the way CBP asks importers to organise a submission for detained
goods: an executive summary (subject, entry number, verdict, composition, key
findings), a table of contents, the custody steps numbered from the origins to
the import (who, where, what went in and out, when, and the documents behind
each step, linked into the bundle as ``documents/<sha256>``), a flow chart of
the supply chain (inline SVG, laid out by tier), a mass balance per transform,
every finding, the parties, the documents, and an appendix on how to verify
the bundle offline.

The page has inline CSS (with print rules) and inline SVG only: no script, no
network. Everything is escaped by Jinja2's autoescape. Rendering is
deterministic (same report and inputs, same bytes), so offline verification
can render it again and compare.

The custody view (steps and chart) is derived from the parsed statements of
the report alone (``Report.statements``): origins and transforms create lots,
dispatches with their receipts move them between parties, transforms and the
import consume them. Only the hand-offs that lead from a lot's creator to a
party that used it for the subject are steps; everything else in the bundle is
listed as "other statements".
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import jinja2
import networkx as nx
import pycountry

from ledger.checkpoint import Checkpoint
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
from ledger.units import Quantity, format_decimal
from provenance.verify import Finding, Report

__all__ = ["DocumentRef", "render_report"]

MAX_CHART_NODES: Final = 120
"""Above this many nodes the chart groups nodes by tier, activity and country."""
MAX_KEY_FINDINGS: Final = 8
COMPACT_STEPS: Final = 150
"""Above this many custody steps they are listed as a table rather than one card each."""
MAX_OTHERS: Final = 300
"""Rows of the "other statements" table; the rest are counted by type."""

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

_SEVERITY_ORDER: Final = {"error": 0, "gap": 1, "warning": 2, "info": 3}
_KIND_LABEL: Final = {
    "origin": "Origin",
    "transform": "Transformation",
    "shipment": "Shipment",
    "import": "Import",
    "custody": "Custody",
}


@dataclass(frozen=True)
class DocumentRef:
    """A document referenced by the bundled statements (``documents/<sha256>``)."""

    sha256: str
    name: str
    kind: str
    media_type: str | None = None
    size: int | None = None
    present: bool = True
    referenced_by: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"documents/{self.sha256}"


# ---------------------------------------------------------------- view model


@dataclass
class PartyView:
    id: str
    name: str
    country: str
    subdivision: str | None = None
    address: str | None = None
    roles: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    seq: int | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def place(self) -> str:
        return place_name(self.country, self.subdivision)


@dataclass
class Line:
    """One quantity line: a lot (or external input) with its amounts."""

    label: str
    material: str
    quantity: str
    kg: str | None = None
    note: str | None = None


@dataclass
class Step:
    number: int
    kind: str
    title: str
    party: PartyView
    statement: Statement
    seq: int | None
    time: str
    to_party: PartyView | None = None
    received_time: str | None = None
    recorded: str | None = None
    site: str | None = None
    inputs: list[Line] = field(default_factory=list)
    outputs: list[Line] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)
    statements: list[tuple[str, str, int | None]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Rule ids of the error and gap findings among ``findings``."""

    @property
    def anchor(self) -> str:
        return f"step-{self.number}"

    @property
    def short_title(self) -> str:
        return self.title.replace("Transformation: ", "").replace("Origin of ", "Origin: ")

    @property
    def date(self) -> str:
        return self.time[:10]

    @property
    def compact_in(self) -> str:
        return "; ".join(f"{line.label} {line.quantity}" for line in self.inputs)

    @property
    def compact_out(self) -> str:
        return "; ".join(f"{line.label} {line.quantity}" for line in self.outputs)


@dataclass
class BalanceRow:
    step: Step
    input_kg: Decimal | None
    external_kg: Decimal | None
    output_kg: Decimal | None
    unweighed: list[str]
    yield_pct: str | None
    flags: list[str]


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


# ---------------------------------------------------------------- helpers


@functools.cache
def place_name(country: str, subdivision: str | None = None) -> str:
    """``Xinjiang Uygur Zizhiqu (CN-XJ), China`` from ISO 3166 codes."""
    c = pycountry.countries.get(alpha_2=country) if country else None
    cname = getattr(c, "common_name", None) or getattr(c, "name", None) or country
    if subdivision:
        s = pycountry.subdivisions.get(code=subdivision)  # type: ignore[no-untyped-call]
        sname = getattr(s, "name", None)
        return f"{sname} ({subdivision}), {cname}" if sname else f"{subdivision}, {cname}"
    return f"{cname} ({country})" if country else "unknown"


def fmt_qty(q: Quantity) -> str:
    return f"{_group(q.value)} {q.unit}"


def fmt_kg(kg: Decimal | None) -> str | None:
    return None if kg is None else f"{_group(kg)} kg"


def _group(value: Decimal) -> str:
    text = format_decimal(value.normalize() if value == value.to_integral() else value)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + (f".{frac}" if frac else "")


def fmt_share(share: Decimal | None) -> str:
    if share is None:
        return "–"
    pct = share * 100
    return f"{pct.quantize(Decimal('0.01'))} %"


def fmt_time(stmt: Statement) -> str:
    return stmt.time.strftime("%Y-%m-%d %H:%M UTC")


def short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def wrap(text: str, width: int, lines: int) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of about ``width``; the last one
    shortened with an ellipsis when needed."""
    out: list[str] = []
    current = ""
    words = text.split()
    for i, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines - 1:
            current = " ".join(words[i:])
            break
    out.append(current)
    return [short(line, width + 2) for line in out[:lines]]


def site_text(site: Site) -> str:
    return f"{site.name}, {place_name(site.country, site.subdivision)}"


# ---------------------------------------------------------------- building the view


class _View:
    """Steps, chart and tables derived from the report's statements."""

    def __init__(self, report: Report, entry_number: str | None, docs: Sequence[DocumentRef]):
        self.report = report
        self.entry_number = entry_number
        self.docs = {d.sha256: d for d in docs}
        self.stmts: dict[int, Statement] = dict(sorted(report.statements.items()))
        self.received: dict[int, str] = {
            seq: t.strftime("%Y-%m-%d %H:%M UTC") for seq, t in report.received_at.items()
        }
        self.seq_of: dict[str, int] = {s.digest: seq for seq, s in self.stmts.items()}
        self.findings_by_digest: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            for d in f.statements:
                self.findings_by_digest[d].append(f)
        self.parties: dict[str, PartyView] = {}
        self.creator: dict[str, Origin | Transform] = {}
        self.dispatches: dict[str, list[Dispatch]] = defaultdict(list)
        self.receipts: dict[str, Receipt] = {}
        self.consumers: dict[str, list[Transform | Import]] = defaultdict(list)
        self.evidence: dict[str, list[Evidence]] = defaultdict(list)
        self._index()
        self.imports = self._imports()
        self.lots = self._relevant_lots()
        self.used: set[str] = set()
        self.steps: list[Step] = []
        self.step_of: dict[str, Step] = {}
        self._build_steps()

    # -- indexing

    def _index(self) -> None:
        for seq, s in self.stmts.items():
            if isinstance(s, Party):
                p = s.party
                self.parties[p.id] = PartyView(
                    p.id,
                    p.name,
                    p.country,
                    p.subdivision,
                    p.address,
                    p.roles,
                    tuple(sorted(p.identifiers.items())),
                    seq,
                )
            elif isinstance(s, Origin):
                self.creator.setdefault(s.lot.id, s)
            elif isinstance(s, Transform):
                for out in s.outputs:
                    self.creator.setdefault(out.id, s)
                for inp in s.inputs:
                    self.consumers[inp.lot].append(s)
            elif isinstance(s, Dispatch):
                self.dispatches[s.lot].append(s)
            elif isinstance(s, Receipt):
                self.receipts.setdefault(s.dispatch, s)
            elif isinstance(s, Import):
                self.consumers[s.lot].append(s)
            elif isinstance(s, Evidence):
                for lot in s.lots:
                    self.evidence[lot].append(s)
        for f in self.report.findings:
            if f.severity not in ("error", "gap"):
                continue
            for d in f.statements:
                at = self.seq_of.get(d)
                stmt = None if at is None else self.stmts[at]
                if isinstance(stmt, Party) and stmt.party.id in self.parties:
                    self.parties[stmt.party.id].flags.append(f.rule)

    def party(self, pid: str) -> PartyView:
        if pid not in self.parties:
            self.parties[pid] = PartyView(pid, pid, "")
        return self.parties[pid]

    def _imports(self) -> list[Import]:
        subject = self.report.subject
        return [
            s
            for s in self.consumers.get(subject, [])
            if isinstance(s, Import)
            and (self.entry_number is None or s.entry_number == self.entry_number)
        ]

    def _relevant_lots(self) -> set[str]:
        lots: set[str] = set()
        stack = [self.report.subject]
        while stack:
            lot = stack.pop()
            if lot in lots:
                continue
            lots.add(lot)
            creator = self.creator.get(lot)
            if isinstance(creator, Transform):
                stack.extend(i.lot for i in creator.inputs)
        return lots

    def _lot_consumers(self, lot: str) -> list[Transform | Import]:
        """The statements that use ``lot`` for the subject."""
        if lot == self.report.subject:
            return list(self.imports)
        out: list[Transform | Import] = []
        for s in self.consumers.get(lot, []):
            if isinstance(s, Transform) and any(o.id in self.lots for o in s.outputs):
                out.append(s)
        return out

    def _custody_dispatches(self, lot: str, creator: str, ends: set[str]) -> list[Dispatch]:
        """Received dispatches of ``lot`` on some path from its creator to a party in ``ends``."""
        moves = [d for d in self.dispatches.get(lot, []) if d.digest in self.receipts]
        if not moves:
            return []
        forward: dict[str, set[str]] = defaultdict(set)
        backward: dict[str, set[str]] = defaultdict(set)
        for d in moves:
            forward[d.issuer].add(d.to)
            backward[d.to].add(d.issuer)
        fwd = _reach({creator}, forward)
        bwd = _reach(ends, backward)
        return [d for d in moves if d.issuer in fwd and d.to in bwd]

    # -- steps

    def _build_steps(self) -> None:
        deps: nx.DiGraph[str] = nx.DiGraph()
        made: dict[str, tuple[str, Statement, str | None]] = {}

        def node(kind: str, stmt: Statement, lot: str | None = None) -> str:
            key = stmt.digest
            if key not in made:
                made[key] = (kind, stmt, lot)
                deps.add_node(key)
            return key

        delivered: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.holders: dict[str, list[str]] = {}
        self.path_dispatches: dict[str, list[Dispatch]] = {}
        for lot in sorted(self.lots):
            creator = self.creator.get(lot)
            if creator is None:
                continue
            cnode = node("origin" if isinstance(creator, Origin) else "transform", creator)
            consumers = self._lot_consumers(lot)
            if lot == self.report.subject and not consumers:
                ends = self._final_holders(lot, creator.issuer)
            else:
                ends = {c.issuer for c in consumers}
            path = self._custody_dispatches(lot, creator.issuer, ends)
            self.path_dispatches[lot] = path
            for d in path:
                dnode = node("shipment", d, lot)
                delivered[(lot, d.to)].append(dnode)
            for d in path:
                src = [cnode] if d.issuer == creator.issuer else delivered[(lot, d.issuer)]
                for s in src:
                    deps.add_edge(s, d.digest)
            for c in consumers:
                cn = node("import" if isinstance(c, Import) else "transform", c, lot)
                src = [cnode] if c.issuer == creator.issuer else delivered[(lot, c.issuer)]
                for s in src:
                    deps.add_edge(s, cn)
        if not nx.is_directed_acyclic_graph(deps):
            order = sorted(made, key=lambda k: self.seq_of.get(k, 0))
        else:
            order = list(
                nx.lexicographical_topological_sort(
                    deps, key=lambda k: (made[k][1].time, self.seq_of.get(k, 0))
                )
            )
        for number, key in enumerate(order, start=1):
            kind, stmt, _lot = made[key]
            step = self._step(number, kind, stmt)
            self.steps.append(step)
            self.step_of[key] = step
            self.used.add(key)
            if isinstance(stmt, Dispatch) and stmt.digest in self.receipts:
                self.used.add(self.receipts[stmt.digest].digest)
        self.deps = deps

    def _final_holders(self, lot: str, creator: str) -> set[str]:
        moves = [d for d in self.dispatches.get(lot, []) if d.digest in self.receipts]
        senders = {d.issuer for d in moves}
        ends = {d.to for d in moves if d.to not in senders}
        return ends or {creator}

    def _statement_refs(self, stmts: Iterable[Statement]) -> list[tuple[str, str, int | None]]:
        return [(s.type, s.digest, self.seq_of.get(s.digest)) for s in stmts]

    def _findings_of(self, stmts: Iterable[Statement]) -> list[Finding]:
        seen: list[Finding] = []
        for s in stmts:
            for f in self.findings_by_digest.get(s.digest, []):
                if all(f is not g for g in seen):
                    seen.append(f)
        return sorted(seen, key=lambda f: _SEVERITY_ORDER.get(f.severity, 9))

    def _evidence_docs(self, lots: Iterable[str]) -> tuple[list[DocumentRef], list[Evidence]]:
        docs: list[DocumentRef] = []
        evs: list[Evidence] = []
        for lot in lots:
            for ev in self.evidence.get(lot, []):
                if ev in evs:
                    continue
                evs.append(ev)
                ref = self.docs.get(ev.document.sha256)
                if ref is not None and ref not in docs:
                    docs.append(ref)
        return docs, evs

    def _step(self, number: int, kind: str, stmt: Statement) -> Step:
        party = self.party(stmt.issuer)
        step = Step(number, kind, "", party, stmt, self.seq_of.get(stmt.digest), fmt_time(stmt))
        related: list[Statement] = [stmt]
        if isinstance(stmt, Origin):
            step.title = f"Origin of {stmt.lot.material}"
            step.site = site_text(stmt.site)
            step.outputs.append(
                Line(
                    stmt.lot.id,
                    stmt.lot.material,
                    fmt_qty(stmt.lot.quantity),
                    fmt_kg(stmt.lot.quantity.kg),
                )
            )
            docs, evs = self._evidence_docs([stmt.lot.id])
            step.documents.extend(docs)
            related.extend(evs)
        elif isinstance(stmt, Transform):
            step.title = f"Transformation: {stmt.process}"
            step.site = site_text(stmt.site)
            for inp in stmt.inputs:
                material = self._material_of(inp.lot)
                step.inputs.append(Line(inp.lot, material, fmt_qty(inp.quantity), fmt_kg(inp.kg)))
            for ext in stmt.external_inputs:
                who = f"{ext.supplier}, " if ext.supplier else ""
                step.inputs.append(
                    Line(
                        "external input",
                        ext.material,
                        fmt_qty(ext.quantity),
                        fmt_kg(ext.kg),
                        "not traced in the ledger: "
                        + who
                        + place_name(ext.country, ext.subdivision),
                    )
                )
            for out in stmt.outputs:
                step.outputs.append(
                    Line(out.id, out.material, fmt_qty(out.quantity), fmt_kg(out.kg))
                )
            docs, evs = self._evidence_docs(o.id for o in stmt.outputs)
            step.documents.extend(docs)
            related.extend(evs)
        elif isinstance(stmt, Dispatch):
            receipt = self.receipts.get(stmt.digest)
            step.title = "Shipment"
            step.to_party = self.party(stmt.to)
            material = self._material_of(stmt.lot)
            step.outputs.append(
                Line(
                    stmt.lot,
                    material,
                    fmt_qty(stmt.quantity),
                    fmt_kg(stmt.quantity.kg),
                    "dispatched",
                )
            )
            if receipt is not None:
                step.inputs.append(
                    Line(
                        stmt.lot,
                        material,
                        fmt_qty(receipt.quantity),
                        fmt_kg(receipt.quantity.kg),
                        "received",
                    )
                )
                step.received_time = fmt_time(receipt)
                related.append(receipt)
            for d in stmt.documents:
                ref = self.docs.get(d.sha256) or DocumentRef(
                    d.sha256, d.name, d.kind, present=False
                )
                if ref not in step.documents:
                    step.documents.append(ref)
        elif isinstance(stmt, Import):
            step.title = "Import into the United States"
            step.inputs.append(
                Line(
                    stmt.lot,
                    self._material_of(stmt.lot),
                    fmt_qty(stmt.quantity),
                    fmt_kg(stmt.quantity.kg),
                )
            )
            bits = [f"CBP entry {stmt.entry_number}"]
            if stmt.hts:
                bits.append(f"HTS {stmt.hts}")
            if stmt.port:
                bits.append(f"port {stmt.port}")
            if stmt.country_of_origin:
                bits.append(f"declared country of origin {place_name(stmt.country_of_origin)}")
            step.notes.append("; ".join(bits))
            docs, evs = self._evidence_docs([stmt.lot])
            step.documents.extend(docs)
            related.extend(evs)
        for ev in related:
            if isinstance(ev, Evidence):
                step.notes.append(
                    f"Evidence ({ev.kind.replace('_', ' ')}) issued by "
                    f"{self.party(ev.issuer).name}: {ev.document.name}"
                )
        step.statements = self._statement_refs(related)
        step.recorded = self.received.get(step.seq) if step.seq is not None else None
        for other in related[1:]:
            self.step_of.setdefault(other.digest, step)
        step.findings = self._findings_of([*related, *self._party_statements(stmt.issuer)])
        step.flags = sorted({f.rule for f in step.findings if f.severity in ("error", "gap")})
        return step

    def _party_statements(self, pid: str) -> list[Statement]:
        p = self.parties.get(pid)
        if p is None or p.seq is None:
            return []
        return [self.stmts[p.seq]]

    def _material_of(self, lot: str) -> str:
        c = self.creator.get(lot)
        if isinstance(c, Origin):
            return c.lot.material
        if isinstance(c, Transform):
            for o in c.outputs:
                if o.id == lot:
                    return o.material
        return ""

    # -- other tables

    def balances(self) -> list[BalanceRow]:
        rows: list[BalanceRow] = []
        for step in self.steps:
            stmt = step.statement
            if not isinstance(stmt, Transform):
                continue
            unweighed: list[str] = []
            inputs = _sum_kg(((i.lot, i.kg) for i in stmt.inputs), unweighed)
            externals = _sum_kg(
                ((f"external {e.material}", e.kg) for e in stmt.external_inputs), unweighed
            )
            outputs = _sum_kg(((o.id, o.kg) for o in stmt.outputs), unweighed)
            total_in = (inputs or Decimal(0)) + (externals or Decimal(0))
            yield_pct = None
            if outputs is not None and total_in > 0:
                yield_pct = f"{(outputs / total_in * 100).quantize(Decimal('0.1'))} %"
            flags = sorted(
                {
                    f.rule
                    for f in self.findings_by_digest.get(stmt.digest, [])
                    if f.rule in ("MASS", "YIELD", "UNTRACED")
                }
            )
            rows.append(BalanceRow(step, inputs, externals, outputs, unweighed, yield_pct, flags))
        return rows

    def others(self) -> list[tuple[str, str, str, str, int | None]]:
        """Bundled statements off the custody path: (type, issuer, what, digest, seq)."""
        out: list[tuple[str, str, str, str, int | None]] = []
        for seq, s in self.stmts.items():
            if s.digest in self.used or isinstance(s, Party):
                continue
            if isinstance(s, Evidence) and any(lot in self.lots for lot in s.lots):
                continue
            what = _describe(s)
            if isinstance(s, Dispatch):
                what += f" ({self.party(s.to).name})"
            out.append((s.type, self.party(s.issuer).name, what, s.digest, seq))
        return out

    def key_parties(self) -> list[PartyView]:
        ids = {s.party.id for s in self.steps} | {
            s.to_party.id for s in self.steps if s.to_party is not None
        }
        listed = [p for p in self.parties.values() if p.id in ids or p.flags]
        return sorted(listed, key=lambda p: (p.seq if p.seq is not None else 1 << 62, p.id))

    # -- chart

    def chart(self) -> Chart:
        g: nx.DiGraph[str] = nx.DiGraph()
        nodes: dict[str, ChartNode] = {}
        for step in self.steps:
            if step.kind == "shipment":
                continue
            nodes[step.statement.digest] = self._chart_node(step)
            g.add_node(step.statement.digest)
        edges: list[ChartEdge] = []
        for lot in sorted(self.lots):
            self._chart_lot(lot, nodes, g, edges)
        total = len(nodes)
        for key, t in _tiers(g).items():
            nodes[key].tier = t
        grouped = False
        if total > MAX_CHART_NODES:
            nodes, edges, g = _group_chart(nodes, edges)
            grouped = True
        return _layout(nodes, edges, g, grouped, total)

    def _chart_lot(
        self, lot: str, nodes: dict[str, ChartNode], g: nx.DiGraph[str], edges: list[ChartEdge]
    ) -> None:
        """Boxes and arrows of one lot: creator → holders → the statements that used it."""
        creator = self.creator.get(lot)
        if creator is None or creator.digest not in nodes:
            return
        path = self.path_dispatches.get(lot, [])
        senders = {d.issuer for d in path}
        by_party: dict[str, list[str]] = defaultdict(list)
        for c in self._lot_consumers(lot):
            if c.digest in nodes:
                by_party[c.issuer].append(c.digest)

        def hold(pid: str) -> str:
            key = f"hold:{lot}:{pid}"
            if key not in nodes:
                p = self.party(pid)
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
                self._edge(g, edges, src, dst, self.step_of.get(d.digest))
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

    def _chart_node(self, step: Step) -> ChartNode:
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


def _reach(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    """Every node reachable from ``start`` (included) along ``edges``."""
    seen = set(start)
    stack = list(seen)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _sum_kg(items: Iterable[tuple[str, Decimal | None]], unweighed: list[str]) -> Decimal | None:
    total: Decimal | None = None
    for label, kg in items:
        if kg is None:
            unweighed.append(label)
        else:
            total = kg if total is None else total + kg
    return total


def _describe(s: Statement) -> str:
    if isinstance(s, Dispatch):
        return f"dispatch of {fmt_qty(s.quantity)} of lot {s.lot} to {s.to}"
    if isinstance(s, Receipt):
        return f"receipt of {fmt_qty(s.quantity)} (dispatch {s.dispatch[:19]}…)"
    if isinstance(s, Transform):
        return (
            f"{s.process}: {', '.join(i.lot for i in s.inputs)} → "
            f"{', '.join(o.id for o in s.outputs)}"
        )
    if isinstance(s, Import):
        return f"import of {fmt_qty(s.quantity)} of lot {s.lot} as entry {s.entry_number}"
    if isinstance(s, Origin):
        return f"origin of lot {s.lot.id} ({fmt_qty(s.lot.quantity)})"
    if isinstance(s, Evidence):
        return f"{s.kind} for {', '.join(s.lots)}: {s.document.name}"
    party = getattr(s, "party", "")
    return f"{s.type} of {party}" if party else s.type


def _tiers(g: nx.DiGraph[str]) -> dict[str, int]:
    """Tier of each node: the longest path from it to a sink (0 = the finished good)."""
    tiers: dict[str, int] = {}
    if not nx.is_directed_acyclic_graph(g):
        return dict.fromkeys(g, 0)
    for n in reversed(list(nx.topological_sort(g))):
        succ = list(g.successors(n))
        tiers[n] = 1 + max(tiers[s] for s in succ) if succ else 0
    return tiers


def _group_chart(
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


def _layout(
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


# ---------------------------------------------------------------- rendering


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["short"] = short
    env.filters["share"] = fmt_share
    env.filters["place"] = lambda c, s=None: place_name(c, s)
    return env


def render_report(
    report: Report,
    *,
    entry_number: str | None,
    checkpoint: Checkpoint,
    verifier_key: str,
    documents: Sequence[DocumentRef],
) -> str:
    """The HTML page for ``report`` (see the module docstring); deterministic."""
    view = _View(report, entry_number, documents)
    findings = sorted(report.findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 9), f.rule))
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.severity] += 1
    key_findings = [f for f in findings if f.severity in ("error", "gap")][:MAX_KEY_FINDINGS]
    imp = view.imports[0] if view.imports else None
    others = view.others()
    subject_material = view._material_of(report.subject)
    origins = [s for s in view.steps if s.kind == "origin"]
    context: dict[str, Any] = {
        "report": report,
        "subject": report.subject,
        "subject_material": subject_material,
        "entry_number": entry_number or (imp.entry_number if imp else None),
        "import_stmt": imp,
        "importer": view.party(imp.issuer) if imp else None,
        "import_step": view.step_of.get(imp.digest) if imp else None,
        "verdict": report.verdict,
        "composition": [
            (place_name(s.country, s.subdivision), s.country, s.subdivision, s.material, s.share)
            for s in report.composition
        ],
        "untraced_share": report.untraced_share,
        "findings": findings,
        "counts": dict(counts),
        "key_findings": key_findings,
        "more_key_findings": max(
            0, sum(1 for f in findings if f.severity in ("error", "gap")) - len(key_findings)
        ),
        "steps": view.steps,
        "origins": origins,
        "chart": view.chart(),
        "balances": view.balances(),
        "parties": view.key_parties(),
        "documents": sorted(documents, key=lambda d: (not d.present, d.name, d.sha256)),
        "others": others,
        "max_others": MAX_OTHERS,
        "others_by_type": sorted(Counter(o[0] for o in others).items()),
        "compact": len(view.steps) > COMPACT_STEPS,
        "seq_of": view.seq_of,
        "step_of": view.step_of,
        "checkpoint": checkpoint,
        "checkpoint_root": checkpoint.root.hex(),
        "verifier_key": verifier_key,
        "statement_count": len(view.stmts),
        "fmt_kg": fmt_kg,
        "screening_version": getattr(report, "screening_version", None),
        "yields_version": getattr(report, "yields_version", None),
    }
    return _environment().get_template("report.html.j2").render(context)
