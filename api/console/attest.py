"""Attesting from the console: the server builds the statement, the browser signs it.

``POST /attest/build`` turns a form (JSON) into the payload of a ``custody/1``
statement with :func:`ledger.statements.build_statement`, the builder behind
``custody attest`` (so it is validated as the ledger will parse it), issued by
the signed-in party, and says it in plain words (the report's
:func:`provenance.report.format.describe`). The browser shows both, signs the
exact payload bytes (DSSE PAE, SPEC §4) with the key it holds, and submits the
envelope to ``POST /attest/submit``, which is ``POST /v1/entries`` itself: the
custody rules judge it there, as they judge every envelope. Nothing here signs or
appends.

``POST /documents`` stores an evidence document (hashed in the browser first)
in the home's document store, after checking that its SHA-256 is the one the
browser will sign.

A field the builder refuses comes back as ``invalid_statement`` with
``details.form_field``: the form field to show it next to.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import tempfile
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.console.pages import base_unit
from api.console.web import check_csrf, gate, page, require, services
from api.errors import ForbiddenError
from api.routes.entries import submit_one
from api.visibility import Caller
from ledger import strictjson
from ledger.errors import InputError, StatementError
from ledger.statements import build_statement, parse_statement
from ledger.units import BASE_UNITS, dimension_of, format_decimal
from provenance.report.format import describe

router = APIRouter(include_in_schema=False)

MAX_ROWS = 5
TYPES = ("origin", "dispatch", "receipt", "transform", "evidence", "import", "party", "revoke")


def _text(form: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise StatementError("this field is required", details={"form_field": name})
        return None
    return text


def _qty(form: dict[str, Any], name: str) -> Decimal:
    text = _text(form, name) or ""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise StatementError(f"{text!r} is not a number", details={"form_field": name}) from None
    if not value.is_finite() or value <= 0:
        raise StatementError("the quantity must be a number above 0", details={"form_field": name})
    return value


def _site(form: dict[str, Any]) -> dict[str, Any]:
    site: dict[str, Any] = {"name": _text(form, "site_name"), "country": _text(form, "country")}
    sub = _text(form, "subdivision", required=False)
    if sub:
        site["subdivision"] = sub
    return site


def _body(svc_read: Any, caller: Caller, kind: str, form: dict[str, Any]) -> dict[str, Any]:
    if kind == "origin":
        return {
            "lot": {
                "id": _text(form, "lot"),
                "material": _text(form, "material"),
                "quantity": _qty(form, "quantity"),
                "unit": _text(form, "unit"),
            },
            "site": _site(form),
        }
    if kind == "dispatch":
        return {
            "lot": _text(form, "lot"),
            "quantity": _qty(form, "quantity"),
            "unit": _text(form, "unit"),
            "to": _text(form, "to"),
        }
    if kind == "receipt":
        digest = _text(form, "dispatch") or ""
        with svc_read() as r:
            record = r.dispatch(digest)
            lot = None if record is None else r.lot(record.lot)
        if record is None or lot is None or record.to != caller.party:
            raise StatementError(
                "no dispatch of that digest is in transit to you",
                details={"form_field": "dispatch"},
            )
        return {
            "dispatch": digest,
            "quantity": record.quantity,
            "unit": BASE_UNITS[dimension_of(lot.unit)],
        }
    if kind == "transform":
        inputs = [
            {
                "lot": form[f"in_lot_{i}"].strip(),
                "quantity": _qty(form, f"in_qty_{i}"),
                "unit": _text(form, f"in_unit_{i}"),
            }
            for i in range(MAX_ROWS)
            if str(form.get(f"in_lot_{i}") or "").strip()
        ]
        outputs = [
            {
                "id": form[f"out_lot_{i}"].strip(),
                "material": _text(form, f"out_material_{i}"),
                "quantity": _qty(form, f"out_qty_{i}"),
                "unit": _text(form, f"out_unit_{i}"),
            }
            for i in range(MAX_ROWS)
            if str(form.get(f"out_lot_{i}") or "").strip()
        ]
        if not outputs:
            raise StatementError(
                "name at least one lot produced", details={"form_field": "out_lot_0"}
            )
        return {
            "process": _text(form, "process"),
            "inputs": inputs,
            "outputs": outputs,
            "site": _site(form),
        }
    if kind == "evidence":
        lots = [x.strip() for x in (_text(form, "lots") or "").split(",") if x.strip()]
        size = form.get("size")
        return {
            "lots": lots,
            "kind": _text(form, "kind"),
            "document": {
                "sha256": _text(form, "sha256"),
                "name": _text(form, "name"),
                "media_type": _text(form, "media_type", required=False)
                or "application/octet-stream",
                "size": size if isinstance(size, int) and size >= 0 else 0,
            },
        }
    if kind == "import":
        body: dict[str, Any] = {
            "lot": _text(form, "lot"),
            "quantity": _qty(form, "quantity"),
            "unit": _text(form, "unit"),
            "entry_number": _text(form, "entry_number"),
        }
        hts = _text(form, "hts", required=False)
        if hts:
            body["hts"] = hts
        return body
    if kind == "party":
        roles = form.get("roles")
        party: dict[str, Any] = {
            "id": _text(form, "party_id"),
            "name": _text(form, "name"),
            "country": _text(form, "country"),
            "roles": [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else [],
        }
        sub = _text(form, "subdivision", required=False)
        if sub:
            party["subdivision"] = sub
        return {"party": party, "keys": [_text(form, "public_key")]}
    if kind == "revoke":
        return {
            "party": _text(form, "party"),
            "public_key": _text(form, "public_key"),
            "reason": _text(form, "reason"),
        }
    raise StatementError(f"unknown statement type {kind!r}", details={"form_field": "type"})


FIELD_OF_PATH = {
    "lot.id": "lot",
    "lot.material": "material",
    "lot.quantity": "quantity",
    "lot.unit": "unit",
    "site.name": "site_name",
    "site.country": "country",
    "site.subdivision": "subdivision",
    "party.id": "party_id",
    "party.name": "name",
    "party.country": "country",
    "party.subdivision": "subdivision",
    "party.roles": "roles",
    "keys": "public_key",
    "keys[0]": "public_key",
    "document.sha256": "file",
    "document.name": "file",
}


def _form_field(path: str | None) -> str | None:
    if path is None:
        return None
    if path in FIELD_OF_PATH:
        return FIELD_OF_PATH[path]
    for prefix, row in (("inputs[", "in_"), ("outputs[", "out_")):
        if path.startswith(prefix):
            index, _, rest = path[len(prefix) :].partition("]")
            name = {"lot": "lot", "id": "lot", "quantity": "qty"}.get(
                rest.lstrip("."), rest.lstrip(".")
            )
            return f"{row}{name}_{index}"
    return path.split(".")[0]


def build(request: Request, caller: Caller, form: dict[str, Any]) -> dict[str, Any]:
    kind = str(form.get("type", ""))
    if kind not in TYPES:
        raise StatementError(f"unknown statement type {kind!r}", details={"form_field": "type"})
    svc = services(request)
    issuer = caller.party
    if kind == "party" and "operator" not in caller.roles:
        raise ForbiddenError("only the ledger operator registers parties", code="forbidden.role")
    body = _body(svc.ledger.store.read, caller, kind, form)
    when = datetime.now(UTC).replace(microsecond=0)
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    statement_id = f"console-{kind}-{stamp}-{secrets.token_hex(4)}"
    try:
        payload = build_statement(kind, statement_id, issuer, when, **body)
    except StatementError as e:
        raise StatementError(
            e.message, field=e.field, details={"form_field": _form_field(e.field)}
        ) from e
    stmt = parse_statement(payload)
    return {
        "type": kind,
        "payload": base64.b64encode(payload).decode("ascii"),
        "digest": stmt.digest,
        "plain": f"{issuer} attests: {describe(stmt)}",
        "statement": strictjson.decode_text(payload),
    }


@router.get("/attest")
async def attest_page(request: Request) -> Response:
    caller = gate(request)
    if not isinstance(caller, Caller):
        return caller
    svc = services(request)

    def held() -> list[tuple[str, str, str]]:
        with svc.ledger.store.read() as r:
            out = []
            for lot_id, qty in sorted(r.holdings_of_party(caller.party).items()):
                rec = r.lot(lot_id)
                if rec is not None and qty > 0:
                    out.append((lot_id, format_decimal(qty), base_unit(rec.unit)))
            return out

    return page(request, "attest.html.j2", caller=caller, held=await run_in_threadpool(held))


@router.post("/attest/build")
async def build_route(request: Request) -> JSONResponse:
    caller = require(request)
    check_csrf(request)
    try:
        form = strictjson.loads(await request.body())
    except strictjson.JsonError as e:
        raise InputError(f"the form is not valid JSON: {e}", code="invalid_input.json") from None
    if not isinstance(form, dict):
        raise InputError("the form must be a JSON object", code="invalid_input.json")
    return JSONResponse(await run_in_threadpool(build, request, caller, form))


@router.post("/documents")
async def upload_document(request: Request) -> JSONResponse:
    """Keep an evidence document in the home's store; its SHA-256 must be the one sent."""
    require(request)
    check_csrf(request)
    claimed = request.headers.get("x-document-sha256", "")
    data = await request.body()
    digest = hashlib.sha256(data).hexdigest()
    if digest != claimed:
        raise InputError(
            "the uploaded document's SHA-256 is not the one the browser computed",
            code="invalid_input.document_hash",
            details={"expected": claimed, "actual": digest},
        )

    def store() -> None:
        with tempfile.TemporaryDirectory(prefix="custody-doc-") as tmp:
            path = Path(tmp) / "document"
            path.write_bytes(data)
            services(request).home.store_document(path)

    await run_in_threadpool(store)
    return JSONResponse({"sha256": digest, "size": len(data)})


@router.post("/attest/submit")
async def submit_route(request: Request) -> Response:
    """Submit an envelope signed in the browser: ``POST /v1/entries`` itself (the same
    rate limit, custody rules and answers), for a signed-in party with this session's
    CSRF token, so that the console's scripts can ask for a typed result
    (:mod:`api.console.typed`) when the rules refuse it."""
    require(request)
    check_csrf(request)
    return await submit_one(request)
