"""EPCIS 2.0 over HTTP: a lot's trace as an EPCIS document, and a query subset.

* ``GET /v1/lots/{lot}/epcis``: ``custody epcis export`` of a lot the caller
  may see (:mod:`api.visibility`; 403 otherwise), ``application/ld+json``.
* ``GET /v1/epcis/events``: the events of the statements visible to the
  caller (as ``GET /v1/statements`` sees them), as an EPCISQueryDocument of
  a ``SimpleEventQuery``, filtered by ``eventType``, ``GE_eventTime`` /
  ``LT_eventTime``, ``MATCH_epc``, ``MATCH_epcClass`` (any quantity list) and
  ``EQ_bizStep``, ``perPage`` events a page; the next page is named by the
  ``nextPageToken`` of the ``Link: <...>; rel="next"`` header (EPCIS 2.0 REST
  binding pagination).

Capture is not offered: the server never signs for a party; parties import
locally (``custody epcis import``) and submit signed statements.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import CallerDep
from api.deps import AUTH_ERRORS, services
from api.routes.lots import LotPath, authorize_lot
from api.schemas import TIME_PATTERN
from ledger.leaf import decode_leaf
from ledger.statements import Receipt, Statement, parse_time
from ledger.store import ReadTx, StatementFilter
from provenance.epcis.export import EPCIS_CONTEXT, export_lot, export_statements
from provenance.epcis.objects import CUSTODY_NS, step_word

router = APIRouter(tags=["epcis"])


class JsonLdResponse(JSONResponse):
    """JSON-LD, as EPCIS 2.0 documents are served (and documented in the OpenAPI schema)."""

    media_type = "application/ld+json"


#: The success answer documented as JSON-LD; errors stay ``application/json`` (:data:`AUTH_ERRORS`).
_JSON_LD = {
    **AUTH_ERRORS,
    200: {
        "description": "An EPCIS 2.0 JSON-LD document.",
        "content": {"application/ld+json": {"schema": {"type": "object"}}},
    },
}


_EVENT_TYPES = ("origin", "dispatch", "receipt", "transform")
_SCAN_PAGES = 20  # pages of statements read at most for one page of events


@router.get(
    "/lots/{lot:path}/epcis",
    summary="A lot's upstream trace as one EPCIS 2.0 JSON-LD document",
    description="The same document as `custody epcis export LOT` (docs/epcis.md).",
    responses=_JSON_LD,
)
def lot_epcis(request: Request, caller: CallerDep, lot: LotPath) -> Response:
    authorize_lot(request, caller, lot)
    document = export_lot(services(request).ledger.store, lot)
    return JsonLdResponse(document)


def _statement(r: ReadTx, seq: int) -> Statement:
    return decode_leaf(r.entry(seq).leaf, seq).statement


def _with_context(r: ReadTx, pairs: list[tuple[int, Statement]]) -> list[tuple[int, Statement]]:
    """The page's statements and what their events name: parties' registrations, dispatches."""
    out = list(pairs)
    parties: set[str] = set()
    for _, statement in pairs:
        parties.update(statement.parties_referenced())
        if isinstance(statement, Receipt):
            seq = r.seq_by_digest(statement.dispatch)
            if seq is not None:
                dispatch = _statement(r, seq)
                out.append((seq, dispatch))
                parties.update(dispatch.parties_referenced())
    for party in parties:
        record = r.party(party)
        if record is not None:
            out.append((record.seq, _statement(r, record.seq)))
    return list(dict(out).items())  # one statement a seq


def _matches(event: dict[str, Any], query: dict[str, Any]) -> bool:
    if query["eventType"] and event["type"] != query["eventType"]:
        return False
    when = parse_time(event["eventTime"], "eventTime")
    if query["GE_eventTime"] and when < query["GE_eventTime"]:
        return False
    if query["LT_eventTime"] and when >= query["LT_eventTime"]:
        return False
    if query["EQ_bizStep"] and step_word(event.get("bizStep")) != step_word(query["EQ_bizStep"]):
        return False
    if query["MATCH_epc"] and query["MATCH_epc"] not in event.get("epcList", []):
        return False
    if query["MATCH_epcClass"]:
        classes = {
            element.get("epcClass")
            for name in ("quantityList", "inputQuantityList", "outputQuantityList")
            for element in event.get(name, [])
        }
        if query["MATCH_epcClass"] not in classes:
            return False
    return True


@router.get(
    "/epcis/events",
    summary="EPCIS 2.0 query subset: the caller's visible events",
    description=(
        "A SimpleEventQuery over the events of the statements the caller may see, "
        "as an EPCISQueryDocument; pagination through `perPage` and the "
        "`nextPageToken` of the `Link` header."
    ),
    responses=_JSON_LD,
)
def query_events(
    request: Request,
    caller: CallerDep,
    event_type: Annotated[
        Literal["ObjectEvent", "TransformationEvent"] | None, Query(alias="eventType")
    ] = None,
    ge_time: Annotated[str | None, Query(alias="GE_eventTime", pattern=TIME_PATTERN)] = None,
    lt_time: Annotated[str | None, Query(alias="LT_eventTime", pattern=TIME_PATTERN)] = None,
    match_epc: Annotated[str | None, Query(alias="MATCH_epc", max_length=300)] = None,
    match_class: Annotated[str | None, Query(alias="MATCH_epcClass", max_length=300)] = None,
    biz_step: Annotated[str | None, Query(alias="EQ_bizStep", max_length=300)] = None,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=1000)] = 100,
    token: Annotated[str | None, Query(alias="nextPageToken", pattern=r"^[0-9]{1,15}$")] = None,
) -> Response:
    svc = services(request)
    query = {
        "eventType": event_type,
        "GE_eventTime": parse_time(ge_time, "GE_eventTime") if ge_time else None,
        "LT_eventTime": parse_time(lt_time, "LT_eventTime") if lt_time else None,
        "EQ_bizStep": biz_step,
        "MATCH_epc": match_epc,
        "MATCH_epcClass": match_class,
    }
    after = int(token) if token is not None else -1
    events: list[dict[str, Any]] = []
    more = False
    with svc.ledger.store.read() as r:
        visible = None if caller.privileged else svc.scopes.get(r, caller.party).seqs
        for _ in range(_SCAN_PAGES):
            rows = r.statement_page(StatementFilter(), after, per_page, visible)
            if not rows:
                break
            page = [
                (row.seq, decode_leaf(row.leaf, row.seq).statement)
                for row in rows
                if row.type in _EVENT_TYPES
            ]
            seqs = {seq for seq, _ in page}
            document = export_statements(_with_context(r, page))
            for event in document["epcisBody"]["eventList"]:
                if event["custody:seq"] in seqs and _matches(event, query):
                    events.append(event)
            after = rows[-1].seq
            if len(events) >= per_page or len(rows) < per_page:
                more = len(rows) == per_page or len(events) > per_page
                break
        else:
            more = True
    if len(events) > per_page:
        after = events[per_page - 1]["custody:seq"]
        events = events[:per_page]
    body = {
        "@context": [EPCIS_CONTEXT, {"custody": CUSTODY_NS}],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
    }
    headers = {}
    if more:
        params = {k: v for k, v in request.query_params.items() if k != "nextPageToken"}
        params["nextPageToken"] = str(after)
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return JsonLdResponse(body, headers=headers)
