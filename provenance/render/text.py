"""The trace as an indented text tree, drawn with an explicit stack (no recursion)."""

from __future__ import annotations

from typing import Any, Final

import networkx as nx

from provenance.graph import lot_node, party_node
from provenance.render.document import Doc, amount, as_doc, as_graph, date, place
from provenance.verify import Report

__all__ = ["MAX_INDENT", "trace_text"]

_MARKS = {"error": "x", "gap": "?", "warning": "!", "info": "i"}
_RANK = {"error": 0, "gap": 1, "warning": 2, "info": 3}

_Task = tuple[str, str, str, bool, int]
"""One line still to draw: (kind, node, prefix, last, depth)."""

MAX_INDENT: Final = 60
"""Tree levels drawn with growing indentation; deeper lines start again at the left
margin after a ``depth N`` marker, so a 10,000-deep chain stays a few lines wide."""


class _Text:
    """The tree, drawn depth-first with an explicit stack (no recursion over depth)."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.g = as_graph(doc)
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
            f"LOT {attrs.get('lot')} · {attrs.get('material') or '?'} · {amount(attrs)}"
            f" · by {self.who(attrs.get('party'))} · {date(attrs.get('time'))}"
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
            f"hand-off {self.who(d.get('party'))} → {self.who(d.get('to'))} · {amount(d)}"
            f" · sent {date(d.get('time'))}"
        )
        text += " · in transit" if r is None else f" · received {date(r.get('time'))}"
        text += self.marks(dnode) + (self.marks(rnode) if r is not None else "")
        self.emit(prefix, last, text)

    def statement_line(self, kind: str, node: str, prefix: str, last: bool) -> None:
        a = self.g.nodes[node]
        if kind == "import":
            text = (
                f"import entry {a.get('entry_number')} by {self.who(a.get('party'))}"
                f" · {amount(a)} · {date(a.get('time'))}"
            )
        else:
            doc = a.get("document") or {}
            text = (
                f"evidence {a.get('evidence_kind')} {doc.get('name', '')!r} by "
                f"{self.who(a.get('party'))} · {date(a.get('time'))}"
            )
        self.emit(prefix, last, text + self.marks(node))

    def creator(self, node: str, prefix: str, last: bool, depth: int) -> list[_Task]:
        a = self.g.nodes[node]
        if a.get("type") == "origin":
            text = (
                f"origin by {self.who(a.get('party'))} at {place(a)} · {amount(a)}"
                f" · {date(a.get('time'))} · seq {a.get('seq')}"
            )
            self.emit(prefix, last, text + self.marks(node))
            return []
        text = (
            f"{a.get('process')} by {self.who(a.get('party'))} at {place(a)}"
            f" · {date(a.get('time'))} · seq {a.get('seq')}"
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
        text = f"EXTERNAL {a.get('material')} · {amount(a)} · from {supplier} ({where}) · untraced"
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
    return _Text(as_doc(report)).render()
