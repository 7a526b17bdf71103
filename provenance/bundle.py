"""Evidence bundles (SPEC §7): export one lot's evidence, verify it offline.

A bundle is one zip file, format ``custody-bundle/1`` (docs/bundles.md)::

    manifest.json          spec, subject, entry number, created time, the signed
                           checkpoint note, the operator's verifier key, and for
                           every leaf its seq, leaf hash, inclusion proof against
                           that one checkpoint and its path in the zip
    leaves/<seq>.json      the verbatim ledger leaf bytes (SPEC §5)
    documents/<sha256>     every document the bundled statements reference
    report.json            the verification report at export (never trusted)
    report.html            the same, readable (never trusted)

Members are written in that order (leaves by seq, documents by hash) with a
fixed timestamp, so the same ledger state, subject and time give the same bytes.

:func:`export_bundle` reads the checkpoint, the trace and every proof in one
read transaction, so all proofs are against that one checkpoint.
:func:`verify_bundle` needs nothing but the zip and the operator's verifier key;
its steps are listed in its docstring. Everything it finds wrong is an
``INTEGRITY`` finding that names the member and what did not match; the
provenance rules are rerun from the leaves that passed, and ``report.*`` is
only compared, never believed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ledger import merkle
from ledger.checkpoint import (
    Checkpoint,
    NoteVerifier,
    open_checkpoint,
    parse_checkpoint,
    parse_verifier_key,
    split_note,
)
from ledger.errors import CustodyError, InputError, IntegrityError, NotFoundError
from ledger.log import Ledger, decode_leaf, format_time
from ledger.statements import Dispatch, Evidence, Import, Statement
from ledger.store import ReadTx, StoredEntry
from provenance.graph import collect
from provenance.report.html import DocumentRef, render_report
from provenance.rules.base import Severity
from provenance.screening import ScreeningData
from provenance.verify import Finding, Report, Verdict, verdict_of, verify_entries
from provenance.yields import YieldTable

log = logging.getLogger(__name__)

SPEC: Final = "custody-bundle/1"
MANIFEST: Final = "manifest.json"
REPORT_JSON: Final = "report.json"
REPORT_HTML: Final = "report.html"
INTEGRITY: Final = "INTEGRITY"

_LEAF_NAME = re.compile(r"leaves/(0|[1-9][0-9]{0,17})\.json")
_DOC_NAME = re.compile(r"documents/([0-9a-f]{64})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_SHOWN_PER_KIND = 20
"""Findings of one kind (say, failing proofs) named one by one before a summary."""


@dataclass(frozen=True)
class ZipLimits:
    """What :func:`verify_bundle` accepts before refusing to read a zip.

    Members are read into memory (never extracted to disk), so these bound the
    memory a hostile bundle can make the verifier use. ``max_ratio`` applies
    to members larger than ``ratio_floor`` and to the archive as a whole.
    """

    max_archive_bytes: int = 4 << 30
    max_members: int = 200_000
    max_member_bytes: int = 512 << 20
    max_total_bytes: int = 2 << 30
    max_ratio: int = 100
    ratio_floor: int = 1 << 20


DEFAULT_LIMITS: Final = ZipLimits()


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class BundleSummary:
    """What :func:`export_bundle` wrote."""

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
            "checkpoint": _checkpoint_json(self.checkpoint),
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

    def to_json(self) -> dict[str, Any]:
        """``custody verify --json`` (SPEC §10) plus ``pinned``, ``checkpoint``, ``bundle``."""
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
        out["checkpoint"] = None if self.checkpoint is None else _checkpoint_json(self.checkpoint)
        out["bundle"] = {
            "spec": SPEC,
            "entry_number": self.entry_number,
            "verifier_key": self.verifier_key,
            "entries": self.entries,
            "documents": self.documents,
            "integrity_findings": len(self.integrity),
        }
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


def _checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}


# ---------------------------------------------------------------- export


@contextmanager
def _batch() -> Iterator[None]:
    """Pause the cyclic garbage collector for one export or verification.

    Both build tens of thousands of small acyclic objects (parsed statements,
    graph nodes) that reference counting frees; the collector's repeated full
    passes over them cost about as much as the work itself (measured: a
    10,000-statement bundle verifies in half the time without them). The
    previous state is restored on the way out.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def export_bundle(
    ledger: Ledger,
    lot: str,
    out: Path,
    *,
    entry_number: str | None = None,
    documents_dir: Path | None = None,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    created: datetime | None = None,
) -> BundleSummary:
    """Write the evidence bundle of ``lot`` to ``out`` (atomically) and summarise it.

    1. In one read transaction: the latest signed checkpoint, the entries the
       verification of ``lot`` needs (:func:`provenance.graph.collect`), and
       each entry's inclusion proof against that checkpoint's size; the tree's
       root is checked against the checkpoint.
    2. With ``entry_number``, an ``import`` statement of ``lot`` with that
       entry number must be among them (else :class:`InputError`).
    3. The provenance rules are run over the leaves (the same pure function
       the offline verification runs) into ``report.json`` and ``report.html``.
    4. Every document referenced by a bundled ``dispatch`` or ``evidence``
       statement is copied from ``documents_dir``; one that is not there is
       listed in the manifest under ``missing_documents`` and in the summary.
    """
    with _batch():
        return _export(ledger, lot, out, entry_number, documents_dir, screening, yields, created)


