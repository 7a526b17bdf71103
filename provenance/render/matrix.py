"""The documents-per-hop matrix and the checklist as plain text, from the report's JSON
(``documents`` of :meth:`provenance.verdict.Report.to_json`, built by
:mod:`provenance.rules.matrix`), so a local and a server report print alike."""

from __future__ import annotations

from typing import Any

__all__ = ["MARKS", "matrix_text"]

MARKS = {
    "present": "ok",
    "missing": "MISSING",
    "inconsistent": "INCONSISTENT",
    "not_required": "-",
    "n/a": "",
}


def _cell(cell: dict[str, Any]) -> str:
    mark = MARKS.get(str(cell.get("status")), str(cell.get("status")))
    numbers = [str(d.get("number") or d.get("name")) for d in cell.get("documents") or []]
    return f"{mark} {', '.join(numbers)}".strip() if mark in ("ok", "INCONSISTENT") else mark


def matrix_text(doc: dict[str, Any]) -> str:
    """The matrix (one block per row) and the checklist, as text lines."""
    columns = doc.get("columns") or []
    lines = [f"Documents per hop (profile {doc.get('profile')}):"]
    rows = doc.get("rows") or []
    if not rows:
        lines.append("  (no hand-offs or transforms)")
    for row in rows:
        lines.append(f"  {row.get('title')}")
        cells = row.get("cells") or {}
        for col in columns:
            cell = cells.get(col["id"]) or {}
            if cell.get("status") == "n/a":
                continue
            need = "" if col.get("required") else " (optional)"
            lines.append(f"      {col['label']}{need}: {_cell(cell)}")
    checklist = doc.get("checklist") or []
    if checklist:
        lines.append("Checklist:")
        for item in checklist:
            status = str(item.get("status")).upper()
            extra = []
            if item.get("rules"):
                extra.append(", ".join(item["rules"]))
            if item.get("missing_documents"):
                extra.append(f"{item['missing_documents']} document(s) missing")
            tail = f" ({'; '.join(extra)})" if extra else ""
            lines.append(f"  [{status:>7}] {item.get('label')}{tail}")
    return "\n".join(lines) + "\n"
