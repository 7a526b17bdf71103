"""The auditor's page: verify an evidence bundle, from the zip and the pinned operator key.

``GET /bundles/verify`` is the form (no sign-in needed: verifying a bundle reads
nothing but the zip and the key). ``POST /bundles/verify`` takes the zip as the
request body (``application/zip``) and the operator's verifier key in
``X-Operator-Key`` (``entry_number`` / ``lot`` pin the subject, as
``custody bundle verify --entry-number / --lot`` do), runs
:func:`provenance.bundle.verify_bundle` (the offline verification the CLI runs,
with the same shipped screening list and yield table) and answers the result as
an HTML fragment: the verdict recomputed from the signed leaves, each check
that was made, the recomputed report, and where the verification ran.

The same router serves ``custody bundle view`` (:mod:`api.console.offline`),
whose result is computed once on the auditor's own machine.
"""

from __future__ import annotations

import platform
import socket
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from api.console.lotview import ReportView
from api.console.web import check_origin, page, render, signed_in
from api.errors import UnsupportedMediaError
from api.routes.meta import custody_version
from api.schemas import ENTRY_NUMBER_PATTERN, LOT_PATTERN
from api.visibility import Caller
from ledger.errors import InputError, NoteError
from provenance.bundle import BundleVerification, verify_bundle
from provenance.report.model import SEVERITY_ORDER

router = APIRouter(include_in_schema=False)

