"""The outcome of verifying a lot: :class:`Report`, its verdict, and the raising helper.

:func:`verdict_of` turns findings into the verdict (step 7 of
:mod:`provenance.verify`): ``fail`` if any error, else ``incomplete`` if any gap,
else ``pass``. :class:`Report` is the non-raising result (SPEC §10 as
:meth:`Report.to_json`); :func:`ensure_pass` raises :class:`VerificationError`
unless the verdict is ``pass``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from ledger.errors import CustodyError
from ledger.statements import Statement
from provenance.composition import Share
from provenance.graph import ParsedEntry, Trace
from provenance.retracted import Retracted
from provenance.rules.base import SEVERITIES, Finding
from provenance.rules.matrix import DocumentsMatrix
from provenance.rules.profile import Profile

if TYPE_CHECKING:  # loaded when a graph is first built
    import networkx as nx

__all__ = ["Report", "Verdict", "VerificationError", "ensure_pass", "verdict_of"]

Verdict = Literal["pass", "incomplete", "fail"]

_SIX = Decimal("0.000001")


# --------------------------------------------------------------------------- report


def _number(value: Decimal) -> float:
    """A share as a JSON number rounded to 6 decimals (SPEC §10)."""
    return float(value.quantize(_SIX, rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Report:
    """The outcome of verifying one subject lot."""

    subject: str
    verdict: Verdict
    findings: list[Finding]
    composition: list[Share]
    untraced_share: Decimal
    statements: dict[int, Statement]
    """seq → the parsed statement, for every entry of the evidence that parsed and is in
    force (not retracted, not a ``retract``; see :attr:`retracted`)."""
    screening_version: str
    yields_version: str
    import_entries: list[str] = field(default_factory=list)
    """CBP entry numbers of the ``import`` statements of the subject, in seq order."""
    received_at: dict[int, datetime] = field(default_factory=dict)
    """seq → the entry's ledger time (``received_at`` of its leaf)."""
    entries: dict[int, ParsedEntry] = field(default_factory=dict, repr=False)
    """seq → the parsed entry (statement, signatures, ledger time, leaf hash)."""
    graph_builder: Callable[[], nx.DiGraph[str]] | None = field(
        default=None, repr=False, compare=False
    )
    """Builds :attr:`graph` on first use (verification itself does not need it)."""
    trace: Trace | None = field(default=None, repr=False, compare=False)
    """The subject's trace the verification walked (None: recompute it from ``entries``)."""
    retracted: list[Retracted] = field(default_factory=list)
    """Statements of the evidence voided by a later one of their issuer (left out of the
    trace, the rules and the composition; still in ``statements`` and ``entries``)."""
    profile: Profile | None = field(default=None, repr=False, compare=False)
    """The document policy profile the verification used."""
    documents_matrix: DocumentsMatrix | None = field(default=None, repr=False, compare=False)
    """Documents per hop and the checklist (:mod:`provenance.rules.matrix`)."""

    def custody_trace(self) -> Trace:
        """:attr:`trace`, or the trace recomputed from :attr:`entries` when none was kept."""
        return self.trace or Trace.of(self.entries.values(), self.subject)

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        """The provenance graph (:mod:`provenance.graph`), nodes flagged by the findings."""
        if self.graph_builder is None:
            import networkx as nx

            return nx.DiGraph(subject=self.subject)
        return self.graph_builder()

    def to_json(self) -> dict[str, Any]:
        """SPEC §10: ``subject, verdict, findings, composition, untraced_share`` (+ versions)."""
        return {
            "subject": self.subject,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "composition": [
                {
                    "country": s.country,
                    "subdivision": s.subdivision,
                    "material": s.material,
                    "share": _number(s.share),
                }
                for s in self.composition
            ],
            "untraced_share": _number(self.untraced_share),
            "screening_version": self.screening_version,
            "yields_version": self.yields_version,
            "retracted": [r.to_json() for r in self.retracted],
            "profile": None if self.profile is None else self.profile.name,
            "documents": None if self.documents_matrix is None else self.documents_matrix.to_json(),
        }

    def by_severity(self) -> dict[str, list[Finding]]:
        """Findings grouped by severity, strongest first (every severity present as a key)."""
        return {s: [f for f in self.findings if f.severity == s] for s in SEVERITIES}


class VerificationError(CustodyError):
    """Raised by :func:`ensure_pass` when a verdict is not ``pass``.

    ``code`` is ``verification.fail`` or ``verification.incomplete``; the
    report is on ``.report``.
    """

    code = "verification"

    def __init__(self, report: Report) -> None:
        counts = {s: len(fs) for s, fs in report.by_severity().items() if fs}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"
        first = next((f for f in report.findings if f.severity in ("error", "gap")), None)
        message = f"verification of lot {report.subject!r} is {report.verdict} ({summary})"
        if first is not None:
            message += f": {first.rule}: {first.message}"
        super().__init__(
            message,
            code=f"verification.{report.verdict}",
            details={"subject": report.subject, "verdict": report.verdict, "counts": counts},
        )
        self.report = report


def ensure_pass(report: Report) -> Report:
    """Return ``report`` if its verdict is ``pass``, else raise :class:`VerificationError`."""
    if report.verdict != "pass":
        raise VerificationError(report)
    return report


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """Step 7: ``fail`` if any error, else ``incomplete`` if any gap, else ``pass``."""
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "fail"
    if "gap" in severities:
        return "incomplete"
    return "pass"
