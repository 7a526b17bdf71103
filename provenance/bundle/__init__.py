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

=====================  ====================================================
module                 holds
=====================  ====================================================
:mod:`.manifest`       member names, the manifest's strict schema, writing it
:mod:`.zipsafe`        reading a hostile zip safely, writing one atomically
:mod:`.export`         :func:`export_bundle` (one read transaction)
:mod:`.verify`         :func:`verify_bundle` (offline: the zip and a key)
:mod:`.compare`        the stored reports against the recomputed one
:mod:`.results`        :class:`BundleSummary`, :class:`BundleVerification`
=====================  ====================================================

Which documents are cited and what a missing one means is
:mod:`provenance.documents` (shared with ``custody verify``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.errors import UnsafeBundleError
from provenance.bundle.manifest import (
    INTEGRITY,
    MANIFEST,
    REPORT_HTML,
    REPORT_JSON,
    SPEC,
    Manifest,
    ManifestError,
    parse_manifest,
)
from provenance.bundle.results import BundleSummary, BundleVerification, SubjectSource
from provenance.bundle.verify import verify_bundle
from provenance.bundle.zipsafe import DEFAULT_LIMITS, ZipLimits, read_zip
from provenance.documents import CitedDocument, referenced_documents

if TYPE_CHECKING:
    from provenance.bundle.export import export_bundle

__all__ = [
    "DEFAULT_LIMITS",
    "INTEGRITY",
    "MANIFEST",
    "REPORT_HTML",
    "REPORT_JSON",
    "SPEC",
    "BundleSummary",
    "BundleVerification",
    "CitedDocument",
    "Manifest",
    "ManifestError",
    "SubjectSource",
    "UnsafeBundleError",
    "ZipLimits",
    "export_bundle",
    "parse_manifest",
    "read_zip",
    "referenced_documents",
    "verify_bundle",
]


def __getattr__(name: str) -> Any:
    """``export_bundle`` loads the exporter (the report renderer, the ledger's graph
    queries) on first use, so that offline verification does not import it."""
    if name == "export_bundle":
        from provenance.bundle.export import export_bundle

        return export_bundle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
