"""Step 6 of offline verification: ``report.json`` and ``report.html`` are never believed.

``report.json`` is compared with the report recomputed from the proven leaves; a
difference is an ``INTEGRITY`` warning (or info when the stored report was made
with other screening or yield data) and never changes the verdict. When the
verifier pinned another subject than the manifest's, the stored reports (made
for the manifest's subject) are not compared.

``report.html`` is a rendering of that same report for a reader. Rendering it
again costs more than the rest of the comparison together (a 10,000-statement
bundle's page is several megabytes), so it can be skipped (``check_html=False``,
``custody bundle verify --no-check-html``); by default the recomputed report is
rendered and its SHA-256 compared with the stored page's. When skipped the result
says it was not compared (``html_checked`` False), and an auditor who reads a
page reads one rendered from the verified leaves (``custody bundle view``) or one
a default verification matched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ledger import strictjson
from ledger.checkpoint import Checkpoint
from provenance.bundle.manifest import REPORT_HTML, REPORT_JSON, Manifest
from provenance.documents import CitedDocument
from provenance.rules.base import Severity
from provenance.verify import Report

__all__ = ["compare_reports"]


class _Check(Protocol):
    members: dict[str, bytes]
    manifest: Manifest | None
    checkpoint: Checkpoint | None
    report: Report | None
    subject: str | None
    refs: dict[str, CitedDocument]
    documents: dict[str, bytes]
    check_html: bool
    html_checked: bool | None

    def flag(
        self,
        kind: str,
        message: str,
        *,
        severity: Severity = "error",
        statements: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None: ...


def compare_reports(check: _Check) -> None:
    """Flag stored reports that differ from the recomputed one (never used either way)."""
    assert check.report is not None
    assert check.manifest is not None
    if check.subject != check.manifest.subject:
        check.flag(
            "report",
            f"{REPORT_JSON}, {REPORT_HTML}: made for the manifest's subject "
            f"{check.manifest.subject!r}, not for {check.subject!r}; not compared",
            severity="info",
        )
        return
    recomputed = check.report.to_json()
    made_with = check.manifest.profile
    if made_with is not None and made_with != recomputed.get("profile"):
        check.flag(
            "report",
            f"{REPORT_JSON}, {REPORT_HTML}: made with document profile {made_with!r}, "
            f"verified here with {recomputed.get('profile')!r}; not compared",
            severity="info",
        )
        return
    raw = check.members.get(REPORT_JSON)
    if raw is None:
        check.flag("report", f"{REPORT_JSON}: missing (it is never used)", severity="warning")
    else:
        try:
            stored = strictjson.loads(raw)
        except strictjson.JsonError:
            stored = None
        if not isinstance(stored, dict):
            check.flag("report", f"{REPORT_JSON}: not a JSON object; ignored", severity="warning")
        else:
            _compare_json(check, stored, recomputed)
    check.html_checked = check.check_html
    if check.check_html:
        _compare_html(check)


def _compare_json(check: _Check, stored: dict[str, Any], recomputed: dict[str, Any]) -> None:
    keys = ("subject", "verdict", "findings", "composition", "untraced_share")
    differs = [k for k in keys if stored.get(k) != recomputed.get(k)]
    if not differs:
        return
    versions = ("screening_version", "yields_version", "profile")
    other = [k for k in versions if stored.get(k) != recomputed.get(k)]
    if other:
        check.flag(
            "report",
            f"{REPORT_JSON}: was computed with other data ("
            + ", ".join(f"{k} {stored.get(k)!r}, here {recomputed.get(k)!r}" for k in other)
            + f") and differs in {', '.join(differs)}; it is ignored",
            severity="info",
        )
        return
    said = stored.get("verdict")
    check.flag(
        "report",
        f"{REPORT_JSON}: does not match the verification recomputed from the leaves "
        f"(differs in {', '.join(differs)}; it says verdict {said!r}, recomputed "
        f"{recomputed.get('verdict')!r}); it is ignored",
        severity="warning",
        details={"differs": differs},
    )


def _compare_html(check: _Check) -> None:
    assert check.report is not None
    assert check.manifest is not None
    assert check.checkpoint is not None
    raw = check.members.get(REPORT_HTML)
    if raw is None:
        check.flag("report", f"{REPORT_HTML}: missing (it is never used)", severity="warning")
        return
    from provenance.bundle.export import document_refs  # only when asked: the renderer
    from provenance.report.html import render_report

    expected = render_report(
        check.report,
        entry_number=check.manifest.entry_number,
        checkpoint=check.checkpoint,
        verifier_key=check.manifest.verifier_key,
        documents=document_refs(check.refs, check.documents),
    ).encode("utf-8")
    stored, rendered = hashlib.sha256(raw).hexdigest(), hashlib.sha256(expected).hexdigest()
    if stored != rendered:
        check.flag(
            "report",
            f"{REPORT_HTML}: differs from the report rendered from the verified leaves "
            "(edited, or made by another version of custody or with other screening "
            "data); it is ignored",
            severity="warning",
            details={"sha256": stored, "rendered_sha256": rendered},
        )
