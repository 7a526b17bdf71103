"""Documents cited by the evidence, and evidence from outside the chain of custody.

A ``dispatch`` cites documents (``documents[]``) and an ``evidence`` statement
binds one (``document``); the ledger holds only their SHA-256. Whether the
bytes are *produced* depends on where verification runs: the home's document
store (``custody verify``, the API) or the bundle's ``documents/`` members
(``custody bundle verify``). Both ask the same question through a
:data:`Produced` callable, and :func:`with_documents` turns the answer into the
same ``DOCUMENT`` findings, so the live verdict and the bundle verdict agree.

Whose evidence counts (docs/verification.md, "Evidence from outside the chain"):

* a document cited by a party on the **custody path** (a party that held a
  traced lot on its way to the subject: :attr:`provenance.graph.Trace.holders`)
  is the importer's evidence; not produced, it is a ``DOCUMENT`` **gap**;
* a document cited only by parties **outside** the path (an auditor, a lab, a
  stranger making an allegation) is third-party evidence: not produced, it is a
  ``DOCUMENT`` **info** finding. It is reported, never counted against the
  chain: nobody can turn someone else's verdict into ``incomplete`` or ``fail``
  by naming documents that do not exist.

A produced document whose bytes do not hash to its name is something else: in a
bundle it is an ``INTEGRITY`` error (:mod:`provenance.bundle.verify`); in a
document store it is treated as not produced (and logged), exactly as export
leaves it out of the bundle.

For the same reason, a finding that concerns **only** outsiders' statements
(their ``evidence``, and the ``key`` / ``revoke`` history of their own keys) is
reported as ``info`` and never counted (:func:`third_party_as_info`); the one
exception is a typed ``lab_test`` by a party the operator registered with the
``lab`` role, whose ``LAB-TEST`` findings count (CBP asks for such tests): an
outsider who revokes its own key as compromised, back-dated, voids its own
evidence's signature, and that must not fail someone else's lot.
:func:`with_documents` applies both around
:func:`provenance.verify.verify_entries`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ledger.statements import Dispatch, Evidence, Key, Party, Revoke, Statement
from ledger.statements.evidence_models import LabTest
from provenance.rules.base import Finding, Severity
from provenance.trace import Trace
from provenance.verify import Report, flag_nodes, verdict_of

if TYPE_CHECKING:  # loaded when a graph is first built
    import networkx as nx

__all__ = [
    "DOCUMENT",
    "CitedDocument",
    "Produced",
    "StoreDocuments",
    "document_findings",
    "referenced_documents",
    "third_party_as_info",
    "with_documents",
]

log = logging.getLogger(__name__)

DOCUMENT: Final = "DOCUMENT"
_HEX64: Final = re.compile(r"[0-9a-f]{64}")

Produced = Callable[[str], bool]
"""sha256 hex → whether the document's bytes are at hand (and hash to it)."""


@dataclass
class CitedDocument:
    """A document cited by statements of the evidence: the first citation's name and
    kind, and the digests of every citing statement (in seq order)."""

    sha256: str
    name: str
    kind: str
    media_type: str | None = None
    size: int | None = None
    referenced_by: list[str] = field(default_factory=list)


def referenced_documents(statements: Mapping[int, Statement]) -> dict[str, CitedDocument]:
    """Documents named by ``dispatch.documents`` and ``evidence.document``, by hash.

    The first reference gives the name and kind; every referencing statement's
    digest is kept, in seq order.
    """
    refs: dict[str, CitedDocument] = {}
    for seq in sorted(statements):
        stmt = statements[seq]
        if isinstance(stmt, Dispatch):
            for d in stmt.documents:
                ref = refs.setdefault(d.sha256, CitedDocument(d.sha256, d.name, d.kind))
                ref.referenced_by.append(stmt.digest)
        elif isinstance(stmt, Evidence):
            doc = stmt.document
            ref = refs.setdefault(doc.sha256, CitedDocument(doc.sha256, doc.name, stmt.kind))
            ref.media_type = ref.media_type or doc.media_type
            ref.size = doc.size if ref.size is None else ref.size
            ref.referenced_by.append(stmt.digest)
    return refs


_INTACT: dict[tuple[str, int, int], bool] = {}
"""(path, mtime_ns, size) → whether the file hashes to its name (bounded, see below)."""
_INTACT_MAX = 100_000
_INTACT_LOCK = threading.Lock()


