"""What every rule shares (SPEC §6): findings, the rule interface, the context.

A rule is an object with an ``id`` (the SPEC §6 rule id), a ``severity``
(that of its main finding) and ``check(ctx)``, which yields
:class:`Finding` values naming the digests of the statements involved.
A rule reads the :class:`Context` (the parsed evidence, the recomputed
trace, the replay through the custody state machine, the composition and
the screening and yield data) and never touches storage.

Severities, strongest first: ``error`` (the verdict is ``fail``), ``gap``
(``incomplete``), ``warning`` and ``info`` (reported only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from provenance.composition import Composition
from provenance.graph import ParsedEntry, Trace
from provenance.replay import Rejection, Replay
from provenance.rules.profile import Profile, default_profile
from provenance.screening import ScreeningData
from provenance.yields import YieldTable

__all__ = [
    "SEVERITIES",
    "Context",
    "Finding",
    "Rule",
    "RuleBase",
    "Severity",
    "rejection_rule",
]

Severity = Literal["error", "gap", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "gap", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One finding: a rule id, a severity, a message, the statements involved."""

    rule: str
    severity: Severity
    message: str
    statements: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"rule", "severity", "message", "statements", "details"}`` (SPEC §10)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "statements": list(self.statements),
            "details": self.details,
        }


@dataclass
class Context:
    """Everything a rule may read."""

    subject: str
    entries: Mapping[int, ParsedEntry]
    trace: Trace
    replay: Replay
    composition: Composition
    screening: ScreeningData
    yields: YieldTable
    problems: list[Finding] = field(default_factory=list)
    """INTEGRITY problems found while reading the leaves and their chain."""
    profile: Profile = field(default_factory=default_profile)
    """The document policy profile (:mod:`provenance.rules.profile`)."""
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    """What several rules derive once (the documents per hop, :mod:`.handoffs`)."""


class Rule(Protocol):
    """A verification rule."""

    @property
    def id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    def check(self, ctx: Context) -> Iterable[Finding]: ...


class RuleBase:
    """Convenience base: ``finding()`` fills in the rule id and severity."""

    id: ClassVar[str] = ""
    severity: ClassVar[Severity] = "error"

    def finding(
        self,
        message: str,
        statements: Iterable[str] = (),
        *,
        severity: Severity | None = None,
        **details: Any,
    ) -> Finding:
        return Finding(
            self.id,
            severity or self.severity,
            message,
            list(dict.fromkeys(statements)),
            details,
        )


# Which rule a refusal of the custody state machine belongs to.
_REJECTION_RULES: Mapping[str, str] = {
    "rejected.not_held": "CUSTODY",
    "rejected.unknown_lot": "CUSTODY",
    "rejected.unknown_dispatch": "CUSTODY",
    "rejected.not_addressee": "CUSTODY",
    "rejected.duplicate_lot": "CUSTODY",
    "rejected.unit_dimension": "CUSTODY",
    "rejected.unknown_party": "CUSTODY",
    "rejected.self_dispatch": "CUSTODY",
    "rejected.overdraw": "OVERDRAW",
    "rejected.receipt_exceeds_dispatch": "OVERDRAW",
    "rejected.duplicate_receipt": "OVERDRAW",
    "rejected.future_time": "TIME-ORDER",
}

_KEY_STATEMENTS = frozenset({"party", "key", "revoke"})


def rejection_rule(rejection: Rejection) -> str:
    """The rule id of a refusal.

    ``bad_signature.*`` and any refusal of a ``party`` / ``key`` / ``revoke``
    statement (which decide whose keys are trusted) are SIGNATURE; a
    ``not_held`` draw by a party that held the lot before and used it up is
    OVERDRAW (double-spending); then by code (see the table above); anything
    else about custody is CUSTODY.
    """
    code = rejection.code
    if code.startswith(("bad_signature", "invalid_key")) or rejection.type in _KEY_STATEMENTS:
        return "SIGNATURE"
    if code == "rejected.not_held" and rejection.details.get("exhausted"):
        return "OVERDRAW"
    return _REJECTION_RULES.get(code, "CUSTODY")


def rejections_for(ctx: Context, rule: str) -> list[Rejection]:
    """The replay's refusals that belong to ``rule``."""
    return [r for r in ctx.replay.rejections if rejection_rule(r) == rule]
