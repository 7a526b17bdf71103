"""The operator's page: register parties and revoke keys (signed in the browser with the
operator's key), the ledger's size, its latest checkpoint and an audit on demand.

Only a party whose signed registration gives it the ``operator`` role
(:func:`api.visibility.signed_roles`, as the API reads roles) opens it. Registering
and revoking are statements like any other: the page's forms are built by
``POST /attest/build`` and signed and submitted by the browser (:mod:`api.console.attest`).
The audit is :func:`ledger.audit.audit` over the whole ledger, the check
``custody ledger audit`` runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from api.console.web import check_csrf, error_page, gate, page, render, require, services
from api.errors import ForbiddenError
from api.visibility import Caller
from ledger.keys import b64encode

router = APIRouter(include_in_schema=False)


def _require_operator(caller: Caller) -> None:
    if "operator" not in caller.roles:
        raise ForbiddenError(
            f"the operator's page is not visible to {caller.party}",
            code="forbidden.not_visible",
            details={"party": caller.party},
        )


def _overview(request: Request) -> dict[str, Any]:
    svc = services(request)
    with svc.ledger.store.read() as r:
        head = r.head()
        latest = r.latest_checkpoint()
        parties = []
        for p in sorted(r.parties(), key=lambda p: p.seq):
            keys = [(b64encode(k.public_key), k.kid, k.revoked_seq) for k in r.keys_of(p.id)]
            parties.append((p, keys))
    return {
        "size": head.size,
        "checkpoint": None if latest is None else latest[1],
        "parties": parties,
        "verifier_key": svc.ledger.verifier_key(),
    }


@router.get("/operator")
async def operator_page(request: Request) -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    try:
        _require_operator(caller)
    except ForbiddenError as e:
        return error_page(request, e, caller)
    data = await run_in_threadpool(_overview, request)
    return page(request, "operator.html.j2", caller=caller, **data)


@router.post("/operator/audit")
async def run_audit(request: Request) -> Response:
    caller = require(request)
    check_csrf(request)
    _require_operator(caller)
    from ledger.audit import audit

    report = await run_in_threadpool(audit, services(request).ledger.store)
    return HTMLResponse(render("_audit.html.j2", report=report))