def _export(
    ledger: Ledger,
    lot: str,
    out: Path,
    entry_number: str | None,
    documents_dir: Path | None,
    screening: ScreeningData | None,
    yields: YieldTable | None,
    created: datetime | None,
) -> BundleSummary:
    created = (created or datetime.now(UTC)).astimezone(UTC)
    with ledger.store.read() as r:
        latest = r.latest_checkpoint()
        if latest is None:
            raise NotFoundError("the ledger has no checkpoint yet; nothing can be proven")
        size, note = latest
        checkpoint = parse_checkpoint(split_note(note)[0])
        if size != checkpoint.size:
            raise IntegrityError(
                f"the latest checkpoint is stored as size {size} but says {checkpoint.size}",
                code="integrity.checkpoint",
            )
        collected = collect(r, lot)
        entries = [e for e in collected.entries if e.seq < size]
        hashes = {e.seq: merkle.leaf_hash(e.leaf) for e in entries}
        for e in entries:
            if collected.leaf_nodes.get(e.seq) != hashes[e.seq]:
                raise IntegrityError(
                    f"seq {e.seq}: the stored leaf does not match the Merkle tree; "
                    "run `custody ledger audit` before exporting",
                    code="integrity.leaf",
                    details={"seq": e.seq},
                )
        proofs = _prove_all(r, hashes, checkpoint)
    verifier_key = ledger.verifier_key()
    leaves = [(e.seq, e.leaf) for e in entries]
    if entry_number is not None:
        _require_import(_parse_entries(e for e in entries if e.type == "import"), lot, entry_number)
    report = verify_entries(leaves, lot, screening=screening, yields=yields)
    refs = referenced_documents(report.statements)
    contents, missing = _load_documents(refs, documents_dir)
    documents = _document_refs(refs, contents)
    html = render_report(
        report,
        entry_number=entry_number,
        checkpoint=checkpoint,
        verifier_key=verifier_key,
        documents=documents,
    )
    manifest = _manifest(
        lot, entry_number, created, note, verifier_key, hashes, proofs, documents, missing
    )
    members: list[tuple[str, bytes]] = [(MANIFEST, _manifest_bytes(manifest))]
    members += [(f"leaves/{e.seq}.json", e.leaf) for e in entries]
    members += [(f"documents/{sha}", contents[sha]) for sha in sorted(contents)]
    members += [
        (REPORT_JSON, _json_bytes(report.to_json())),
        (REPORT_HTML, html.encode("utf-8")),
    ]
    _write_zip(out, members, created)
    if missing:
        log.warning("bundle %s: %d referenced document(s) missing", out, len(missing))
    return BundleSummary(
        path=out,
        subject=lot,
        entry_number=entry_number,
        checkpoint=checkpoint,
        entries=len(entries),
        documents=len(contents),
        missing_documents=tuple(sorted(missing)),
        report=report,
    )


