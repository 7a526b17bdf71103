"""Verify a bundle offline, from the zip alone and the operator's verifier key.

The steps of :func:`verify_bundle` (steps 1–3 in :mod:`.proofs`,
the rest methods of :class:`_BundleCheck`; findings gather in :mod:`.state`):

1. open the zip safely (:func:`provenance.bundle.zipsafe.read_zip`);
2. read ``manifest.json`` strictly against its whole schema (:mod:`.manifest`);
   verify the checkpoint's signature by the operator key. A checkpoint that
   does not verify ends the verification: nothing it says is used, and no
   leaf is parsed. Later checkpoints the bundle carries must be signed by the
   same key and proven consistent with it (:mod:`.consistency`). With trusted
   witnesses, count their cosignatures on it and on those later checkpoints
   against the quorum (:mod:`.quorum`);
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
   (:mod:`provenance.bundle.compare`): ``report.json`` is compared with the
   recomputed report; ``report.html`` only when asked (``check_html``).

Every mismatch of the bundle itself is an ``INTEGRITY`` finding naming the member.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ledger.checkpoint import parse_verifier_key
from ledger.errors import CustodyError, InputError
from ledger.sigcheck import PARALLEL_MIN, shared_pool
from provenance.bundle.compare import compare_reports
from provenance.bundle.consistency import check_consistency
from provenance.bundle.documents import check_references, intact_documents
from provenance.bundle.manifest import LEAF_NAME, MANIFEST
from provenance.bundle.proofs import check_checkpoint, check_leaves, open_zip, read_manifest
from provenance.bundle.quorum import check_quorum, parse_witnesses
from provenance.bundle.results import BundleVerification
from provenance.bundle.shared import batch, require_import
from provenance.bundle.state import BundleState, StopError
from provenance.bundle.subject import pin_subject
from provenance.bundle.zipsafe import DEFAULT_LIMITS, ZipLimits
from provenance.documents import referenced_documents, with_documents
from provenance.rules.profile import Profile
from provenance.screening import ScreeningData
from provenance.verify import verdict_of, verify_entries
from provenance.yields import YieldTable

__all__ = ["verify_bundle"]

log = logging.getLogger(__name__)

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
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
    profile: Profile | None = None,
    check_html: bool = True,
) -> BundleVerification:
    """Verify the bundle at ``path`` offline (steps: see the module docstring).

    ``operator_key`` is the operator's verifier key (``<origin>+<8 hex>+<base64>``),
    obtained out of band; without it the manifest's key is used (``pinned=False``).
    ``entry_number`` and ``lot`` pin what is verified (:mod:`.subject`).
    ``witnesses`` (cosigner verifier keys) and ``quorum`` (default: all of them)
    require witness cosignatures on the checkpoint (:mod:`.quorum`). ``profile`` is
    the verifier's document policy (default ``cbp-uflpa``; never the manifest's).
    ``check_html`` also renders the verified report and compares ``report.html`` with it
    (:mod:`.compare`; on by default, ``check_html=False`` skips the rendering:
    ``report.json`` is always compared). Raises only
    for a bad ``operator_key``, a bad witness key or quorum, or an unreadable path.
    """
    key = None if operator_key is None else operator_key.strip()
    verifier = None if key is None else parse_verifier_key(key)
    if not path.is_file():
        raise InputError(f"{path}: no such bundle file", code="invalid_input.file")
    trusted, wanted = parse_witnesses(witnesses, quorum)
    check = _BundleCheck(path, key, verifier, screening, yields, limits)
    check.witnesses, check.quorum = trusted, wanted
    check.wanted_entry, check.wanted_lot = entry_number, lot
    check.profile = profile
    check.check_html = check_html
    with batch():
        return check.run()


class _BundleCheck(BundleState):
    profile: Profile | None = None

    def run(self) -> BundleVerification:
        try:
            open_zip(self)
            start_workers(self.members)
            read_manifest(self)
            check_checkpoint(self)
            check_consistency(self)
            check_quorum(self)
            check_leaves(self)
            self.check_document_hashes()
            self.choose_subject()
            self.rerun_rules()
            self.check_document_references()
            self.check_entry_number()
            compare_reports(self)
        except StopError:
            pass
        self.summarise()
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
            witnesses=self.witness_check,
            html_checked=self.html_checked,
        )

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
            raise StopError

    # step 5b
    def rerun_rules(self) -> None:
        subject = self.subject or ""
        leaves = [(seq, self.leaves[seq]) for seq in sorted(self.leaves)]
        try:
            report = verify_entries(
                leaves, subject, screening=self.screening, yields=self.yields, profile=self.profile
            )
        except CustodyError as e:
            self.flag(
                "subject",
                f"{MANIFEST}: subject {subject!r} cannot be verified from the leaves: {e.message}",
                details={"code": e.code},
            )
            raise StopError from e
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
            raise StopError from e
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


def start_workers(members: dict[str, bytes]) -> None:
    """Start the signature workers now if the bundle holds many leaves.

    Their start-up (a fresh ``custody bundle verify`` process has none running)
    then overlaps the reading of the manifest and the proofs, instead of the first
    signature checks of step 5 waiting for it (:func:`ledger.sigcheck.shared_pool`,
    as :func:`provenance.verify.verify_entries` would start them). A small bundle
    starts nothing.
    """
    leaves = sum(1 for name in members if LEAF_NAME.fullmatch(name))
    if leaves > PARALLEL_MIN:
        shared_pool()
