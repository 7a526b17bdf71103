"""Public log endpoints: the signed checkpoint, the operator's key, and proofs
(RFC 6962 / RFC 9162 inclusion and consistency; JSON as SPEC §10)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api.deps import PUBLIC_ERRORS, services
from api.schemas import MAX_SEQ, ConsistencyProof, InclusionProof

router = APIRouter(tags=["log"])

_CHECKPOINT_EXAMPLE = (
    "custody.example/ledger\n8\nq1Yl9xqN0bq6a2S8W5v9Zl9Ry2Xx0bq6a2S8W5v9Zl8=\n\n"
    "— custody.example/ledger Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint",
    description=(
        "The C2SP tlog-checkpoint, signed as a C2SP signed note with the operator's "
        "Ed25519 key; the text exactly as signed. Public."
    ),
    responses={
        200: {
            "content": {
                "text/plain": {"schema": {"type": "string"}, "example": _CHECKPOINT_EXAMPLE}
            }
        },
        **PUBLIC_ERRORS,
    },
)
def checkpoint(request: Request) -> Response:
    return PlainTextResponse(services(request).ledger.checkpoint())


@router.get(
    "/key",
    response_class=PlainTextResponse,
    summary="The operator's verifier key",
    description=(
        "The note verifier key that signs checkpoints "
        "(`<origin>+<8 hex key hash>+<base64(0x01 ‖ public key)>`), one line. Public."
    ),
    responses={
        200: {
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "custody.example/ledger+3a5b1c2d+AQk0ZWp...=\n",
                }
            }
        },
        **PUBLIC_ERRORS,
    },
)
def verifier_key(request: Request) -> Response:
    return PlainTextResponse(services(request).ledger.verifier_key() + "\n")


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProof,
    summary="Inclusion proof",
    description=(
        "Proof that entry `seq` is in the tree of `size` entries (default: the latest), "
        "RFC 6962; hashes in lowercase hex. Public."
    ),
    responses=PUBLIC_ERRORS,
)
def inclusion(
    request: Request,
    seq: Annotated[int, Query(ge=0, le=MAX_SEQ, description="Entry to prove.")],
    size: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="Tree size (default: latest).")
    ] = None,
) -> Response:
    return JSONResponse(services(request).ledger.prove(seq, size).to_json())


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProof,
    summary="Consistency proof",
    description=(
        "Proof that the tree of `from` entries is a prefix of the tree of `to` entries "
        "(default: the latest), RFC 6962; hashes in lowercase hex. Public."
    ),
    responses=PUBLIC_ERRORS,
)
def consistency(
    request: Request,
    size_from: Annotated[int, Query(alias="from", ge=0, le=MAX_SEQ, description="Older size.")],
    size_to: Annotated[
        int | None, Query(alias="to", ge=0, le=MAX_SEQ, description="Newer size (default: latest).")
    ] = None,
) -> Response:
    return JSONResponse(services(request).ledger.consistency(size_from, size_to).to_json())