def _prove_all(
    r: ReadTx, leaf_hashes: Mapping[int, bytes], checkpoint: Checkpoint
) -> dict[int, list[bytes]]:
    """The inclusion proof of every leaf in the checkpoint's tree, from one read.

    Perfect subtrees whose leaves are all in the bundle are computed from the
    leaf hashes (a bundle is mostly runs of consecutive seqs); only the other
    proof nodes are read from storage. The root computed from them must be
    the checkpoint's, else the stored tree does not match its signature.
    """
    size = checkpoint.size
    known = _derived_nodes(leaf_hashes)
    plans = {seq: merkle.inclusion_plan(seq, size) for seq in leaf_hashes}
    rplan = merkle.root_plan(size)
    wanted = {c for c in rplan if c not in known}
    for plan in plans.values():
        for element in plan:
            wanted.update(c for c in element if c not in known)
    nodes = {**r.nodes(sorted(wanted)), **known} if wanted else known
    root = merkle.combine([nodes[c] for c in rplan])
    if root != checkpoint.root:
        raise IntegrityError(
            f"the stored tree of size {size} does not match its signed checkpoint; "
            "run `custody ledger audit`",
            code="integrity.checkpoint",
            details={"size": size, "expected": checkpoint.root.hex(), "actual": root.hex()},
        )
    return {
        seq: [merkle.combine([nodes[c] for c in element]) for element in plan]
        for seq, plan in plans.items()
    }


