"""``GET /v1/statements``: the statements visible to the caller, filtered, by pages.

Pages are in ledger order (seq ascending); ``next_cursor`` is opaque to
clients (today: the last seq of the page). ``since`` / ``until`` filter on the
ledger's ``received_at`` time (``since`` inclusive, ``until`` exclusive).
The statements are returned exactly as signed: their JSON text is copied
from the payload bytes into the response, so quantities keep every digit.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import CallerDep
from api.deps import AUTH_ERRORS, services
from api.schemas import LOT_PATTERN, PARTY_PATTERN, TIME_PATTERN, StatementPage
from ledger import strictjson
from ledger.errors import IntegrityError, StatementError
from ledger.leaf import decode_leaf, format_received_at
from ledger.statements import parse_time
from ledger.store import StatementFilter, StatementRow

router = APIRouter(tags=["entries"])

StatementType = Literal[
    "party",
    "key",
    "revoke",
    "origin",
    "transform",
    "dispatch",
    "receipt",
    "evidence",
    "import",
    "retract",
]


def _time_bound(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return format_received_at(parse_time(value, name))
    except StatementError as e:
        raise StatementError(e.message, field=name, code="invalid_input.time") from e


def _statement_text(row: StatementRow) -> str | None:
    """The statement's JSON text from the stored leaf; None if it is not an object."""
    try:
        payload = decode_leaf(row.leaf, row.seq).envelope.payload
        text = strictjson.decode_text(payload)
        is_object = isinstance(strictjson.loads(text), dict)
    except (IntegrityError, strictjson.JsonError):
        return None
    return text if is_object else None


def _item(row: StatementRow) -> str:
    text = _statement_text(row)
    if text is None:
        raise IntegrityError(
            f"seq {row.seq}: the stored leaf does not hold a readable statement",
            code="integrity.leaf",
            details={"seq": row.seq},
        )
    head = json.dumps(
        {
            "seq": row.seq,
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
    filters = StatementFilter(
        type_, issuer, lot, _time_bound(since, "since"), _time_bound(until, "until")
    )
    after = int(cursor) if cursor is not None else -1
    with svc.ledger.store.read() as r:
        visible = None if caller.privileged else svc.scopes.get(r, caller.party).seqs
        rows = r.statement_page(filters, after, limit + 1, visible)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = json.dumps(str(rows[-1].seq) if more and rows else None)
    body = '{"items":[' + ",".join(_item(row) for row in rows) + '],"next_cursor":'
    return Response(body + next_cursor + "}", media_type="application/json")
