"""``/v1/entries``: submit envelopes (one or a batch), read entries by seq or digest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.auth import CallerDep
from api.bodies import StrictJsonRoute, decode_json
from api.deps import AUTH_ERRORS, error_responses, not_visible, rate_limit, services
from api.errors import TooLargeError, UnsupportedMediaError, error_response, jsonable
from api.schemas import (
    DIGEST_PATTERN,
    ENVELOPE_SCHEMA,
    MAX_SEQ,
    Accepted,
    BatchResults,
    Leaf,
)
from api.visibility import Caller, names_party
from ledger.envelope import Envelope, envelope_from_obj, parse_envelope
from ledger.errors import CustodyError, EnvelopeError, NotFoundError
from ledger.log import SubmitResult
from ledger.store import ReadTx, StoredEntry

router = APIRouter(tags=["entries"], route_class=StrictJsonRoute)

NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines"}
)

_SUBMIT_ERRORS = error_responses(409, 413, 415, 429)


def _media_type(request: Request) -> str:
    raw = request.headers.get("content-type")
    if not raw:
        return ""
    msg = Message()
    msg["content-type"] = raw
    return msg.get_content_type().lower()


def _is_json(media: str) -> bool:
    return media in ("", "application/json") or (
        media.startswith("application/") and media.endswith("+json")
    )


def _parse_one(body: bytes) -> Envelope:
    if not body.strip():
        raise EnvelopeError("the request body is empty", code="invalid_envelope.empty")
    return parse_envelope(body)


def _safe(fn: Callable[[Any], Envelope], arg: Any) -> Envelope | CustodyError:
    try:
        return fn(arg)
    except EnvelopeError as e:
        return e


def parse_batch(body: bytes, media: str, max_items: int) -> list[Envelope | CustodyError]:
    """A JSON array of envelopes, or JSON lines; one item each."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError(
            "the request body is not UTF-8", code="invalid_envelope.encoding"
        ) from None

    def too_many(n: int) -> TooLargeError:
        return TooLargeError(
            f"a batch holds at most {max_items} envelopes, this one {n}",
            code="too_large.batch",
            details={"limit": max_items, "count": n},
        )

    if media in NDJSON_TYPES:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > max_items:
            raise too_many(len(lines))
        return [_safe(parse_envelope, line) for line in lines]
    whole = decode_json(
        text,
        "the request body is not valid JSON (send a JSON array of envelopes, "
        "or JSON lines as application/x-ndjson)",
    )
    if not isinstance(whole, list):
        raise EnvelopeError(
            "send a JSON array of envelopes (or JSON lines as application/x-ndjson)",
            code="invalid_envelope.type",
        )
    items: list[Any] = whole
    if len(items) > max_items:
        raise too_many(len(items))
    return [_safe(envelope_from_obj, obj) for obj in items]


def _result_json(res: SubmitResult) -> dict[str, Any]:
    out: dict[str, Any] = jsonable(res.to_json())
    return out


async def _append(request: Request, items: Sequence[Envelope | CustodyError]) -> list[SubmitResult]:
    future = services(request).committer.submit(items)
    return await asyncio.wrap_future(future)


_ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ENVELOPE_SCHEMA}},
    }
}

_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "Up to the batch limit (default 1000) envelopes: a JSON array, or JSON lines "
            "(one envelope per line) as `application/x-ndjson`. An item that is not a "
            "valid envelope does not fail the batch: its result says why."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"anyOf": [ENVELOPE_SCHEMA, {}]},
                    "maxItems": 1000,
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One envelope per line."}
            },
        },
    }
}


