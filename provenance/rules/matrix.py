"""The documents-per-hop matrix and the checklist of a verification.

Rows: the hand-offs and transforms of the trace (:mod:`provenance.rules.handoffs`);
columns: the document types of the profile. A cell is

* ``present``: a document of one of the column's kinds concerns the row;
* ``inconsistent``: present, but a document rule (PAYMENT, INVOICE-QUANTITY,
  LAB-TEST, CAPACITY) found a problem naming it;
* ``missing``: none concerns the row (an ``EVIDENCE`` gap when the column is
  required);
* ``not_required``: the column applies only to invoiced hand-offs and this one
  has no invoice; ``n/a``: the column is for the other kind of row.

The checklist follows the profile's ``checklist`` items (CBP's list of what an
applicability review needs, for the default profile): each item is ``fail``
(an error among its rules' findings), ``missing`` (a gap), ``warning`` or ``ok``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from provenance.rules.base import Context, Finding
from provenance.rules.handoffs import Doc
from provenance.rules.trade import rows

__all__ = [
    "DOCUMENT_RULES",
    "Cell",
    "CheckItem",
    "DocumentsMatrix",
    "MatrixRow",
    "documents_matrix",
]

DOCUMENT_RULES = frozenset({"PAYMENT", "INVOICE-QUANTITY", "LAB-TEST", "CAPACITY"})


@dataclass(frozen=True)
class Cell:
    requirement: str
    status: str
    documents: tuple[Doc, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "documents": [
                {
                    "seq": d.seq,
                    "kind": d.kind,
                    "name": d.name,
                    "number": getattr(d.fields, "number", None),
                    "sha256": d.sha256,
                    "statement": d.digest,
                }
                for d in self.documents
            ],
        }


@dataclass(frozen=True)
class MatrixRow:
    kind: str
    seq: int
    lot: str
    party: str
    buyer: str | None
    title: str
    cells: tuple[Cell, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "lot": self.lot,
            "from": self.party,
            "to": self.buyer,
            "title": self.title,
            "cells": {c.requirement: c.to_json() for c in self.cells},
        }


@dataclass(frozen=True)
class CheckItem:
    id: str
    label: str
    status: str
    rules: tuple[str, ...]
    findings: int
    missing: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "rules": list(self.rules),
            "findings": self.findings,
            "missing_documents": self.missing,
        }


@dataclass(frozen=True)
class DocumentsMatrix:
    profile: str
    columns: tuple[tuple[str, str, bool], ...]
    """``(requirement id, label, required)`` in profile order."""
    rows: tuple[MatrixRow, ...]
    checklist: tuple[CheckItem, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "columns": [{"id": c, "label": label, "required": r} for c, label, r in self.columns],
            "rows": [r.to_json() for r in self.rows],
            "checklist": [c.to_json() for c in self.checklist],
        }


def _status(findings: Sequence[Finding]) -> str:
    severities = {f.severity for f in findings}
    for severity, status in (("error", "fail"), ("gap", "missing"), ("warning", "warning")):
        if severity in severities:
            return status
    return "ok"


def documents_matrix(ctx: Context, findings: Sequence[Finding]) -> DocumentsMatrix:
    """The matrix and checklist of a verification from its context and findings."""
    profile = ctx.profile
    flagged = {
        d
        for f in findings
        if f.rule in DOCUMENT_RULES and f.severity in ("error", "warning")
        for d in f.statements
    }
    out: list[MatrixRow] = []
    missing: dict[str, int] = {r.id: 0 for r in profile.requirements}
    for row in rows(ctx):
        cells: list[Cell] = []
        for req in profile.requirements:
            if req.applies_to != row.kind:
                cells.append(Cell(req.id, "n/a"))
                continue
            if req.when == "invoiced" and not row.invoices():
                cells.append(Cell(req.id, "not_required"))
                continue
            present = tuple(d for d in row.docs if d.kind in req.kinds)
            if not present:
                if req.required:
                    missing[req.id] += 1
                cells.append(Cell(req.id, "missing"))
            elif any(d.digest in flagged for d in present):
                cells.append(Cell(req.id, "inconsistent", present))
            else:
                cells.append(Cell(req.id, "present", present))
        out.append(
            MatrixRow(
                row.kind, row.seq, row.lot, row.party, row.buyer, row.title(ctx.trace), tuple(cells)
            )
        )
    checklist: list[CheckItem] = []
    for item in profile.checklist:
        mine = [f for f in findings if f.rule in item.rules]
        gaps = sum(missing.get(r, 0) for r in item.requirements)
        status = _status(mine)
        checklist.append(
            CheckItem(
                item.id,
                item.label,
                status,
                tuple(sorted({f.rule for f in mine})),
                len(mine),
                gaps,
            )
        )
    columns = tuple((r.id, r.label, r.required) for r in profile.requirements)
    return DocumentsMatrix(profile.name, columns, tuple(out), tuple(checklist))