def _derived_nodes(leaf_hashes: Mapping[int, bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree ``(level, index)`` all of whose leaves are given, with its hash."""
    known: dict[tuple[int, int], bytes] = {(0, seq): h for seq, h in leaf_hashes.items()}
    level, current = 0, dict(leaf_hashes)
    while len(current) > 1:
        parents = {
            i >> 1: merkle.node_hash(h, current[i + 1])
            for i, h in current.items()
            if not i & 1 and i + 1 in current
        }
        level += 1
        known.update(((level, i), h) for i, h in parents.items())
        current = parents
    return known


def _parse_entries(entries: Iterable[StoredEntry]) -> dict[int, Statement]:
    out: dict[int, Statement] = {}
    for e in entries:
        out[e.seq] = decode_leaf(e.leaf).statement
    return out


def _require_import(statements: Mapping[int, Statement], lot: str, entry_number: str) -> None:
    for stmt in statements.values():
        if isinstance(stmt, Import) and stmt.lot == lot and stmt.entry_number == entry_number:
            return
    declared = sorted(
        {s.entry_number for s in statements.values() if isinstance(s, Import) and s.lot == lot}
    )
    hint = f" (it is declared as {', '.join(declared)})" if declared else ""
    raise InputError(
        f"no import statement declares lot {lot!r} as CBP entry {entry_number!r}{hint}",
        code="invalid_input.entry_number",
        details={"lot": lot, "entry_number": entry_number, "declared": declared},
    )


@dataclass
class CitedDocument:
    """A document cited by bundled statements: the first citation's name and kind, and
    the digests of every citing statement."""

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


def _load_documents(
    refs: Mapping[str, CitedDocument], documents_dir: Path | None
) -> tuple[dict[str, bytes], list[str]]:
    contents: dict[str, bytes] = {}
    missing: list[str] = []
    for sha in sorted(refs):
        path = None if documents_dir is None else documents_dir / sha
        data: bytes | None = None
        if path is not None and path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                log.warning("document store: %s does not hash to its name; not bundled", path)
                data = None
        if data is None:
            missing.append(sha)
        else:
            contents[sha] = data
    return contents, missing


def _document_refs(
    refs: Mapping[str, CitedDocument], contents: Mapping[str, bytes]
) -> list[DocumentRef]:
    return [
        DocumentRef(
            sha256=sha,
            name=ref.name,
            kind=ref.kind,
            media_type=ref.media_type,
            size=len(contents[sha]) if sha in contents else ref.size,
            present=sha in contents,
            referenced_by=tuple(ref.referenced_by),
        )
        for sha, ref in sorted(refs.items())
    ]


def _manifest(
    lot: str,
    entry_number: str | None,
    created: datetime,
    note: str,
    verifier_key: str,
    hashes: Mapping[int, bytes],
    proofs: Mapping[int, list[bytes]],
    documents: Sequence[DocumentRef],
    missing: Sequence[str],
) -> dict[str, Any]:
    absent = set(missing)
    return {
        "spec": SPEC,
        "subject": lot,
        "entry_number": entry_number,
        "created": format_time(created),
        "checkpoint": note,
        "verifier_key": verifier_key,
        "entries": [
            {
                "seq": seq,
                "leaf_hash": hashes[seq].hex(),
                "proof": [h.hex() for h in proofs[seq]],
                "path": f"leaves/{seq}.json",
            }
            for seq in sorted(hashes)
        ],
        "documents": [
            {
                "sha256": d.sha256,
                "name": d.name,
                "kind": d.kind,
                "media_type": d.media_type,
                "size": d.size,
                "path": f"documents/{d.sha256}",
            }
            for d in documents
            if d.present
        ],
        "missing_documents": [
            {
                "sha256": d.sha256,
                "name": d.name,
                "kind": d.kind,
                "referenced_by": list(d.referenced_by),
            }
            for d in documents
            if d.sha256 in absent
        ],
        "report": {"json": REPORT_JSON, "html": REPORT_HTML},
    }


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as indented JSON with one line per entry (readable, and fast to write:
    the long ``entries`` list goes through the C encoder, which does not indent)."""
    head = _json_bytes({k: v for k, v in manifest.items() if k != "entries"}).decode("utf-8")
    lines = ",\n  ".join(
        json.dumps(e, separators=(", ", ": "), ensure_ascii=False) for e in manifest["entries"]
    )
    body = f' "entries": [\n  {lines}\n ]' if lines else ' "entries": []'
    text = head.rstrip()[:-1].rstrip() + ",\n" + body + "\n}\n"
    return text.encode("utf-8")


def _write_zip(out: Path, members: Sequence[tuple[str, bytes]], created: datetime) -> None:
    stamp = max(_ZIP_EPOCH, created.timetuple()[:6])
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for name, data in members:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    zf.writestr(info, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # a bundle is meant to be handed over (mkstemp makes it 0600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- reading zips safely


class UnsafeBundleError(Exception):
    """A zip that :func:`read_zip` refuses to read; ``member`` names the culprit."""

    def __init__(self, member: str, message: str) -> None:
        super().__init__(f"{member}: {message}")
        self.member = member
        self.message = message


def _check_name(name: str) -> None:
    shown = name if len(name) <= 200 else name[:200] + "…"
    if not name or "\x00" in name or any(ord(c) < 0x20 for c in name):
        raise UnsafeBundleError(repr(shown), "member name is empty or has control characters")
    if "\\" in name:
        raise UnsafeBundleError(shown, "member name has a backslash")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise UnsafeBundleError(shown, "member name is an absolute path")
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise UnsafeBundleError(shown, "member name walks out of the bundle (path traversal)")
    if any(p == "" for p in parts[:-1]):
        raise UnsafeBundleError(shown, "member name has an empty path component")


def read_zip(path: Path, limits: ZipLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Read every member of the zip at ``path`` into memory, or refuse it.

    Refused (:class:`UnsafeBundleError`): an archive over ``max_archive_bytes``; more
    than ``max_members`` members; a name that is absolute, has ``..``/``.``
    components, backslashes, control characters or a drive letter; a directory,
    symlink or other non-regular member; an encrypted member or one in a
    compression other than stored/deflate; a duplicate name; a declared or
    actual size over ``max_member_bytes`` or, in total, ``max_total_bytes``; a
    compression ratio over ``max_ratio``. Nothing is ever written to disk.
    """
    archive_size = path.stat().st_size
    if archive_size > limits.max_archive_bytes:
        raise UnsafeBundleError(
            path.name, f"archive is larger than {limits.max_archive_bytes} bytes"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_infos(infos, archive_size, limits)
            out: dict[str, bytes] = {}
            total = 0
            for info in infos:
                data = _read_member(zf, info, limits, limits.max_total_bytes - total)
                total += len(data)
                out[info.filename] = data
            return out
    except zipfile.BadZipFile as e:
        raise UnsafeBundleError(path.name, f"not a readable zip archive ({e})") from e
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as e:
        raise UnsafeBundleError(path.name, f"cannot be read safely ({e})") from e


def _check_infos(infos: Sequence[zipfile.ZipInfo], archive_size: int, limits: ZipLimits) -> None:
    if len(infos) > limits.max_members:
        raise UnsafeBundleError(
            "(archive)", f"more than {limits.max_members} members ({len(infos)})"
        )
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        if info.orig_filename != name:
            _check_name(info.orig_filename)
        if name in seen:
            raise UnsafeBundleError(name, "duplicate member name")
        seen.add(name)
        mode = info.external_attr >> 16
        file_type = stat.S_IFMT(mode) if info.create_system == 3 else 0
        if info.is_dir() or (file_type and file_type != stat.S_IFREG):
            what = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
            raise UnsafeBundleError(name, f"member is {what}")
        if info.flag_bits & 0x1:
            raise UnsafeBundleError(name, "member is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeBundleError(name, f"unsupported compression method {info.compress_type}")
        if info.file_size > limits.max_member_bytes:
            raise UnsafeBundleError(
                name, f"member is larger than {limits.max_member_bytes} bytes uncompressed"
            )
        if info.file_size > limits.ratio_floor and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            raise UnsafeBundleError(
                name,
                f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 is over "
                f"{limits.max_ratio}:1 (zip bomb?)",
            )
        declared += info.file_size
    if declared > limits.max_total_bytes:
        raise UnsafeBundleError(
            "(archive)", f"more than {limits.max_total_bytes} bytes uncompressed"
        )
    if declared > limits.ratio_floor and declared > limits.max_ratio * max(archive_size, 1):
        raise UnsafeBundleError(
            "(archive)", f"compression ratio over {limits.max_ratio}:1 (zip bomb?)"
        )


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: int
) -> bytes:
    cap = min(info.file_size, limits.max_member_bytes, budget)
    with zf.open(info) as f:
        data = f.read(cap + 1)  # inflates at most cap + 1 bytes, whatever the member holds
    if len(data) > cap:
        raise UnsafeBundleError(info.filename, "member is larger than it declares or allowed")
    if len(data) != info.file_size:
        raise UnsafeBundleError(info.filename, "member is shorter than it declares")
    return data


# ---------------------------------------------------------------- offline verification


def verify_bundle(
    path: Path,
    *,
    operator_key: str | None = None,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    limits: ZipLimits = DEFAULT_LIMITS,
) -> BundleVerification:
    """Verify the bundle at ``path`` offline, from the zip alone and the operator key.

    ``operator_key`` is the operator's verifier key in C2SP note format
    (``<origin>+<8 hex>+<base64>``), obtained out of band; without it the
    key in the manifest is used and the result says ``pinned=False``.

    1. Open the zip safely (:func:`read_zip`): refuse path traversal, absolute
       names, backslashes, symlinks, duplicate names, too many members, too
       many bytes, a zip bomb; read members into memory, never to disk.
    2. Read ``manifest.json``; verify the checkpoint's signature by the operator
       key and its origin (the key's name).
    3. Each leaf: its hash equals the manifest's ``leaf_hash``; its seq is below
       the checkpoint size; its inclusion proof verifies against the
       checkpoint's root and size. A leaf that fails is left out of what
       follows; members the manifest does not list are flagged and ignored.
       (The leaf format and the chain links, ``prev`` of seq n+1 against the
       hash of seq n wherever both are present, are checked over the proven
       leaves by ``verify_entries`` in step 5, as for a live ledger.)
    4. Each document's SHA-256 equals its name; once step 5 has parsed the
       statements, every document a bundled ``dispatch`` or ``evidence``
       cites must be present, and every document present must be cited.
    5. Rerun every provenance rule (:func:`provenance.verify.verify_entries`)
       over the leaves that passed step 3 only; with an entry number, its
       ``import`` statement must be among them.
    6. ``report.json`` and ``report.html`` are never believed: they are
       compared with the recomputed report and a difference is an
       ``INTEGRITY`` warning (it does not change the verdict).

    Every mismatch is an ``INTEGRITY`` finding naming the member and what did
    not match. Raises only for a bad ``operator_key`` or an unreadable path.
    """
    key = None if operator_key is None else operator_key.strip()
    verifier = None if key is None else parse_verifier_key(key)
    if not path.is_file():
        raise InputError(f"{path}: no such bundle file", code="invalid_input.file")
    with _batch():
        return _BundleCheck(path, key, verifier, screening, yields, limits).run()


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
        self.manifest: dict[str, Any] = {}
        self.subject: str | None = None
        self.entry_number: str | None = None
        self.checkpoint: Checkpoint | None = None
        self.key = key
        self.verified_key: str | None = None
        self.leaves: dict[int, bytes] = {}
        self.refs: dict[str, CitedDocument] = {}
        self.documents: dict[str, bytes] = {}
        self.report: Report | None = None

    # -- findings

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
            self.findings.append(_finding(message, severity, statements, merged))

    def _summarise(self) -> None:
        for kind, n in self._counts.items():
            if n > _SHOWN_PER_KIND:
                severity: Severity = next(
                    (f.severity for f in self.findings if f.details.get("check") == kind),
                    "error",
                )
                self.findings.append(
                    _finding(
                        f"… and {n - _SHOWN_PER_KIND} more {kind} problem(s) not listed",
                        severity,
                        (),
                        {"check": kind, "count": n},
                    )
                )

    # -- run

    def run(self) -> BundleVerification:
        try:
            self.open_zip()
            self.read_manifest()
            self.check_checkpoint()
            self.check_leaves()
            self.check_document_hashes()
            self.rerun_rules()
            self.check_document_references()
            self.check_entry_number()
            self.compare_reports()
        except _StopError:
            pass
        self._summarise()
        findings = list(self.findings)
        rule_findings = list(self.report.findings) if self.report is not None else []
        everything = findings + rule_findings
        return BundleVerification(
            subject=self.subject,
            entry_number=self.entry_number,
            verdict=verdict_of(everything),
            findings=tuple(everything),
            report=self.report,
            pinned=self.pinned,
            verifier_key=self.verified_key,
            checkpoint=self.checkpoint,
            entries=len(self.leaves),
            documents=len(self.documents),
            integrity=tuple(findings),
        )

    # step 1
    def open_zip(self) -> None:
        try:
            self.members = read_zip(self.path, self.limits)
        except UnsafeBundleError as e:
            self.flag(
                "zip",
                f"{e.member}: {e.message}; the bundle was refused and nothing in it was read",
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
            manifest = _strict_json(raw)
            problem = _manifest_problem(manifest)
        except ValueError as e:
            problem = f"not valid JSON ({e})"
        if problem is not None:
            self.flag("manifest", f"{MANIFEST}: {problem}")
            raise _StopError
        self.manifest = manifest
        self.subject = manifest["subject"]
        self.entry_number = manifest["entry_number"]

    # step 2b
    def check_checkpoint(self) -> None:
        note: str = self.manifest["checkpoint"]
        if self.verifier is None:
            try:
                self.verifier = parse_verifier_key(self.manifest["verifier_key"])
            except CustodyError as e:
                self.flag(
                    "checkpoint",
                    f"{MANIFEST}: the operator verifier key in the bundle is malformed "
                    f"({e.message})",
                )
                raise _StopError from e
        key = _key_label(self.verifier)
        self.verified_key = None
        try:
            self.checkpoint = open_checkpoint(note, self.verifier)
            self.verified_key = self.key if self.pinned else self.manifest["verifier_key"]
            return
        except CustodyError as e:
            named = self.manifest["verifier_key"].partition("+")[0]
            hint = "" if named == self.verifier.name else f" (the manifest names key {named!r})"
            self.flag(
                "checkpoint",
                f"{MANIFEST}: the checkpoint is not validly signed by the operator key {key}"
                f"{hint}: {e.message}",
                details={"code": e.code},
            )
        # Go on with the unverified checkpoint, to say what else does not hold.
        try:
            self.checkpoint = parse_checkpoint(split_note(note)[0])
        except CustodyError as e:
            self.flag(
                "checkpoint",
                f"{MANIFEST}: the checkpoint does not parse ({e.message})",
            )
            raise _StopError from e

    # step 3
    def check_leaves(self) -> None:
        assert self.checkpoint is not None
        size, root = self.checkpoint.size, self.checkpoint.root
        listed: set[str] = set()
        for entry in self.manifest["entries"]:
            seq: int = entry["seq"]
            name = f"leaves/{seq}.json"
            where = {"check": "leaf", "seq": seq, "member": name}
            if entry["path"] != name:
                self.flag(
                    "leaf",
                    f"{MANIFEST}: the entry for seq {seq} points at {entry['path']!r}, not {name}",
                    details=where,
                )
            elif name in listed:
                self.flag("leaf", f"{MANIFEST}: seq {seq} is listed twice", details=where)
            else:
                listed.add(name)
                self._check_leaf(seq, name, entry, size, root, where)
        for name in sorted(self.members, key=_member_order):
            if name in listed or name in (MANIFEST, REPORT_JSON, REPORT_HTML):
                continue
            if _DOC_NAME.fullmatch(name):
                continue
            what = (
                "not listed in the manifest"
                if _LEAF_NAME.fullmatch(name)
                else "not a member a bundle holds"
            )
            self.flag(
                "member",
                f"{name}: {what}; ignored",
                details={"check": "member", "member": name},
            )

    def _check_leaf(
        self,
        seq: int,
        name: str,
        entry: Mapping[str, Any],
        size: int,
        root: bytes,
        where: Mapping[str, Any],
    ) -> None:
        data = self.members.get(name)
        if data is None:
            self.flag(
                "leaf", f"{name}: listed in the manifest but missing from the bundle", details=where
            )
            return
        computed = merkle.leaf_hash(data)
        if computed.hex() != entry["leaf_hash"]:
            self.flag(
                "leaf",
                f"{name}: leaf hash does not match the manifest",
                details={**where, "expected": entry["leaf_hash"], "actual": computed.hex()},
            )
            return
        proof_where = {**where, "check": "proof"}
        if seq >= size:
            self.flag(
                "proof",
                f"{MANIFEST}: seq {seq} is not below the checkpoint's tree size {size}",
                details=proof_where,
            )
            return
        try:
            proof = [bytes.fromhex(h) for h in entry["proof"]]
            merkle.verify_inclusion(computed, seq, size, proof, root)
        except CustodyError as e:
            self.flag(
                "proof",
                f"{MANIFEST}: inclusion proof for seq {seq} does not verify against the "
                f"checkpoint ({e.message})",
                details=proof_where,
            )
            return
        self.leaves[seq] = data

    # step 4a
    def check_document_hashes(self) -> None:
        for name in sorted(n for n in self.members if _DOC_NAME.fullmatch(n)):
            sha = name.removeprefix("documents/")
            actual = hashlib.sha256(self.members[name]).hexdigest()
            if actual != sha:
                self.flag(
                    "document",
                    f"{name}: content hash is {actual}",
                    details={"member": name, "expected": sha, "actual": actual},
                )
            else:
                self.documents[sha] = self.members[name]

    # step 5
    def rerun_rules(self) -> None:
        subject = self.subject or ""
        leaves = [(seq, self.leaves[seq]) for seq in sorted(self.leaves)]
        try:
            self.report = verify_entries(
                leaves, subject, screening=self.screening, yields=self.yields
            )
        except CustodyError as e:
            self.flag(
                "subject",
                f"{MANIFEST}: subject {subject!r} cannot be verified from the leaves: {e.message}",
                details={"code": e.code},
            )
            raise _StopError from e
        except (
            AssertionError,
            AttributeError,
            LookupError,
            TypeError,
            ValueError,
            ArithmeticError,
        ) as e:
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

    # step 4b (needs the statements parsed in step 5)
    def check_document_references(self) -> None:
        assert self.report is not None
        refs = referenced_documents(self.report.statements)
        self.refs = refs
        for sha in sorted(self.documents):
            if sha not in refs:
                name = f"documents/{sha}"
                self.flag(
                    "document",
                    f"{name}: not referenced by any statement in the bundle; ignored",
                    details={"member": name},
                )
        said_missing = {
            d.get("sha256") for d in self.manifest["missing_documents"] if isinstance(d, dict)
        }
        for sha, ref in sorted(refs.items()):
            if f"documents/{sha}" in self.members:
                continue  # present (a wrong hash was flagged in step 4a)
            why = (
                "the exporter's document store did not have it"
                if sha in said_missing
                else "it is not in the bundle"
            )
            self.flag(
                "document",
                f"documents/{sha}: {ref.name!r} ({ref.kind}) is referenced by "
                f"{len(ref.referenced_by)} statement(s) but absent: {why}",
                statements=ref.referenced_by,
                details={"member": f"documents/{sha}"},
            )
        self.documents = {sha: data for sha, data in self.documents.items() if sha in refs}

    # step 5b
    def check_entry_number(self) -> None:
        assert self.report is not None
        if self.entry_number is None:
            return
        try:
            _require_import(self.report.statements, self.subject or "", self.entry_number)
        except InputError as e:
            self.flag("entry", f"{MANIFEST}: entry number {self.entry_number!r}: {e.message}")

    # step 6
    def compare_reports(self) -> None:
        assert self.report is not None
        recomputed = self.report.to_json()
        raw = self.members.get(REPORT_JSON)
        if raw is None:
            self.flag(
                "report",
                f"{REPORT_JSON}: missing (it is never used)",
                severity="warning",
            )
        else:
            try:
                stored = _strict_json(raw)
            except ValueError:
                stored = None
            if not isinstance(stored, dict):
                self.flag(
                    "report",
                    f"{REPORT_JSON}: not a JSON object; ignored",
                    severity="warning",
                )
            else:
                self._compare_json(stored, recomputed)
        self._compare_html()

    def _compare_json(self, stored: dict[str, Any], recomputed: dict[str, Any]) -> None:
        keys = ("subject", "verdict", "findings", "composition", "untraced_share")
        differs = [k for k in keys if stored.get(k) != recomputed.get(k)]
        if not differs:
            return
        versions = ("screening_version", "yields_version")
        other = [k for k in versions if stored.get(k) != recomputed.get(k)]
        if other:
            self.flag(
                "report",
                f"{REPORT_JSON}: was computed with other data ("
                + ", ".join(f"{k} {stored.get(k)!r}, here {recomputed.get(k)!r}" for k in other)
                + f") and differs in {', '.join(differs)}; it is ignored",
                severity="info",
            )
            return
        said = stored.get("verdict")
        self.flag(
            "report",
            f"{REPORT_JSON}: does not match the verification recomputed from the leaves "
            f"(differs in {', '.join(differs)}; it says verdict {said!r}, recomputed "
            f"{recomputed.get('verdict')!r}); it is ignored",
            severity="warning",
            details={"differs": differs},
        )

    def _compare_html(self) -> None:
        assert self.report is not None
        assert self.checkpoint is not None
        raw = self.members.get(REPORT_HTML)
        if raw is None:
            self.flag(
                "report",
                f"{REPORT_HTML}: missing (it is never used)",
                severity="warning",
            )
            return
        expected = render_report(
            self.report,
            entry_number=self.entry_number,
            checkpoint=self.checkpoint,
            verifier_key=self.manifest["verifier_key"],
            documents=_document_refs(self.refs, self.documents),
        ).encode("utf-8")
        if raw != expected:
            self.flag(
                "report",
                f"{REPORT_HTML}: differs from the report rendered from the verified leaves "
                "(edited, or made by another version of custody or with other screening "
                "data); it is ignored",
                severity="warning",
            )


def _finding(
    message: str, severity: Severity, statements: Sequence[str], details: Mapping[str, Any]
) -> Finding:
    return Finding(
        rule=INTEGRITY,
        severity=severity,
        message=message,
        statements=list(statements),
        details=dict(details),
    )


def _key_label(v: NoteVerifier) -> str:
    return f"{v.name}+{v.key_hash.hex()}"


def _member_order(name: str) -> tuple[int, int, str]:
    m = _LEAF_NAME.fullmatch(name)
    if m:
        return (1, int(m.group(1)), "")
    return (0 if name == MANIFEST else 2, 0, name)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _strict_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("not UTF-8") from e
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError as e:
        raise ValueError("nested too deeply") from e


def _manifest_problem(m: Any) -> str | None:
    """What is wrong with the manifest's shape, or None."""
    if not isinstance(m, dict):
        return "not a JSON object"
    if m.get("spec") != SPEC:
        return f"spec is {m.get('spec')!r}, not {SPEC!r}"
    for key in ("subject", "created", "checkpoint", "verifier_key"):
        if not isinstance(m.get(key), str) or not m[key]:
            return f"{key} is missing or not a string"
    if m.get("entry_number") is not None and not isinstance(m["entry_number"], str):
        return "entry_number is not a string or null"
    m.setdefault("entry_number", None)
    for key in ("entries", "documents", "missing_documents"):
        m.setdefault(key, [])
        if not isinstance(m[key], list):
            return f"{key} is not a list"
    for i, e in enumerate(m["entries"]):
        where = f"entries[{i}]"
        if not isinstance(e, dict):
            return f"{where} is not an object"
        seq = e.get("seq")
        if type(seq) is not int or seq < 0:
            return f"{where}.seq is not a non-negative integer"
        if not isinstance(e.get("leaf_hash"), str) or not _HEX64.fullmatch(e["leaf_hash"]):
            return f"{where}.leaf_hash is not 64 lowercase hex digits"
        proof = e.get("proof")
        if not isinstance(proof, list) or not all(
            isinstance(h, str) and _HEX64.fullmatch(h) for h in proof
        ):
            return f"{where}.proof is not a list of 64-hex-digit hashes"
        if len(proof) > 64:
            return f"{where}.proof is longer than any tree allows"
        if not isinstance(e.get("path"), str):
            return f"{where}.path is not a string"
    return None
