"""The custody view of the HTML report, built from the verifier's trace.

The custody path is :class:`provenance.trace.Trace`'s, the same trace the
verifier judged (recomputed from the report's parsed entries, never from
storage): its lots, each lot's creator, the transforms and the import that
consumed it, and the hand-offs between the parties that held it on its way
there. A received hand-off on that path is a *shipment* step; origins,
transforms and the import (of ``entry_number``, when given) are steps too,
numbered in dependency order (time, then seq, break ties). Everything else in
the evidence is listed as "other statements".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import networkx as nx

from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Origin,
    Party,
    Receipt,
    Statement,
    Transform,
)
from provenance.report.format import (
    describe,
    fmt_kg,
    fmt_qty,
    fmt_time,
    place_name,
    site_text,
)
from provenance.report.model import SEVERITY_ORDER, DocumentRef, Line, PartyView, Step
from provenance.verify import Finding, Report

__all__ = ["View"]


class View:
    """Steps and tables of one report, from its trace and findings."""

    def __init__(self, report: Report, entry_number: str | None, docs: Sequence[DocumentRef]):
        self.report = report
        self.entry_number = entry_number
        self.docs = {d.sha256: d for d in docs}
        self.trace = report.custody_trace()
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
        self._parties()
        self.lots: set[str] = set(self.trace.lots)
        self.creator: dict[str, Origin | Transform] = {}
        for lot, e in self.trace.creators.items():
            if isinstance(e.statement, Origin | Transform):
                self.creator[lot] = e.statement
        self.evidence = self._evidence_index()
        self.imports = self._imports()
        self.receipts: dict[str, Receipt] = {}
        self.path_dispatches: dict[str, list[Dispatch]] = {}
        for lot in self.lots:
            self.path_dispatches[lot] = self._path(lot)
        self.used: set[str] = set()
        self.steps: list[Step] = []
        self.step_of: dict[str, Step] = {}
        self._build_steps()

    # -- from the trace

    def _parties(self) -> None:
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
        found = sorted(self.trace.consumers.get(self.report.subject, []), key=lambda e: e.seq)
        return [
            e.statement
            for e in found
            if isinstance(e.statement, Import)
            and (self.entry_number is None or e.statement.entry_number == self.entry_number)
        ]

    def lot_consumers(self, lot: str) -> list[Transform | Import]:
        """The statements that use ``lot`` for the subject (the trace's consumers)."""
        if lot == self.report.subject:
            return list(self.imports)
        found = sorted(self.trace.consumers.get(lot, []), key=lambda e: e.seq)
        return [e.statement for e in found if isinstance(e.statement, Transform)]

    def _path(self, lot: str) -> list[Dispatch]:
        """The received hand-offs of ``lot`` on the trace's custody path, in seq order."""
        out: list[Dispatch] = []
        for h in self.trace.handoffs.get(lot, []):
            d, r = h.dispatch.statement, h.receipt
            if r is None or not isinstance(d, Dispatch) or not isinstance(r.statement, Receipt):
                continue
            self.receipts[d.digest] = r.statement
            out.append(d)
        return out

    def _evidence_index(self) -> dict[str, list[Evidence]]:
        """Evidence statements by the lots they name (co-products too), in seq order."""
        out: dict[str, list[Evidence]] = defaultdict(list)
        for s in self.stmts.values():
            if isinstance(s, Evidence):
                for lot in s.lots:
                    out[lot].append(s)
        return out

    # -- steps

    def _build_steps(self) -> None:
        deps: nx.DiGraph[str] = nx.DiGraph()
        made: dict[str, tuple[str, Statement]] = {}

        def node(kind: str, stmt: Statement) -> str:
            if stmt.digest not in made:
                made[stmt.digest] = (kind, stmt)
                deps.add_node(stmt.digest)
            return stmt.digest

        delivered: dict[tuple[str, str], list[str]] = defaultdict(list)
        for lot in sorted(self.lots):
            creator = self.creator.get(lot)
            if creator is None:
                continue
            cnode = node("origin" if isinstance(creator, Origin) else "transform", creator)
            path = self.path_dispatches[lot]
            for d in path:
                delivered[(lot, d.to)].append(node("shipment", d))
            for d in path:
                src = [cnode] if d.issuer == creator.issuer else delivered[(lot, d.issuer)]
                for s in src:
                    deps.add_edge(s, d.digest)
            for c in self.lot_consumers(lot):
                cn = node("import" if isinstance(c, Import) else "transform", c)
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
            kind, stmt = made[key]
            step = self._step(number, kind, stmt)
            self.steps.append(step)
            self.step_of[key] = step
            self.used.add(key)
            if isinstance(stmt, Dispatch) and stmt.digest in self.receipts:
                self.used.add(self.receipts[stmt.digest].digest)

    def _statement_refs(self, stmts: Iterable[Statement]) -> list[tuple[str, str, int | None]]:
        return [(s.type, s.digest, self.seq_of.get(s.digest)) for s in stmts]

    def _findings_of(self, stmts: Iterable[Statement]) -> list[Finding]:
        seen: list[Finding] = []
        for s in stmts:
            for f in self.findings_by_digest.get(s.digest, []):
                if all(f is not g for g in seen):
                    seen.append(f)
        return sorted(seen, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))

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
                material = self.material_of(inp.lot)
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
            material = self.material_of(stmt.lot)
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
                    self.material_of(stmt.lot),
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

    def material_of(self, lot: str) -> str:
        return self.trace.material(lot) or ""

    # -- other tables

    def others(self) -> list[tuple[str, str, str, str, int | None]]:
        """Bundled statements off the custody path: (type, issuer, what, digest, seq)."""
        out: list[tuple[str, str, str, str, int | None]] = []
        for seq, s in self.stmts.items():
            if s.digest in self.used or isinstance(s, Party):
                continue
            if isinstance(s, Evidence) and any(lot in self.lots for lot in s.lots):
                continue
            what = describe(s)
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