@router.post(
    "/entries",
    status_code=201,
    response_model=Accepted,
    summary="Submit one envelope",
    description=(
        "Appends one signed envelope. Its own signatures authenticate it: no session is "
        "needed. 201 with its seq when appended, 200 when the identical statement is "
        "already in the ledger, 4xx with the reason when rejected (nothing is written). "
        "Rate-limited per client address."
    ),
    responses={
        200: {"model": Accepted, "description": "Already in the ledger (idempotent)."},
        **_SUBMIT_ERRORS,
    },
    openapi_extra=_ENVELOPE_BODY,
)
async def submit_one(request: Request) -> Response:
    svc = services(request)
    rate_limit(svc.submit_limiter, request, 1, "submissions")
    if not _is_json(_media_type(request)):
        raise UnsupportedMediaError(
            "send the envelope as application/json", code="unsupported_media_type"
        )
    env = _parse_one(await request.body())
    (res,) = await _append(request, [env])
    if res.error is not None:
        extra = {} if res.digest is None else {"digest": res.digest}
        return error_response(res.error, **extra)
    return JSONResponse(
        _result_json(res),
        status_code=200 if res.duplicate else 201,
        headers={"Location": f"/v1/entries/{res.seq}"},
    )


@router.post(
    "/entries/batch",
    response_model=BatchResults,
    summary="Submit a batch of envelopes",
    description=(
        "Appends up to the batch limit (default 1000) envelopes in order, in one "
        "transaction, and answers 200 with one result per envelope in input order: "
        "`{digest, seq}` (with `duplicate: true` when already present) or "
        "`{digest, error: {code, message, details}}` — exactly `custody submit --json`. "
        "A rejected envelope does not stop the others. Rate-limited per client address "
        "(each envelope counts)."
    ),
    responses=_SUBMIT_ERRORS,
    openapi_extra=_BATCH_BODY,
)
async def submit_batch(request: Request) -> Response:
    svc = services(request)
    limits = svc.settings.limits
    rate_limit(svc.submit_limiter, request, 1, "submissions")
    media = _media_type(request)
    if not (_is_json(media) or media in NDJSON_TYPES):
        raise UnsupportedMediaError(
            "send a JSON array (application/json) or JSON lines (application/x-ndjson)",
            code="unsupported_media_type",
        )
    body = await request.body()
    items = await run_in_threadpool(parse_batch, body, media, limits.max_batch_items)
    rate_limit(svc.submit_limiter, request, len(items) - 1, "submissions")
    results = await _append(request, items)
    return JSONResponse({"results": [_result_json(r) for r in results]})


# ---------------------------------------------------------------- reads


def can_see_entry(request: Request, r: ReadTx, caller: Caller, entry: StoredEntry) -> bool:
    if caller.privileged or names_party(r, entry, caller.party):
        return True
    return entry.seq in services(request).scopes.get(r, caller.party).seqs


def _leaf_response(request: Request, caller: Caller, find: Any, what: str) -> Response:
    with services(request).ledger.store.read() as r:
        try:
            entry: StoredEntry = find(r)
        except NotFoundError:
            if caller.privileged:
                raise
            raise not_visible(what, caller.party) from None
        if not can_see_entry(request, r, caller, entry):
            raise not_visible(what, caller.party)
    return Response(entry.leaf, media_type="application/json")


@router.get(
    "/entries/{seq}",
    response_model=Leaf,
    summary="Read an entry by seq",
    description=(
        "The ledger leaf at `seq` (SPEC §5): its bytes, verbatim, are the compact "
        "sorted-key JSON the Merkle leaf hash covers."
    ),
    responses=AUTH_ERRORS,
)
def get_entry(
    request: Request,
    caller: CallerDep,
    seq: Annotated[int, Path(ge=0, le=MAX_SEQ, description="Entry number (0-based).")],
) -> Response:
    return _leaf_response(request, caller, lambda r: r.entry(seq), f"entry {seq}")


@router.get(
    "/entries/by-digest/{digest}",
    response_model=Leaf,
    summary="Read an entry by statement digest",
    responses=AUTH_ERRORS,
)
def get_entry_by_digest(
    request: Request,
    caller: CallerDep,
    digest: Annotated[
        str,
        Path(pattern=DIGEST_PATTERN, description="`sha256:<hex>` of the statement payload."),
    ],
) -> Response:
    def find(r: ReadTx) -> StoredEntry:
        seq = r.seq_by_digest(digest)
        if seq is None:
            raise NotFoundError(f"no entry with digest {digest}", details={"digest": digest})
        return r.entry(seq)

    return _leaf_response(request, caller, find, f"statement {digest}")
