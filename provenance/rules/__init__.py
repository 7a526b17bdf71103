"""Provenance rules (SPEC §6), one module per rule family.

========================  ==========  ================================
rule                      severity    module
========================  ==========  ================================
``INTEGRITY``             error       :mod:`.authenticity`
``SIGNATURE``             error       :mod:`.authenticity`
``CUSTODY``               error       :mod:`.custody`
``OVERDRAW``              error       :mod:`.custody`
``MASS``                  error       :mod:`.quantities` (gap when it cannot weigh)
``TIME-ORDER``            error       :mod:`.timing`
``HIGH-RISK-REGION``      error       :mod:`.risk`
``LISTED-ENTITY``         error       :mod:`.risk`
``UNTRACED``              gap         :mod:`.coverage`
``YIELD``                 warning     :mod:`.quantities`
``CORROBORATION``         info        :mod:`.coverage`
``DOCUMENT``              gap / info  :mod:`provenance.documents`
========================  ==========  ================================

``DOCUMENT`` (a cited document that is not produced; ``info`` when only
parties outside the custody path cite it) is not in :data:`DEFAULT_RULES`:
whether a document is produced depends on where verification runs (the home's
document store, a bundle's ``documents/``), which the leaves alone cannot say,
so :func:`provenance.documents.with_documents` adds it around
:func:`provenance.verify.verify_entries`.

A rule is an object with ``id``, ``severity`` and ``check(ctx)`` yielding
:class:`~provenance.rules.base.Finding` values; :data:`DEFAULT_RULES` is the
list :func:`provenance.verify.verify_entries` runs. Adding a rule touches
one module and this list.
"""

from __future__ import annotations

from provenance.rules.authenticity import IntegrityRule, SignatureRule
from provenance.rules.base import SEVERITIES, Context, Finding, Rule, Severity
from provenance.rules.coverage import CorroborationRule, UntracedRule
from provenance.rules.custody import CustodyRule, OverdrawRule
from provenance.rules.quantities import MassRule, YieldRule
from provenance.rules.risk import HighRiskRegionRule, ListedEntityRule
from provenance.rules.timing import TimeOrderRule

__all__ = [
    "DEFAULT_RULES",
    "RULE_IDS",
    "SEVERITIES",
    "Context",
    "CorroborationRule",
    "CustodyRule",
    "Finding",
    "HighRiskRegionRule",
    "IntegrityRule",
    "ListedEntityRule",
    "MassRule",
    "OverdrawRule",
    "Rule",
    "Severity",
    "SignatureRule",
    "TimeOrderRule",
    "UntracedRule",
    "YieldRule",
]

DEFAULT_RULES: tuple[Rule, ...] = (
    IntegrityRule(),
    SignatureRule(),
    CustodyRule(),
    OverdrawRule(),
    MassRule(),
    TimeOrderRule(),
    HighRiskRegionRule(),
    ListedEntityRule(),
    UntracedRule(),
    YieldRule(),
    CorroborationRule(),
)

RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in DEFAULT_RULES)
