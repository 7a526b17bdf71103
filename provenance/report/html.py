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

The modules of this package, one concern each:

* :mod:`~provenance.report.view`: the custody steps, from the verifier's trace
  (:class:`provenance.trace.Trace`) and the report's findings;
* :mod:`~provenance.report.flowchart` and :mod:`~provenance.report.layout`: the flow
  chart's boxes and arrows, and their layout by tier;
* :mod:`~provenance.report.massbalance`: kilograms in and out of each transform;
* :mod:`~provenance.report.model`, :mod:`~provenance.report.format`: the view's values
  and how quantities, places and times are written;
* this module: the Jinja2 environment and :func:`render_report`, the entry point;
  ``templates/report.html.j2`` is the page.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import jinja2

from ledger.checkpoint import Checkpoint
from provenance.report.flowchart import chart
from provenance.report.format import fmt_kg, fmt_share, place_name, short
from provenance.report.massbalance import balances
from provenance.report.model import SEVERITY_ORDER, DocumentRef
from provenance.report.view import View
from provenance.verify import Report

__all__ = ["DocumentRef", "render_report"]

MAX_KEY_FINDINGS: Final = 8
COMPACT_STEPS: Final = 150
"""Above this many custody steps they are listed as a table rather than one card each."""
MAX_OTHERS: Final = 300
"""Rows of the "other statements" table; the rest are counted by type."""


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
    view = View(report, entry_number, documents)
    findings = sorted(report.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.rule))
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.severity] += 1
    key_findings = [f for f in findings if f.severity in ("error", "gap")][:MAX_KEY_FINDINGS]
    imp = view.imports[0] if view.imports else None
    others = view.others()
    subject_material = view.material_of(report.subject)
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
        "chart": chart(view),
        "balances": balances(view),
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
