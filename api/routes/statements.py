"""``GET /v1/statements``: the statements visible to the caller, filtered, by pages.

Pages are in ledger order (seq ascending); ``next_cursor`` is opaque to
clients (today: the last seq of the page). ``since`` / ``until`` filter on the
ledger's ``received_at`` time (``since`` inclusive, ``until`` exclusive).
The statements are returned exactly as signed: their JSON text is copied
from the payload bytes into the response, so quantities keep every digit.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.sql import ColumnElement

from api.auth import CallerDep
from api.deps import AUTH_ERRORS, services
from api.schemas import LOT_PATTERN, PARTY_PATTERN, TIME_PATTERN, StatementPage
from ledger.errors import IntegrityError, StatementError
from ledger.log import format_time
from ledger.statements import parse_time
from ledger.store import ENTRIES, LOT_REFS, ReadTx

router = APIRouter(tags=["entries"])

StatementType = Literal[
    "party", "key", "revoke", "origin", "transform", "dispatch", "receipt", "evidence", "import"
]
_CHUNK = 500


def _time_bound(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return format_time(parse_time(value, name))
    except StatementError as e:
        raise StatementError(e.message, field=name, code="invalid_input.time") from e


def _filters(
    type_: str | None, issuer: str | None, since: str | None, until: str | None
) -> list[ColumnElement[bool]]:
    t = ENTRIES.c
    out: list[ColumnElement[bool]] = []
    if type_ is not None:
        out.append(t.type == type_)
    if issuer is not None:
        out.append(t.issuer == issuer)
    if since is not None:
        out.append(t.received_at >= since)
    if until is not None:
        out.append(t.received_at < until)
    return out


def _columns() -> Any:
    t = ENTRIES.c
    return select(t.seq, t.digest, t.type, t.issuer, t.stmt_id, t.received_at, t.leaf)


def _privileged_rows(
    r: ReadTx, after: int, lot: str | None, filters: list[ColumnElement[bool]], limit: int
) -> list[Any]:
    t = ENTRIES.c
    q = _columns().where(t.seq > after, *filters)
    if lot is not None:
        q = q.where(t.seq.in_(select(LOT_REFS.c.seq).where(LOT_REFS.c.lot == lot)))
    return list(r.conn.execute(q.order_by(t.seq).limit(limit)))


def _scoped_rows(
    r: ReadTx,
    visible: frozenset[int],
    after: int,
    lot: str | None,
    filters: list[ColumnElement[bool]],
    limit: int,
) -> list[Any]:
    candidates = sorted(s for s in visible if s > after)
    if lot is not None:
        on_lot = {seq for _, seq, _ in r.lot_refs([lot])}
        candidates = [s for s in candidates if s in on_lot]
    t = ENTRIES.c
    rows: list[Any] = []
    for i in range(0, len(candidates), _CHUNK):
        chunk = candidates[i : i + _CHUNK]
        q = _columns().where(t.seq.in_(chunk), *filters).order_by(t.seq)
        rows.extend(r.conn.execute(q))
        if len(rows) >= limit:
            break
    return rows[:limit]


def _statement_text(row: Any) -> str | None:
    """The statement's JSON text from the stored leaf; None if it is not an object."""
    try:
        leaf = json.loads(row.leaf)
        payload = base64.b64decode(leaf["envelope"]["payload"], validate=True)
        text = payload.decode("utf-8")
        is_object = isinstance(json.loads(text), dict)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return text if is_object else None


def _item(row: Any) -> str:
    text = _statement_text(row)
    if text is None:
        raise IntegrityError(
            f"seq {row.seq}: the stored leaf does not hold a readable statement",
            code="integrity.leaf",
            details={"seq": int(row.seq)},
        )
    head = json.dumps(
        {
            "seq": int(row.seq),
            "digest": row.digest,
            "type": row.type,
            "issuer": row.issuer,
            "id": row.stmt_id,
            "received_at": row.received_at,
        },
        separators=(",", ":"),
    )
    return head[:-1] + ',"statement":' + text + "}"


@router.get(
    "/statements",
    response_model=StatementPage,
    summary="List the statements visible to the caller",
    description=(
        "Statements in ledger order, filtered by `type`, `issuer`, `lot` and a "
        "`since`/`until` window on the ledger time (`received_at`), `limit` per page. "
        "A party sees what it issued, what names it and the upstream provenance of "
        "its lots; auditors and the operator see everything."
    ),
    responses=AUTH_ERRORS,
)
def list_statements(
    request: Request,
    caller: CallerDep,
    type_: Annotated[
        StatementType | None, Query(alias="type", description="Statement type.")
    ] = None,
    issuer: Annotated[
        str | None, Query(pattern=PARTY_PATTERN, description="Issuing party.")
    ] = None,
    lot: Annotated[
        str | None, Query(pattern=LOT_PATTERN, description="Statements that name this lot.")
    ] = None,
    since: Annotated[
        str | None,
        Query(pattern=TIME_PATTERN, description="Appended at or after (RFC 3339 UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        Query(pattern=TIME_PATTERN, description="Appended before (RFC 3339 UTC)."),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,15}$", description="`next_cursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
) -> Response:
    svc = services(request)
    limit = min(limit, svc.settings.limits.max_page_size)
    filters = _filters(type_, issuer, _time_bound(since, "since"), _time_bound(until, "until"))
    after = int(cursor) if cursor is not None else -1
    with svc.ledger.store.read() as r:
        if caller.privileged:
            rows = _privileged_rows(r, after, lot, filters, limit + 1)
        else:
            scope = svc.scopes.get(r, caller.party)
            rows = _scoped_rows(r, scope.seqs, after, lot, filters, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = json.dumps(str(rows[-1].seq) if more and rows else None)
    body = '{"items":[' + ",".join(_item(row) for row in rows) + '],"next_cursor":'
    return Response(body + next_cursor + "}", media_type="application/json")