RULES: Final = (
    ("SIGNATURE", "every signature verifies with a key registered and not revoked at that point"),
    ("INTEGRITY", "every leaf, chain link, proof and the checkpoint match"),
    ("CUSTODY", "only the party holding a lot transformed, dispatched or imported it"),
    ("OVERDRAW", "no lot was drawn beyond what existed (no double-spending)"),
    ("MASS", "no transform's outputs weigh more than its inputs"),
    ("TIME-ORDER", "no event precedes what it depends on"),
    ("HIGH-RISK-REGION", "no origin, site or input lies in a listed region"),
    ("LISTED-ENTITY", "no party in the trace is on a screening list"),
    ("UNTRACED", "every input traces to an origin"),
    ("YIELD", "every transform's yield is in its process's typical range"),
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None
    """True held, False failed, None: a warning (nothing proven either way)."""
    detail: str
    value: str = ""
    """A hash the detail ends with (shown as code; it differs from ledger to ledger)."""


def checks_of(v: BundleVerification) -> list[Check]:
    """Each check the offline verification made, and how it came out."""
    integrity = [f.message for f in v.integrity]
    cp = v.checkpoint
    out = [
        Check(
            "Operator key pinned",
            True if v.pinned else None,
            "the checkpoint was checked against the key you gave"
            if v.pinned
            else "no key was given: checked against the key the bundle carries (proves nothing)",
        ),
        Check(
            "Checkpoint signature",
            cp is not None,
            f"a signed checkpoint of {cp.origin}, {cp.size} entries, root"
            if cp is not None
            else "the checkpoint does not verify with this key: nothing in the bundle was used",
            f"{cp.root.hex()[:16]}…" if cp is not None else "",
        ),
        Check(
            "Leaves and inclusion proofs",
            cp is not None and not integrity,
            f"{v.entries} leaves: each leaf hash and its RFC 6962 inclusion proof against the "
            "checkpoint's root",
        ),
        Check(
            "Documents",
            not any("document" in m.lower() for m in integrity),
            f"{v.documents} document(s): each file's SHA-256 equals its name",
        ),
        Check(
            "Subject",
            True if v.subject_pinned and v.subject else (None if v.subject else False),
            _subject_text(v),
        ),
    ]
    counts = Counter(f.rule for f in v.findings)
    severities: dict[str, str] = {}
    for f in v.findings:
        if SEVERITY_ORDER.get(f.severity, 9) < SEVERITY_ORDER.get(severities.get(f.rule, ""), 9):
            severities[f.rule] = f.severity
    for rule, what in RULES:
        n = counts.get(rule, 0)
        failed = n and severities.get(rule) == "error"
        out.append(
            Check(
                f"Rule {rule}",
                None if n and not failed else not failed,
                what + ("" if not n else f" — {n} finding(s)"),
            )
        )
    known = {rule for rule, _ in RULES}
    for rule in sorted(set(counts) - known):
        failed = severities.get(rule) == "error"
        out.append(
            Check(f"Rule {rule}", None if not failed else False, f"{counts[rule]} finding(s)")
        )
    out.append(
        Check(
            "Stored report not trusted",
            True,
            "the verdict above is recomputed; the bundle's report.json and report.html were "
            "only compared with it",
        )
    )
    return out


def _subject_text(v: BundleVerification) -> str:
    if v.subject is None:
        return "no subject could be verified"
    if v.subject_from == "entry_number":
        return (
            f"lot {v.subject}, pinned by the signed import statement of CBP entry {v.entry_number}"
        )
    if v.subject_from == "lot":
        return f"lot {v.subject}, pinned by the lot you named"
    return (
        f"lot {v.subject}, as the bundle's unsigned manifest names it: give the entry "
        "number to pin what is verified"
    )


def verify_zip(
    data: bytes, operator_key: str, entry_number: str | None, lot: str | None
) -> BundleVerification:
    with tempfile.TemporaryDirectory(prefix="custody-verify-") as tmp:
        path = Path(tmp) / "bundle.zip"
        path.write_bytes(data)
        return verify_bundle(
            path, operator_key=operator_key or None, entry_number=entry_number, lot=lot
        )


def result_context(v: BundleVerification, where: str) -> dict[str, Any]:
    rv = None if v.report is None else ReportView(v.report, entry_number=v.entry_number)
    return {
        "v": v,
        "rv": rv,
        "checks": checks_of(v),
        "where": where,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "version": custody_version(),
        "node_link": lambda d: f"#stmt-{d.removeprefix('sha256:')[:16]}",
        "statement_pages": False,
        "show_verdict": False,
    }


def server_where(request: Request) -> str:
    host = request.headers.get("host", "this server")
    return (
        f"on the custody server at {host} ({socket.gethostname()}, {platform.system()}), "
        "from the uploaded zip and the key you pasted alone: the server's ledger was not consulted"
    )


def _caller(request: Request) -> Caller | None:
    return signed_in(request) if hasattr(request.app.state, "services") else None


@router.get("/bundles/verify")
def verify_page(request: Request) -> Response:
    preverified = getattr(request.app.state, "preverified", None)
    return page(
        request,
        "verify.html.j2",
        caller=_caller(request),
        result=None if preverified is None else render("_verify_result.html.j2", **preverified),
        offline=preverified is not None,
    )


@router.post("/bundles/verify")
async def verify_upload(
    request: Request,
    entry_number: Annotated[str | None, Query(pattern=ENTRY_NUMBER_PATTERN)] = None,
    lot: Annotated[str | None, Query(pattern=LOT_PATTERN)] = None,
) -> Response:
    check_origin(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        raise UnsupportedMediaError("send the bundle as the request body (application/zip)")
    key = request.headers.get("x-operator-key", "").strip()
    if not key:
        raise InputError(
            "paste the operator's verifier key (obtain it from the ledger operator, not from "
            "the bundle)",
            code="invalid_input.operator_key",
            details={"form_field": "operator_key"},
        )
    data = await request.body()
    if not data:
        raise InputError(
            "choose the bundle zip", code="invalid_input.file", details={"form_field": "bundle"}
        )
    try:
        v = await run_in_threadpool(verify_zip, data, key, entry_number or None, lot or None)
    except (InputError, NoteError) as e:
        e.details.setdefault("form_field", "operator_key")
        raise
    where = getattr(request.app.state, "where", None) or server_where(request)
    return HTMLResponse(render("_verify_result.html.j2", **result_context(v, where)))
