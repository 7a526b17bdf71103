"""Export one lot's evidence bundle (SPEC §7) from a ledger, in one read transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger import merkle
from ledger.checkpoint import parse_checkpoint, split_note
from ledger.errors import IntegrityError, NotFoundError
from ledger.leaf import decode_leaf
from provenance.bundle.consistency import later_checkpoints
from provenance.bundle.manifest import (
    MANIFEST,
    REPORT_HTML,
    REPORT_JSON,
    build_manifest,
    json_bytes,
    manifest_bytes,
)
from provenance.bundle.results import BundleSummary
from provenance.bundle.rotations import export_rotations, manifest_rotations
from provenance.bundle.shared import batch, require_import
from provenance.bundle.zipsafe import write_zip
from provenance.documents import CitedDocument, StoreDocuments, referenced_documents
from provenance.documents import with_documents as _with_documents
from provenance.graph import collect
from provenance.report.html import DocumentRef, render_report
from provenance.rules.profile import Profile, load_profile
from provenance.screening import ScreeningData
from provenance.verify import verify_entries
from provenance.yields import YieldTable

if TYPE_CHECKING:  # the ledger and its store load only when a bundle is exported
    from ledger.log import Ledger
    from ledger.store import ReadTx, StoredEntry

__all__ = ["batch", "document_refs", "export_bundle", "require_import"]

log = logging.getLogger(__name__)


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
    profile: Profile | None = None,
) -> BundleSummary:
    """Write the evidence bundle of ``lot`` to ``out`` (atomically) and summarise it.

    1. In one read transaction: the latest signed checkpoint, the entries the
       verification of ``lot`` needs (:func:`provenance.graph.collect`), and
       each entry's inclusion proof against that checkpoint's size
       (:func:`ledger.proofs.prove_many`); the tree's root is checked against
       the checkpoint.
    2. With ``entry_number``, an ``import`` statement of ``lot`` with that
       entry number must be among them (else :class:`InputError`).
    3. The provenance rules are run over the leaves (the same pure function
       the offline verification runs), with the ``DOCUMENT`` findings for the
       documents ``documents_dir`` lacks, into ``report.json`` and
       ``report.html``.
    4. Every document referenced by a bundled ``dispatch`` or ``evidence``
       statement is copied from ``documents_dir``; one that is not there is
       listed in the manifest under ``missing_documents`` and in the summary.

    Prefer :meth:`provenance.context.VerificationContext.export_bundle`, which
    passes the home's document store, screening data and yield table.
    """
    with batch():
        return _export(
            ledger, lot, out, entry_number, documents_dir, screening, yields, created, profile
        )


def _export(
    ledger: Ledger,
    lot: str,
    out: Path,
    entry_number: str | None,
    documents_dir: Path | None,
    screening: ScreeningData | None,
    yields: YieldTable | None,
    created: datetime | None,
    profile: Profile | None = None,
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
        witnessed = _witnessed(r, collected.entries)
        if witnessed is not None:  # prove against the checkpoint witnesses cosigned
            size, note = witnessed
            checkpoint = parse_checkpoint(split_note(note)[0])
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
        from ledger.proofs import prove_many

        proofs = prove_many(r, hashes, size, leaf_hashes=hashes) if hashes else {}
        rotations, rotation_proofs = export_rotations(r, size)
        later = later_checkpoints(r, checkpoint) if witnessed is not None else []
    root = next(iter(proofs.values())).root if proofs else checkpoint.root
    if root != checkpoint.root:
        raise IntegrityError(
            f"the stored tree of size {size} does not match its signed checkpoint; "
            "run `custody ledger audit`",
            code="integrity.checkpoint",
            details={"size": size, "expected": checkpoint.root.hex(), "actual": root.hex()},
        )
    verifier_key = ledger.verifier_key()
    leaves = [(e.seq, e.leaf) for e in entries]
    if entry_number is not None:
        imports = {e.seq: decode_leaf(e.leaf).statement for e in entries if e.type == "import"}
        require_import(imports, lot, entry_number)
    store = StoreDocuments(documents_dir)
    profile = profile or load_profile(None)
    verified = verify_entries(leaves, lot, screening=screening, yields=yields, profile=profile)
    report = _with_documents(verified, store)
    refs = referenced_documents(report.statements)
    contents = {sha: data for sha in sorted(refs) if (data := store.read(sha)) is not None}
    missing = [sha for sha in sorted(refs) if sha not in contents]
    documents = document_refs(refs, contents)
    html = render_report(
        report,
        entry_number=entry_number,
        checkpoint=checkpoint,
        verifier_key=verifier_key,
        documents=documents,
    )
    manifest = build_manifest(
        lot,
        entry_number,
        created,
        note,
        verifier_key,
        hashes,
        {seq: p.proof for seq, p in proofs.items()},
        documents,
    )
    manifest["profile"] = profile.name
    if rotations:  # the operator key rotations in the tree (docs/decisions/0006)
        manifest["key_rotations"] = manifest_rotations(rotations, rotation_proofs)
    if later:  # later cosigned checkpoints and the consistency proofs to them
        manifest["consistency"] = later
    members: list[tuple[str, bytes]] = [(MANIFEST, manifest_bytes(manifest))]
    members += [(f"leaves/{e.seq}.json", e.leaf) for e in entries]
    members += [(f"rotations/{seq}.json", leaf) for seq, leaf in rotations]
    members += [(f"documents/{sha}", contents[sha]) for sha in sorted(contents)]
    members += [
        (REPORT_JSON, json_bytes(report.to_json())),
        (REPORT_HTML, html.encode("utf-8")),
    ]
    write_zip(out, members, created)
    if missing:
        log.warning("bundle %s: %d referenced document(s) missing", out, len(missing))
    return BundleSummary(
        path=out,
        subject=lot,
        entry_number=entry_number,
        checkpoint=checkpoint,
        entries=len(entries),
        documents=len(contents),
        missing_documents=tuple(missing),
        report=report,
    )


def _witnessed(r: ReadTx, entries: Sequence[StoredEntry]) -> tuple[int, str] | None:
    """The cosigned checkpoint covering every entry (:mod:`ledger.store.cosignatures`),
    as (size, note with cosignature lines), or None when witnesses cosigned none yet."""
    from ledger.store.cosignatures import cosigned_checkpoint

    need = max((e.seq for e in entries), default=-1) + 1
    found = cosigned_checkpoint(r, need)
    return None if found is None else (found.size, found.note)


def document_refs(
    refs: Mapping[str, CitedDocument], contents: Mapping[str, bytes]
) -> list[DocumentRef]:
    """The cited documents as the report and the manifest list them (present or not)."""
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
