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
``EVIDENCE``              gap         :mod:`.trade` (the profile, :mod:`.profile`)
``PAYMENT``               error       :mod:`.trade`
``INVOICE-QUANTITY``      error       :mod:`.trade`
``LAB-TEST``              error/warn  :mod:`.labs`
``CAPACITY``              warning     :mod:`.labs`
``DOCUMENT``              gap / info  :mod:`provenance.documents`
========================  ==========  ================================

Which documents concern which hand-off is :mod:`.handoffs`; the document policy
profile a verification uses (:data:`.profile.DEFAULT_PROFILE`, ``cbp-uflpa``)
travels on the :class:`~provenance.rules.base.Context`.

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
from provenance.rules.labs import CapacityRule, LabTestRule
from provenance.rules.profile import DEFAULT_PROFILE, Profile, default_profile, load_profile
from provenance.rules.quantities import MassRule, YieldRule
from provenance.rules.risk import HighRiskRegionRule, ListedEntityRule
from provenance.rules.timing import TimeOrderRule
from provenance.rules.trade import EvidenceRule, InvoiceQuantityRule, PaymentRule

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_RULES",
    "RULE_IDS",
    "SEVERITIES",
    "CapacityRule",
    "Context",
    "CorroborationRule",
    "CustodyRule",
    "EvidenceRule",
    "Finding",
    "HighRiskRegionRule",
    "IntegrityRule",
    "InvoiceQuantityRule",
    "LabTestRule",
    "ListedEntityRule",
    "MassRule",
    "OverdrawRule",
    "PaymentRule",
    "Profile",
    "Rule",
    "Severity",
    "SignatureRule",
    "TimeOrderRule",
    "UntracedRule",
    "YieldRule",
    "default_profile",
    "load_profile",
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
    PaymentRule(),
    InvoiceQuantityRule(),
    LabTestRule(),
    UntracedRule(),
    EvidenceRule(),
    YieldRule(),
    CapacityRule(),
    CorroborationRule(),
)

RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in DEFAULT_RULES)
