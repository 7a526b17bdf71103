"""Verify a bundle offline, from the zip alone and the operator's verifier key.

The steps of :func:`verify_bundle` (each a method of :class:`_BundleCheck`):

1. open the zip safely (:func:`provenance.bundle.zipsafe.read_zip`);
2. read ``manifest.json`` strictly against its whole schema (:mod:`.manifest`);
   verify the checkpoint's signature by the operator key. A checkpoint that
   does not verify ends the verification: nothing it says is used, and no
   leaf is parsed;
3. each leaf: its hash equals the manifest's ``leaf_hash``; its seq is below
   the checkpoint size (its own finding); its inclusion proof verifies against
   the checkpoint's root and size. A leaf that fails is never parsed and is
   left out of what follows; members the manifest does not list are flagged;
4. each document's SHA-256 equals its name (:mod:`.documents`);
5. the subject (:mod:`.subject`: pinned by an entry number or a lot, or the
   manifest's unsigned claim). Every provenance rule is rerun over the proven leaves
   (:func:`provenance.verify.verify_entries`), plus the ``DOCUMENT`` findings
   for cited documents the bundle does not produce (:mod:`provenance.documents`,
   the same as ``custody verify`` against a document store); a document the
   manifest lists as included but that is absent is ``INTEGRITY``;
6. ``report.json`` and ``report.html`` are never believed
   (:mod:`provenance.bundle.compare`).

Every mismatch of the bundle itself is an ``INTEGRITY`` finding naming the member.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger import merkle
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint, parse_verifier_key
from ledger.errors import CustodyError, InputError, UnsafeBundleError
from provenance.bundle.compare import compare_reports
from provenance.bundle.documents import check_references, intact_documents
from provenance.bundle.export import batch, require_import
from provenance.bundle.manifest import (
    DOC_NAME,
    INTEGRITY,
    LEAF_NAME,
    MANIFEST,
    REPORT_HTML,
    REPORT_JSON,
    Manifest,
    ManifestEntry,
    ManifestError,
    parse_manifest,
)
from provenance.bundle.results import BundleVerification, SubjectSource
from provenance.bundle.subject import pin_subject
from provenance.bundle.zipsafe import DEFAULT_LIMITS, ZipLimits, read_zip
from provenance.documents import CitedDocument, referenced_documents, with_documents
from provenance.rules.base import Severity
from provenance.screening import ScreeningData
from provenance.verify import Finding, Report, verdict_of, verify_entries
from provenance.yields import YieldTable

__all__ = ["verify_bundle"]

log = logging.getLogger(__name__)

_SHOWN_PER_KIND = 20
"""Findings of one kind (say, failing proofs) named one by one before a summary."""
_RULE_CRASHES: tuple[type[Exception], ...] = (AssertionError, AttributeError, LookupError)
_RULE_CRASHES += (TypeError, ValueError, ArithmeticError, RecursionError)


def verify_bundle(
    path: Path,
    *,
    operator_key: str | None = None,
    entry_number: str | None = None,
    lot: str | None = None,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    limits: ZipLimits = DEFAULT_LIMITS,
) -> BundleVerification:
    """Verify the bundle at ``path`` offline (steps: see the module docstring).

    ``operator_key`` is the operator's verifier key (``<origin>+<8 hex>+<base64>``),
    obtained out of band; without it the manifest's key is used (``pinned=False``).
    ``entry_number`` and ``lot`` pin what is verified (:mod:`.subject`). Raises
    only for a bad ``operator_key`` or an unreadable path.
    """
    key = None if operator_key is None else operator_key.strip()
    verifier = None if key is None else parse_verifier_key(key)
    if not path.is_file():
        raise InputError(f"{path}: no such bundle file", code="invalid_input.file")
    check = _BundleCheck(path, key, verifier, screening, yields, limits)
    check.wanted_entry, check.wanted_lot = entry_number, lot
    with batch():
        return check.run()


class _StopError(Exception):
    """Nothing more can be checked (the finding that says why is already recorded)."""


class _BundleCheck:
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

    def flag(
        self,
        kind: str,
        message: str,
        *,
        severity: Severity = "error",
        statements: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an INTEGRITY finding; past ``_SHOWN_PER_KIND`` of a kind, only count it."""
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= _SHOWN_PER_KIND:
            merged = {"check": kind, **(details or {})}
            self.findings.append(
                Finding(INTEGRITY, severity, message, list(statements), dict(merged))
            )

    def _summarise(self) -> None:
        for kind, n in self._counts.items():
            if n > _SHOWN_PER_KIND:
                severity: Severity = next(
                    (f.severity for f in self.findings if f.details.get("check") == kind),
                    "error",
                )
                message = f"… and {n - _SHOWN_PER_KIND} more {kind} problem(s) not listed"
                details = {"check": kind, "count": n}
                self.findings.append(Finding(INTEGRITY, severity, message, [], details))

    def run(self) -> BundleVerification:
        try:
            self.open_zip()
            self.read_manifest()
            self.check_checkpoint()
            self.check_leaves()
            self.check_document_hashes()
            self.choose_subject()
            self.rerun_rules()
            self.check_document_references()
            self.check_entry_number()
            compare_reports(self)
        except _StopError:
            pass
        self._summarise()
        findings = list(self.findings)
        rule_findings = list(self.report.findings) if self.report is not None else []
        everything = findings + rule_findings
        m = self.manifest
        return BundleVerification(
            subject=self.subject,
            entry_number=self.wanted_entry or (None if m is None else m.entry_number),
            verdict=verdict_of(everything),
            findings=tuple(everything),
            report=self.report,
            pinned=self.pinned,
            verifier_key=self.verified_key,
            checkpoint=self.checkpoint,
            entries=len(self.leaves),
            documents=len(self.documents),
            integrity=tuple(findings),
            subject_from=self.subject_from,
            manifest_subject=None if m is None else m.subject,
            manifest_entry_number=None if m is None else m.entry_number,
        )

    # step 1
    def open_zip(self) -> None:
        try:
            self.members = read_zip(self.path, self.limits)
        except UnsafeBundleError as e:
            self.flag(
                "zip",
                f"{e.member}: {e.reason}; the bundle was refused and nothing in it was read",
                details={"member": e.member},
            )
            raise _StopError from e

    # step 2a
    def read_manifest(self) -> None:
        raw = self.members.get(MANIFEST)
        if raw is None:
            self.flag("manifest", f"{MANIFEST}: missing from the bundle")
            raise _StopError
        try:
            self.manifest = parse_manifest(raw)
        except ManifestError as e:
            self.flag("manifest", f"{MANIFEST}: {e}")
            raise _StopError from e

    # step 2b
    def check_checkpoint(self) -> None:
        assert self.manifest is not None
        named_key = self.manifest.verifier_key
        if self.verifier is None:
            try:
                self.verifier = parse_verifier_key(named_key)
            except CustodyError as e:
                self.flag(
                    "checkpoint",
                    f"{MANIFEST}: the operator verifier key in the bundle is malformed "
                    f"({e.message})",
                )
                raise _StopError from e
        try:
            self.checkpoint = open_checkpoint(self.manifest.checkpoint, self.verifier)
        except CustodyError as e:
            label = f"{self.verifier.name}+{self.verifier.key_hash.hex()}"
            named = named_key.partition("+")[0]
            hint = "" if named == self.verifier.name else f" (the manifest names key {named!r})"
            self.flag(
                "checkpoint",
                f"{MANIFEST}: the checkpoint is not validly signed by the operator key {label}"
                f"{hint}: {e.message}; nothing it says was used and no leaf was read",
                details={"code": e.code},
            )
            raise _StopError from e
        self.verified_key = self.key if self.pinned else named_key

    # step 3
    def check_leaves(self) -> None:
        assert self.checkpoint is not None
        assert self.manifest is not None
        listed: set[str] = set()
        for entry in self.manifest.entries:
            seq = entry.seq
            name = f"leaves/{seq}.json"
            where = {"check": "leaf", "seq": seq, "member": name}
            if entry.path != name:
                self.flag(
                    "leaf",
                    f"{MANIFEST}: the entry for seq {seq} points at {entry.path!r}, not {name}",
                    details=where,
                )
            elif name in listed:
                self.flag("leaf", f"{MANIFEST}: seq {seq} is listed twice", details=where)
            else:
                listed.add(name)
                self._check_leaf(entry, name, where)
        for name in sorted(self.members, key=_member_order):
            if name in listed or name in (MANIFEST, REPORT_JSON, REPORT_HTML):
                continue
            if DOC_NAME.fullmatch(name):
                continue
            what = (
                "not listed in the manifest"
                if LEAF_NAME.fullmatch(name)
                else "not a member a bundle holds"
            )
            self.flag(
                "member", f"{name}: {what}; ignored", details={"check": "member", "member": name}
            )

    def _check_leaf(self, entry: ManifestEntry, name: str, where: Mapping[str, Any]) -> None:
        assert self.checkpoint is not None
        size, root, seq = self.checkpoint.size, self.checkpoint.root, entry.seq
        data = self.members.get(name)
        if data is None:
            self.flag(
                "leaf", f"{name}: listed in the manifest but missing from the bundle", details=where
            )
            return
        computed = merkle.leaf_hash(data)
        if computed.hex() != entry.leaf_hash:
            self.flag(
                "leaf",
                f"{name}: leaf hash does not match the manifest",
                details={**where, "expected": entry.leaf_hash, "actual": computed.hex()},
            )
            return
        if seq >= size:
            self.flag(
                "seq",
                f"{MANIFEST}: seq {seq} is not below the checkpoint's tree size {size}: "
                "the checkpoint cannot include it",
                details={**where, "check": "seq", "size": size},
            )
            return
        try:
            merkle.verify_inclusion(
                computed, seq, size, [bytes.fromhex(h) for h in entry.proof], root
            )
        except CustodyError as e:
            self.flag(
                "proof",
                f"{MANIFEST}: inclusion proof for seq {seq} does not verify against the "
                f"checkpoint ({e.message})",
                details={**where, "check": "proof"},
            )
            return
        self.leaves[seq] = data

    # step 4
    def check_document_hashes(self) -> None:
        self.documents = intact_documents(self.members, self.flag)

    # step 5a
    def choose_subject(self) -> None:
        assert self.manifest is not None
        entry, lot = self.wanted_entry, self.wanted_lot
        pinned = pin_subject(self.leaves, self.manifest.subject, entry, lot)
        self.subject, self.subject_from = pinned.subject, pinned.source
        if pinned.problem is not None:
            details = {"entry_number": entry, "lots": list(pinned.lots)}
            self.flag("subject", pinned.problem, details=details)
            raise _StopError

    # step 5b
    def rerun_rules(self) -> None:
        subject = self.subject or ""
        leaves = [(seq, self.leaves[seq]) for seq in sorted(self.leaves)]
        try:
            report = verify_entries(leaves, subject, screening=self.screening, yields=self.yields)
        except CustodyError as e:
            self.flag(
                "subject",
                f"{MANIFEST}: subject {subject!r} cannot be verified from the leaves: {e.message}",
                details={"code": e.code},
            )
            raise _StopError from e
        except _RULE_CRASHES as e:
            # A bundle is hostile input: evidence the rules choke on is a failed
            # verification, never a crash (and a bug to report, hence the log).
            log.exception("provenance rules failed on the leaves of %s", self.path)
            self.flag(
                "subject",
                f"{MANIFEST}: the provenance rules could not be run over the leaves of subject "
                f"{subject!r} ({type(e).__name__}: {e}); the evidence is incomplete or corrupt",
                details={"exception": type(e).__name__},
            )
            raise _StopError from e
        self.refs = referenced_documents(report.statements)
        assert self.manifest is not None
        listed = {d.sha256 for d in self.manifest.documents}
        # produced: a member (a wrong hash was flagged in step 4), or listed as
        # included but absent (flagged as INTEGRITY in check_document_references)
        self.report = with_documents(
            report, lambda sha: f"documents/{sha}" in self.members or sha in listed
        )

    # step 5c
    def check_document_references(self) -> None:
        assert self.manifest is not None
        listed = {d.sha256 for d in self.manifest.documents}
        self.documents = check_references(
            self.documents, self.refs, listed, self.members, self.flag
        )

    # step 5d
    def check_entry_number(self) -> None:
        assert self.report is not None
        assert self.manifest is not None
        said = self.manifest.entry_number
        if said is None or self.subject_from != "manifest":
            return  # the verifier pinned the subject; the manifest's claim is not used
        try:
            require_import(self.report.statements, self.subject or "", said)
        except InputError as e:
            self.flag("entry", f"{MANIFEST}: entry number {said!r}: {e.message}")


def _member_order(name: str) -> tuple[int, int, str]:
    m = LEAF_NAME.fullmatch(name)
    if m:
        return (1, int(m.group(1)), "")
    return (0 if name == MANIFEST else 2, 0, name)
