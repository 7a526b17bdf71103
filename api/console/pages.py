"""The console's pages for a signed-in party: its lots, a lot, a statement, exports.

Every page reads through the API's own pieces, with the API's visibility rules:
the lot page asks :func:`api.routes.lots.authorize_lot` (the check of
``GET /v1/lots/{lot}/verify``) and verifies in the home's
:class:`provenance.context.VerificationContext`; the statement page asks
:func:`api.routes.entries.can_see_entry`; the lot and entry search reads the
caller's scope (:class:`api.visibility.ScopeCache`), as ``GET /v1/statements`` does.
A page the party may not see is a 403 page, whether or not the thing exists.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.console.exports import ExportStore
from api.console.lotview import ReportView
from api.console.web import (
    check_csrf,
    error_page,
    gate,
    lot_path,
    page,
    require,
    safe_next,
    services,
    signed_in,
)
from api.deps import not_visible
from api.routes.entries import can_see_entry
from api.routes.lots import authorize_lot
from api.schemas import LOT_PATTERN
from api.visibility import Caller, addressed_to
from ledger.errors import CustodyError, NotFoundError
from ledger.leaf import decode_leaf
from ledger.store import StatementFilter
from ledger.units import Quantity, format_decimal
from provenance.context import VerificationContext
from provenance.report.format import describe

router = APIRouter(include_in_schema=False)

NOTICES = {
    "signed-out": ("You are signed out. Your key was removed from this browser.", "info"),
    "expired": ("Your session has expired. Sign in again with your key file.", "info"),
    "revoked": ("The key of this session has been revoked. Sign in with a current key.", "error"),
}


def exports(request: Request) -> ExportStore:
    store: ExportStore = request.app.state.console_exports
    return store


@router.get("/")
def sign_in_page(request: Request, m: str | None = None, next: str | None = None) -> Response:
    back = safe_next(next)
    if signed_in(request) is not None:
        return RedirectResponse(back or "/home", status_code=303)
    notice, kind = NOTICES.get(m or "", ("", ""))
    return page(request, "signin.html.j2", notice=notice, notice_kind=kind, next=back)


def base_unit(lot_unit: str) -> str:
    return Quantity(Decimal(1), lot_unit).base_unit


def _home(request: Request, caller: Caller) -> dict[str, Any]:
    svc = services(request)
    held: list[dict[str, Any]] = []
    incoming: list[dict[str, Any]] = []
    outgoing: list[dict[str, Any]] = []
    with svc.ledger.store.read() as r:
        for lot_id, qty in sorted(r.holdings_of_party(caller.party).items()):
            rec = r.lot(lot_id)
            if rec is None or qty <= 0:
                continue
            held.append(
                {
                    "lot": lot_id,
                    "material": rec.material,
                    "quantity": format_decimal(qty),
                    "unit": base_unit(rec.unit),
                    "creator": rec.creator,
                }
            )
        for _, lot_id in addressed_to(r, caller.party):
            rec = r.lot(lot_id)
            for d in r.dispatches_of(lot=lot_id):
                if d.to == caller.party and d.received is None:
                    incoming.append(
                        {
                            "lot": lot_id,
                            "digest": d.digest,
                            "sender": d.sender,
                            "quantity": format_decimal(d.quantity),
                            "unit": "" if rec is None else base_unit(rec.unit),
                            "seq": d.seq,
                        }
                    )
        for item in held:
            for d in r.dispatches_of(lot=item["lot"]):
                if d.sender == caller.party and d.received is None:
                    outgoing.append(
                        {"lot": item["lot"], "to": d.to, "quantity": format_decimal(d.quantity)}
                    )
    unique = {i["digest"]: i for i in incoming}
    return {
        "held": held,
        "incoming": sorted(unique.values(), key=lambda i: i["seq"]),
        "outgoing": outgoing,
        "exports": exports(request).of(caller.party),
    }


@router.get("/home")
async def home(request: Request) -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    data = await run_in_threadpool(_home, request, caller)
    return page(request, "home.html.j2", caller=caller, **data)


def _find(request: Request, caller: Caller, q: str) -> str | None:
    """The lot named by ``q`` (a lot id, or a CBP entry number of a visible import)."""
    svc = services(request)
    with svc.ledger.store.read() as r:
        visible = None if caller.privileged else svc.scopes.get(r, caller.party).seqs
        if r.lot(q) is not None:
            try:
                authorize_lot(request, caller, q)
            except CustodyError:
                return None
            return q
        rows = r.statement_page(StatementFilter(type="import"), -1, 10000, visible)
    for row in reversed(rows):
        stmt = decode_leaf(row.leaf, row.seq).statement
        if getattr(stmt, "entry_number", None) == q:
            return str(getattr(stmt, "lot", ""))
    return None


@router.get("/lots")
async def find(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    query = q.strip()
    lot = await run_in_threadpool(_find, request, caller, query) if query else None
    if lot:
        return RedirectResponse(lot_path(lot), status_code=303)
    return page(request, "find.html.j2", caller=caller, q=query)


def _lot(request: Request, caller: Caller, lot: str) -> dict[str, Any]:
    authorize_lot(request, caller, lot)
    svc = services(request)
    with VerificationContext.from_home(svc.home, ledger=svc.ledger) as ctx:
        report = ctx.verify(lot)
    with svc.ledger.store.read() as r:
        rec = r.lot(lot)
        holdings = r.holdings_of_lot(lot)
    entry = report.import_entries[-1] if report.import_entries else None
    return {
        "lot": lot,
        "rv": ReportView(report, entry_number=entry),
        "entry_number": entry,
        "record": rec,
        "unit": "" if rec is None else base_unit(rec.unit),
        "holdings": [(p, format_decimal(q)) for p, q in sorted(holdings.items()) if q > 0],
        "exports": exports(request).of(caller.party, lot),
    }


@router.get("/lots/{lot:path}")
async def lot_page(request: Request, lot: Annotated[str, Path(pattern=LOT_PATTERN)]) -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    try:
        data = await run_in_threadpool(_lot, request, caller, lot)
    except CustodyError as e:
        return error_page(request, e, caller)
    return page(
        request,
        "lot.html.j2",
        caller=caller,
        node_link=lambda d: f"/statements/{d}",
        statement_pages=True,
        **data,
    )


def _export(request: Request, caller: Caller, lot: str) -> None:
    authorize_lot(request, caller, lot)
    svc = services(request)
    store = exports(request)
    export_id, path = store.new_path()
    with VerificationContext.from_home(svc.home, ledger=svc.ledger) as ctx:
        report = ctx.verify(lot)
        entry = report.import_entries[-1] if report.import_entries else None
        summary = ctx.export_bundle(lot, path, entry_number=entry)
    store.add(export_id, caller.party, lot, entry, summary.verdict)


@router.post("/exports")
async def export(request: Request) -> Response:
    """Export the bundle of the form's lot (a form post with the CSRF token)."""
    try:
        caller = require(request)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        lot = (form.get("lot") or [""])[0]
        sent = (form.get("csrf") or [""])[0]
        check_csrf(request, sent)
        await run_in_threadpool(_export, request, caller, lot)
    except CustodyError as e:
        return error_page(request, e, signed_in(request))
    return RedirectResponse(lot_path(lot) + "#exports", status_code=303)


