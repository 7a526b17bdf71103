"""The console's view of one verification report: the HTML report's own view model.

:class:`ReportView` takes the :class:`provenance.verify.Report` that
``/v1/lots/{lot}/verify`` returns (or that offline bundle verification recomputed)
and the report's own custody view (:class:`provenance.report.view.View`) and flow
chart (:func:`provenance.report.flowchart.chart`, laid out by tier); it only
regroups them for the console: the chart's boxes by tier (collapsible columns),
the findings grouped by rule, the composition as bars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from provenance.report.flowchart import chart
from provenance.report.format import place_name
from provenance.report.layout import Chart
from provenance.report.model import SEVERITY_ORDER, DocumentRef, Step
from provenance.report.view import View
from provenance.verify import Finding, Report

BAR_WIDTH = 320


@dataclass(frozen=True)
class RuleGroup:
    rule: str
    severity: str
    findings: list[Finding]


@dataclass(frozen=True)
class Bar:
    label: str
    material: str
    share: Decimal
    width: int
    risk: bool


class ReportView:
    """What a console page shows of one report (see the module docstring)."""

    def __init__(
        self,
        report: Report,
        *,
        entry_number: str | None = None,
        documents: Sequence[DocumentRef] = (),
    ) -> None:
        self.report = report
        self.view = View(report, entry_number, documents)
        self.chart: Chart = chart(self.view)
        self.steps: list[Step] = self.view.steps
        self.seq_of = self.view.seq_of

    @property
    def verdict(self) -> str:
        return self.report.verdict

    @property
    def subject(self) -> str:
        return self.report.subject

    @property
    def tiers(self) -> list[tuple[int, int, str]]:
        """(tier, x, label) of each column, left to right."""
        by_x = {n.x: n.tier for n in self.chart.nodes}
        out = []
        for x, label in self.chart.tiers:
            near = min(by_x, key=lambda nx: abs(nx + self.chart.w // 2 - x)) if by_x else x
            out.append((by_x.get(near, 0), x, label))
        return out

    def edge_tiers(self) -> list[tuple[int, int]]:
        """(source tier, target tier) of each arrow, in ``chart.edges`` order."""
        tier = {n.id: n.tier for n in self.chart.nodes}
        return [(tier.get(e.source, 0), tier.get(e.target, 0)) for e in self.chart.edges]

    @property
    def rule_groups(self) -> list[RuleGroup]:
        groups: dict[str, list[Finding]] = defaultdict(list)
        for f in self.report.findings:
            groups[f.rule].append(f)
        out = [
            RuleGroup(rule, min((f.severity for f in fs), key=_rank), fs)
            for rule, fs in groups.items()
        ]
        return sorted(out, key=lambda g: (_rank(g.severity), g.rule))

    @property
    def bars(self) -> list[Bar]:
        out = [
            Bar(
                place_name(s.country, s.subdivision),
                s.material,
                s.share,
                max(1, int(s.share * BAR_WIDTH)),
                s.subdivision == "CN-XJ",
            )
            for s in self.report.composition
        ]
        if self.report.untraced_share:
            share = self.report.untraced_share
            out.append(Bar("Untraced", "", share, max(1, int(share * BAR_WIDTH)), False))
        return out

    def statements(self) -> list[tuple[int, str, str, str]]:
        """(seq, digest, type, issuer) of every statement of the evidence."""
        return [(seq, s.digest, s.type, s.issuer) for seq, s in self.view.stmts.items()]


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, 9)