def _intact(path: Path, sha256: str) -> bool:
    """Whether the store file ``path`` exists and hashes to ``sha256`` (remembered per
    path, modification time and size, so the API does not rehash on every request)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _INTACT_LOCK:
        known = _INTACT.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as e:
        log.warning("document store: cannot read %s: %s", path, e)
        return False
    intact = digest.hexdigest() == sha256
    if not intact:
        log.warning("document store: %s does not hash to its name; not used", path)
    with _INTACT_LOCK:
        if len(_INTACT) >= _INTACT_MAX:
            _INTACT.clear()
        _INTACT[key] = intact
    return intact


class StoreDocuments:
    """A home's document store (``<home>/documents/<sha256>``) as a :data:`Produced`.

    A document is produced when its file exists and hashes to its name (a store
    file whose bytes do not match is logged and counts as not produced, as
    export leaves it out of the bundle).
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path | None:
        if self.directory is None or not _HEX64.fullmatch(sha256):
            return None
        return self.directory / sha256

    def read(self, sha256: str) -> bytes | None:
        """The document's bytes, or None when the store does not have them intact."""
        path = self._path(sha256)
        if path is None or not _intact(path, sha256):
            return None
        try:
            data = path.read_bytes()
        except OSError as e:
            log.warning("document store: cannot read %s: %s", path, e)
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def __call__(self, sha256: str) -> bool:
        path = self._path(sha256)
        return path is not None and _intact(path, sha256)


def document_findings(
    report: Report, produced: Produced, path: set[str] | None = None
) -> list[Finding]:
    """One ``DOCUMENT`` finding per cited document that is not produced (see the module doc)."""
    refs = referenced_documents(report.statements)
    if not refs:
        return []
    if path is None:
        path = report.custody_trace().path_parties()
    by_digest = {e.digest: e for e in report.entries.values()}
    findings: list[Finding] = []
    for sha, ref in sorted(refs.items()):
        if produced(sha):
            continue
        citers = [by_digest[d] for d in ref.referenced_by if d in by_digest]
        inside = [e for e in citers if e.issuer in path]
        cited = ", ".join(f"seq {e.seq} ({e.statement.type} by {e.issuer})" for e in citers)
        severity: Severity = "gap" if inside else "info"
        if inside:
            message = (
                f"document {ref.name!r} ({ref.kind}, sha256 {sha[:12]}…) cited by {cited} "
                "is not produced: the evidence it stands for cannot be checked"
            )
        else:
            message = (
                f"document {ref.name!r} ({ref.kind}, sha256 {sha[:12]}…) cited by {cited}, "
                "outside the custody path, is not produced: third-party evidence, reported "
                "and not counted"
            )
        findings.append(
            Finding(
                DOCUMENT,
                severity,
                message,
                list(ref.referenced_by),
                {
                    "document": sha,
                    "name": ref.name,
                    "kind": ref.kind,
                    "third_party": not inside,
                    "seqs": [e.seq for e in citers],
                },
            )
        )
    return findings


_RANK: Final = {"error": 0, "gap": 1, "warning": 2, "info": 3}


def third_party_as_info(report: Report, path: set[str] | None = None) -> list[Finding]:
    """``report.findings`` with every finding that names only outsiders' statements
    (their evidence, their own key history) downgraded to ``info``."""
    trace = report.custody_trace()
    if path is None:
        path = trace.path_parties()
    outsiders: set[str] = set()
    for e in report.entries.values():
        st = e.statement
        about = st.issuer if isinstance(st, Evidence) else getattr(st, "party", None)
        if isinstance(st, Evidence | Key | Revoke) and about not in path:
            if isinstance(st, Evidence) and _laboratory_test(st, trace):
                continue  # an origin test by a laboratory the operator registered counts
            outsiders.add(e.digest)
    if not outsiders:
        return list(report.findings)
    out: list[Finding] = []
    for f in report.findings:
        if f.severity != "info" and f.statements and all(d in outsiders for d in f.statements):
            f = Finding(
                f.rule,
                "info",
                f"{f.message} (third-party statements outside the custody path: reported, "
                "not counted)",
                list(f.statements),
                {**f.details, "third_party": True, "severity_was": f.severity},
            )
        out.append(f)
    return out


def _laboratory_test(st: Evidence, trace: Trace) -> bool:
    """A typed ``lab_test`` issued by a party registered (by the operator) as a ``lab``."""
    if not isinstance(st.fields, LabTest):
        return False
    reg = trace.registrations.get(st.issuer)
    return (
        reg is not None and isinstance(reg.statement, Party) and "lab" in reg.statement.party.roles
    )


def with_documents(report: Report, produced: Produced) -> Report:
    """``report`` with the ``DOCUMENT`` findings added, outsiders' findings as ``info``
    (:func:`third_party_as_info`), and the verdict recomputed."""
    path = report.custody_trace().path_parties()
    extra = document_findings(report, produced, path)
    judged = third_party_as_info(report, path)
    if not extra and judged == report.findings:
        return report
    findings = sorted([*judged, *extra], key=lambda f: _RANK[f.severity])
    verdict = verdict_of(findings)
    builder = report.graph_builder

    def graph() -> nx.DiGraph[str]:
        import networkx as nx

        g = nx.DiGraph(subject=report.subject) if builder is None else builder()
        flag_nodes(g, extra)  # (a downgraded finding keeps its flag, now reported as info)
        g.graph["verdict"] = verdict
        return g

    return dataclasses.replace(report, findings=findings, verdict=verdict, graph_builder=graph)