@router.get("/exports/{export_id}.zip")
def download(
    request: Request, export_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]
) -> Response:
    try:
        caller = require(request)
        export, path = exports(request).file(caller.party, export_id)
    except CustodyError as e:
        return error_page(request, e, signed_in(request))
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in export.lot)[:120]
    name = f"bundle-{safe}-{export.created_at}.zip"
    return FileResponse(path, media_type="application/zip", filename=name)


def _statement(request: Request, caller: Caller, digest: str) -> dict[str, Any]:
    svc = services(request)
    with svc.ledger.store.read() as r:
        seq = r.seq_by_digest(digest)
        entry = None if seq is None else r.entry(seq)
        if entry is None or not can_see_entry(request, r, caller, entry):
            raise not_visible(f"statement {digest}", caller.party)
        size = r.head().size
    leaf = decode_leaf(entry.leaf, entry.seq)
    stmt = leaf.statement
    proof = svc.ledger.prove(entry.seq, size)
    docs = []
    for d in getattr(stmt, "documents", None) or []:
        docs.append((d.sha256, d.name, getattr(d, "kind", ""), _in_store(request, d.sha256)))
    document = getattr(stmt, "document", None)
    if document is not None:
        docs.append((document.sha256, document.name, "", _in_store(request, document.sha256)))
    text = json.dumps(json.loads(leaf.envelope.payload), indent=2, ensure_ascii=False)
    return {
        "seq": entry.seq,
        "digest": digest,
        "stmt": stmt,
        "plain": describe(stmt),
        "text": text,
        "received_at": leaf.received_at,
        "time": json.loads(leaf.envelope.payload).get("time", ""),
        "signatures": [s.keyid for s in leaf.envelope.signatures],
        "proof": proof.to_json(),
        "documents": docs,
    }


def _in_store(request: Request, sha: str) -> bool:
    try:
        services(request).home.document(sha)
    except NotFoundError:
        return False
    return True


@router.get("/statements/{digest}")
async def statement_page(
    request: Request, digest: Annotated[str, Path(pattern="^sha256:[0-9a-f]{64}$")]
) -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    try:
        data = await run_in_threadpool(_statement, request, caller, digest)
    except CustodyError as e:
        return error_page(request, e, caller)
    return page(request, "statement.html.j2", caller=caller, **data)


@router.get("/statements/{digest}/documents/{sha}")
def document(
    request: Request,
    digest: Annotated[str, Path(pattern="^sha256:[0-9a-f]{64}$")],
    sha: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
) -> Response:
    """A document a visible statement cites, from the home's document store."""
    try:
        caller = require(request)
        data = _statement(request, caller, digest)
        names = {d[0]: d[1] for d in data["documents"]}
        if sha not in names:
            raise not_visible(f"document {sha}", caller.party)
        path = services(request).home.document(sha)
    except CustodyError as e:
        return error_page(request, e, signed_in(request))
    return FileResponse(path, media_type="application/octet-stream", filename=names[sha])
