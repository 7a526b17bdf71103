"""``PUT /v1/documents/{sha256}`` and ``GET /v1/documents/{sha256}``: document
bytes over HTTP, content-addressed by SHA-256 (``docs/api.md``, "Documents").

An upload is authenticated, at most ``max_document_bytes`` (413 over it), and
its bytes must hash to the digest in the URL (400 otherwise). The server keeps
it in the home's document store only when a statement the uploader can see
names the digest (201, ``stored``); otherwise it waits in the uploader's
pending area until a statement appears or it expires (202, ``pending``;
:mod:`api.uploads`). A download is for parties that can see a statement naming
the document; anyone else gets the same 403 whether or not it exists.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import CallerDep
from api.deps import error_responses, not_visible, services
from api.schemas.documents import SHA256_PATTERN, DocumentUpload
from api.services import Services
from api.uploads import Uploads, naming_statements
from api.visibility import Caller
from ledger.errors import InputError, NotFoundError

router = APIRouter(tags=["documents"])

ShaPath = Annotated[
    str, Path(pattern=SHA256_PATTERN, description="The document's SHA-256, lowercase hex.")
]
PREFIX = "/v1/documents/"
"""Requests under this path get the document body limit (``api.app.BodyLimit``)."""


def uploads(svc: Services) -> Uploads:
    return Uploads(svc.home.documents, svc.home.path / "uploads", svc.settings.limits.upload_ttl)


def _receive(svc: Services, caller: Caller, sha256: str, data: bytes) -> JSONResponse:
    up = uploads(svc)
    with svc.ledger.store.read() as r:
        up.sweep(r, svc.scopes)
        naming = naming_statements(r, caller, sha256, svc.scopes)
    if naming:
        up.keep(sha256, data, caller.party)
        body = DocumentUpload(
            sha256=sha256,
            size=len(data),
            status="stored",
            statements=[n.statement.digest for n in naming],
        )
        return JSONResponse(body.model_dump(), status_code=201)
    expires = up.hold(sha256, data, caller.party)
    body = DocumentUpload(sha256=sha256, size=len(data), status="pending", expires_at=expires)
    return JSONResponse(body.model_dump(), status_code=202)


@router.put(
    "/documents/{sha256}",
    status_code=201,
    response_model=DocumentUpload,
    summary="Upload a document's bytes",
    description=(
        "The raw bytes as the body (any media type). 201 `stored` when a statement the "
        "caller can see names the SHA-256; 202 `pending` otherwise: the upload is dropped "
        "after `CUSTODY_API_UPLOAD_TTL` seconds unless such a statement is appended. "
        "400 `invalid_input.digest_mismatch` when the bytes do not hash to the URL's digest; "
        "413 over `CUSTODY_API_MAX_DOCUMENT_BYTES`."
    ),
    responses={
        **error_responses(401, 413),
        202: {"model": DocumentUpload, "description": "Pending."},
    },
)
async def upload(request: Request, caller: CallerDep, sha256: ShaPath) -> JSONResponse:
    data = await request.body()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InputError(
            f"the body's SHA-256 is {actual}, not the {sha256} of the URL",
            code="invalid_input.digest_mismatch",
            details={"expected": sha256, "actual": actual, "size": len(data)},
        )
    return await run_in_threadpool(_receive, services(request), caller, sha256, data)


_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")


@router.get(
    "/documents/{sha256}",
    summary="Download a document",
    description=(
        "The bytes, for a caller that can see a statement naming the document (auditors "
        "and the operator see all). 403 for anyone else, whether or not it exists; 404 "
        "`not_found.document` when a visible statement names it but nobody uploaded it."
    ),
    responses={
        **error_responses(401, 403, 404),
        200: {"content": {"application/octet-stream": {}}, "description": "The bytes."},
    },
)
def download(request: Request, caller: CallerDep, sha256: ShaPath) -> Response:
    svc = services(request)
    up = uploads(svc)
    with svc.ledger.store.read() as r:
        up.sweep(r, svc.scopes)
        naming = naming_statements(r, caller, sha256, svc.scopes)
    if not naming:
        raise not_visible(f"document {sha256}", caller.party)
    path = up.stored(sha256)
    if path is None:
        raise NotFoundError(
            f"document {sha256} is named by seq {naming[0].seq} but was never uploaded",
            code="not_found.document",
            details={"sha256": sha256, "seq": naming[0].seq},
        )
    first = naming[0]
    filename = _UNSAFE.sub("_", first.name)[:200] or sha256
    return Response(
        path.read_bytes(),
        media_type=first.media_type or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
