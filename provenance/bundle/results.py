"""What export and offline verification of a bundle hand back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ledger.checkpoint import Checkpoint
from ledger.errors import IntegrityError
from provenance.bundle.manifest import SPEC
from provenance.verify import Finding, Report, Verdict

__all__ = [
    "BundleSummary",
    "BundleVerification",
    "SubjectSource",
    "WitnessCheck",
    "checkpoint_json",
]

SubjectSource = Literal["entry_number", "lot", "manifest"]
"""Where the verified subject came from: the signed import statement of a CBP entry
number the verifier asked for, a lot the verifier named, or the bundle's unsigned
manifest (not pinned)."""


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}


@dataclass(frozen=True)
class WitnessCheck:
    """Which trusted witnesses cosigned the bundle's checkpoint, against the quorum."""

    quorum: int
    cosigned: tuple[tuple[str, int], ...]
    """(verifier key, cosignature time) of each witness counted."""
    invalid: tuple[str, ...]
    missing: tuple[str, ...]
    sizes: tuple[int | None, ...] = ()
    """Per cosigner counted: the size of the later checkpoint (proven consistent with
    the bundle's) it cosigned, or None for the bundle's own checkpoint."""

    @property
    def met(self) -> bool:
        return len(self.cosigned) >= self.quorum

    def to_json(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum,
            "met": self.met,
            "cosigned": [
                {"vkey": k, "name": k.split("+")[0], "time": _iso(t)}
                | ({} if size is None else {"checkpoint_size": size})
                for (k, t), size in zip(self.cosigned, self._sizes(), strict=True)
            ],
            "invalid": list(self.invalid),
            "missing": list(self.missing),
        }

    def _sizes(self) -> tuple[int | None, ...]:
        return self.sizes or (None,) * len(self.cosigned)


def _iso(t: int) -> str:
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(t)


@dataclass(frozen=True)
class BundleSummary:
    """What :func:`provenance.bundle.export_bundle` wrote."""

    path: Path
    subject: str
    entry_number: str | None
    checkpoint: Checkpoint
    entries: int
    documents: int
    missing_documents: tuple[str, ...]
    report: Report

    @property
    def verdict(self) -> str:
        return self.report.verdict

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "subject": self.subject,
            "entry_number": self.entry_number,
            "checkpoint": checkpoint_json(self.checkpoint),
            "entries": self.entries,
            "documents": self.documents,
            "missing_documents": list(self.missing_documents),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class BundleVerification:
    """The offline verdict on a bundle (non-raising; see :meth:`raise_for_verdict`).

    ``findings`` are the bundle's ``INTEGRITY`` findings followed by those of
    the provenance rules rerun over the leaves; ``verdict`` is recomputed over
    all of them (SPEC §6). ``pinned`` is False when the operator key came from
    the bundle itself, which then proves nothing about who signed it.
    ``subject`` is the lot verified and ``subject_from`` where it came from
    (``manifest`` means the unsigned manifest's claim: not pinned);
    ``entry_number`` is the entry number asked for, else the manifest's
    (unsigned) one; ``manifest_subject`` and ``manifest_entry_number`` are what
    the manifest claims.
    """

    subject: str | None
    entry_number: str | None
    verdict: Verdict
    findings: tuple[Finding, ...]
    report: Report | None
    pinned: bool
    verifier_key: str | None
    checkpoint: Checkpoint | None
    entries: int = 0
    documents: int = 0
    integrity: tuple[Finding, ...] = field(default=())
    subject_from: SubjectSource = "manifest"
    manifest_subject: str | None = None
    manifest_entry_number: str | None = None
    witnesses: WitnessCheck | None = None
    """The witness quorum asked for (``--witness``/``--quorum``), and who cosigned."""
    html_checked: bool | None = None
    """Whether ``report.html`` was compared with a rendering of the verified report
    (``check_html``); None when the stored reports were not compared at all."""

    @property
    def subject_pinned(self) -> bool:
        """True when the verifier said what to verify (``--entry-number`` or ``--lot``)."""
        return self.subject_from != "manifest"

    def to_json(self) -> dict[str, Any]:
        """``custody verify --json`` (SPEC §10) plus ``pinned``, ``checkpoint``, ``bundle``
        and ``verified`` (what was verified and whether the verifier pinned it)."""
        if self.report is not None:
            out = self.report.to_json()
        else:
            out = {
                "subject": self.subject,
                "verdict": self.verdict,
                "findings": [],
                "composition": [],
                "untraced_share": None,
            }
        out["findings"] = [f.to_json() for f in self.findings]
        out["verdict"] = self.verdict
        out["pinned"] = self.pinned
        out["checkpoint"] = None if self.checkpoint is None else checkpoint_json(self.checkpoint)
        out["verified"] = {
            "subject": self.subject,
            "from": self.subject_from,
            "subject_pinned": self.subject_pinned,
            "entry_number": self.entry_number if self.subject_from == "entry_number" else None,
            "manifest_subject": self.manifest_subject,
        }
        out["bundle"] = {
            "spec": SPEC,
            "entry_number": self.manifest_entry_number,
            "verifier_key": self.verifier_key,
            "entries": self.entries,
            "documents": self.documents,
            "integrity_findings": len(self.integrity),
            "report_html_checked": self.html_checked,
        }
        if self.witnesses is not None:
            out["witnesses"] = self.witnesses.to_json()
        return out

    def raise_for_verdict(self) -> None:
        """Raise :class:`IntegrityError` unless the verdict is ``pass``."""
        if self.verdict != "pass":
            first = self.findings[0].message if self.findings else "no findings"
            raise IntegrityError(
                f"bundle verdict is {self.verdict}: {first}",
                code=f"integrity.bundle_{self.verdict}",
                details={"verdict": self.verdict, "findings": len(self.findings)},
            )
