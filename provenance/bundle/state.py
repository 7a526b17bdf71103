"""What an offline bundle verification has found so far (:mod:`provenance.bundle.verify`).

:class:`BundleState` holds the members read, the manifest, the verified
checkpoint, the proven leaves and the ``INTEGRITY`` findings; each step of the
verification reads and extends it. :class:`StopError` ends the verification
early (the finding that says why is already recorded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger.checkpoint import Checkpoint, NoteVerifier
from ledger.cosignature import CosignerVerifier
from ledger.rotation import Rotation
from provenance.bundle.manifest import INTEGRITY, Manifest
from provenance.bundle.results import SubjectSource, WitnessCheck
from provenance.bundle.zipsafe import ZipLimits
from provenance.documents import CitedDocument
from provenance.rules.base import Severity
from provenance.screening import ScreeningData
from provenance.verify import Finding, Report
from provenance.yields import YieldTable

__all__ = ["SHOWN_PER_KIND", "BundleState", "StopError"]

SHOWN_PER_KIND = 20
"""Findings of one kind (say, failing proofs) named one by one before a summary."""


class StopError(Exception):
    """Nothing more can be checked (the finding that says why is already recorded)."""


class BundleState:
    def __init__(
        self,
        path: Path,
        key: str | None,
        verifier: NoteVerifier | None,
        screening: ScreeningData | None,
        yields: YieldTable | None,
        limits: ZipLimits,
    ) -> None:
        self.path = path
        self.pinned = verifier is not None
        self.verifier = verifier
        self.screening = screening
        self.yields = yields
        self.limits = limits
        self.findings: list[Finding] = []
        self._counts: dict[str, int] = {}
        self.members: dict[str, bytes] = {}
        self.manifest: Manifest | None = None
        self.wanted_entry: str | None = None
        self.wanted_lot: str | None = None
        self.subject: str | None = None
        self.subject_from: SubjectSource = "manifest"
        self.checkpoint: Checkpoint | None = None
        self.key = key
        self.verified_key: str | None = None
        self.leaves: dict[int, bytes] = {}
        self.refs: dict[str, CitedDocument] = {}
        self.documents: dict[str, bytes] = {}
        self.report: Report | None = None
        self.witnesses: tuple[CosignerVerifier, ...] = ()
        self.quorum = 0
        self.witness_check: WitnessCheck | None = None
        self.rotations: tuple[Rotation, ...] = ()  # operator key rotations followed
        self.later: list[tuple[int, str]] = []  # later checkpoints proven consistent (size, note)
        self.check_html = False  # render the verified report and compare report.html
        self.html_checked: bool | None = None  # None: the reports were not compared at all

    def flag(
        self,
        kind: str,
        message: str,
        *,
        severity: Severity = "error",
        statements: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an INTEGRITY finding; past ``SHOWN_PER_KIND`` of a kind, only count it."""
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= SHOWN_PER_KIND:
            merged = {"check": kind, **(details or {})}
            self.findings.append(
                Finding(INTEGRITY, severity, message, list(statements), dict(merged))
            )

    def summarise(self) -> None:
        """Add one summary finding per kind that had more than ``SHOWN_PER_KIND``."""
        for kind, n in self._counts.items():
            if n > SHOWN_PER_KIND:
                severity: Severity = next(
                    (f.severity for f in self.findings if f.details.get("check") == kind),
                    "error",
                )
                message = f"… and {n - SHOWN_PER_KIND} more {kind} problem(s) not listed"
                details = {"check": kind, "count": n}
                self.findings.append(Finding(INTEGRITY, severity, message, [], details))
