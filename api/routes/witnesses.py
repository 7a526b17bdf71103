"""Public witnessing endpoints: the latest checkpoint witnesses cosigned, and the
state of each configured witness (:mod:`api.witnessing`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import PUBLIC_ERRORS, services
from ledger.errors import NotFoundError
from ledger.store.cosignatures import cosigned_checkpoint

router = APIRouter(tags=["log"])


@router.get(
    "/checkpoint/cosigned",
    summary="The latest checkpoint witnesses cosigned",
    description=(
        "The operator-signed checkpoint that the most configured witnesses cosigned "
        "(the larger on a tie), followed by their C2SP cosignature/v1 lines. It may be "
        "older than `GET /v1/checkpoint`: witnesses are asked in the background. 404 "
        "until a witness has cosigned. Public."
    ),
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **PUBLIC_ERRORS},
)
def cosigned(request: Request) -> Response:
    with services(request).ledger.store.read() as r:
        found = cosigned_checkpoint(r)
    if found is None:
        raise NotFoundError("no witness has cosigned a checkpoint of this ledger yet")
    return Response(
        found.note.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "public, max-age=2"},
    )


@router.get(
    "/witnesses",
    summary="The witnesses this log asks, and how they answer",
    description=(
        "For each witness of the home's `witnesses.json` (re-read when it changes): name, "
        "URL, verifier key, the largest size it cosigned, `status` (`ok` or `failing`), the "
        "`reason` of the last failure (`unreachable`, `refused` with the HTTP status in "
        "`last_error`, `bad_cosignature`, `conflict`), the last success and the last error. "
        "Public."
    ),
)
def witnesses(request: Request) -> Response:
    return JSONResponse({"witnesses": witness_status(request)})


def witness_status(request: Request) -> list[dict[str, Any]]:
    """The witnessing task's status (empty when no witness is configured)."""
    task = getattr(request.app.state, "witnessing", None)
    return [] if task is None else list(task.status())
