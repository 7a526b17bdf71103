"""``/v1/lots/{lot}``: lot state, trace, verification and evidence bundle.

Lot ids contain ``/`` (``gin/lint-1``), so ``{lot}`` takes the rest of the path
(send it as is, or with ``/`` percent-encoded). The ``/trace``, ``/verify`` and
``/bundle`` suffixes are matched first; the state of a lot whose own id ends in
one of them is also at ``GET /v1/lots/{lot}/state``.

A caller sees a lot's state, trace, verification and bundle when it is an
auditor or the operator, or the lot is one it holds, has held or was sent, or
is upstream of one (:mod:`api.visibility`); otherwise 403, whether or not the
lot exists.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api.auth import CallerDep
from api.deps import AUTH_ERRORS, not_visible, services
from api.schemas import ENTRY_NUMBER_PATTERN, LOT_PATTERN, LotState, Trace, VerifyReport
from api.visibility import Caller, is_root
from ledger.errors import InputError, NotFoundError
from ledger.store import ReadTx
from ledger.units import Quantity, format_decimal
from provenance.context import VerificationContext
from provenance.render import trace_json
from provenance.rules.profile import profile_names
from provenance.verify import Report

router = APIRouter(prefix="/lots", tags=["lots"])

LotPath = Annotated[
    str,
    Path(
        pattern=LOT_PATTERN,
        description="Lot id, e.g. `gin/lint-1` (slashes allowed).",
        examples=["gin/lint-1"],
    ),
]


def _check_visible(request: Request, r: ReadTx, caller: Caller, lot: str) -> None:
    """403 unless ``caller`` may see ``lot``; 404 for privileged callers if it is unknown."""
    if caller.privileged:
        if r.lot(lot) is None:
            raise NotFoundError(f"lot {lot!r} is not in the ledger", details={"lot": lot})
        return
    if is_root(r, caller.party, lot):
        return
    if services(request).scopes.get(r, caller.party).sees_lot(lot):
        return
    raise not_visible(f"lot {lot!r}", caller.party)


def authorize_lot(request: Request, caller: Caller, lot: str) -> None:
    with services(request).ledger.store.read() as r:
        _check_visible(request, r, caller, lot)


ProfileQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
        description="Document policy profile (a shipped one: cbp-uflpa, the default, or "
        "custody-only); docs/verification.md.",
    ),
]


def _context(request: Request, profile: str | None = None) -> VerificationContext:
    """The home's verification context around the API's ledger (as the CLI builds it),
    judged by a shipped document ``profile`` (never a file of the server's)."""
    svc = services(request)
    if profile is not None and profile not in profile_names():
        raise InputError(
            f"unknown profile {profile!r}: give one of {', '.join(profile_names())}",
            code="invalid_input.profile",
            details={"profile": profile, "known": profile_names()},
        )
    return VerificationContext.from_home(svc.home, ledger=svc.ledger, profile=profile)


def _report(request: Request, lot: str, profile: str | None = None) -> Report:
    """Verify ``lot`` in the home's verification context (as ``custody verify`` does)."""
    return _context(request, profile).verify(lot)


def _state(r: ReadTx, lot: str) -> dict[str, Any]:
    rec = r.lot(lot)
    if rec is None:
        raise NotFoundError(f"lot {lot!r} is not in the ledger", details={"lot": lot})
    base_unit = Quantity(Decimal(1), rec.unit).base_unit
    holdings = r.holdings_of_lot(lot)
    return {
        "lot": rec.id,
        "material": rec.material,
        "creator": rec.creator,
        "created_seq": rec.seq,
        "declared_unit": rec.unit,
        "unit": base_unit,
        "quantity": format_decimal(rec.quantity),
        "holdings": [
            {"party": p, "quantity": format_decimal(q)} for p, q in sorted(holdings.items())
        ],
        "in_transit": [
            {
                "dispatch": d.digest,
                "seq": d.seq,
                "sender": d.sender,
                "to": d.to,
                "quantity": format_decimal(d.quantity),
            }
            for d in r.dispatches_of(lot=lot)
            if d.received is None
        ],
    }


def lot_state(request: Request, caller: Caller, lot: str) -> Response:
    with services(request).ledger.store.read() as r:
        _check_visible(request, r, caller, lot)
        state = _state(r, lot)
    return JSONResponse(state)


@router.get(
    "/{lot:path}/trace",
    response_model=Trace,
    summary="Trace a lot upstream",
    description=(
        "The provenance graph of the lot back to its origins (`custody trace --format json`)."
    ),
    responses=AUTH_ERRORS,
)
def trace(request: Request, caller: CallerDep, lot: LotPath) -> Response:
    authorize_lot(request, caller, lot)
    return JSONResponse(trace_json(_report(request, lot)))


@router.get(
    "/{lot:path}/verify",
    response_model=VerifyReport,
    summary="Verify a lot",
    description=(
        "Findings, composition by origin and the verdict (`custody verify --json`, "
        "SPEC §10). The HTTP status is 200 whatever the verdict."
    ),
    responses=AUTH_ERRORS,
)
def verify(
    request: Request, caller: CallerDep, lot: LotPath, profile: ProfileQuery = None
) -> Response:
    authorize_lot(request, caller, lot)
    return JSONResponse(_report(request, lot, profile).to_json())


@router.get(
    "/{lot:path}/bundle",
    response_class=StreamingResponse,
    summary="Export the evidence bundle of a lot",
    description=(
        "The evidence bundle (SPEC §7, a zip) of the lot, streamed: every statement the "
        "verification needs with inclusion proofs against one signed checkpoint, the "
        "documents, and the report. With `entry_number`, an `import` statement of the "
        "lot must declare that CBP entry number."
    ),
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The bundle.",
        },
        **AUTH_ERRORS,
    },
)
def bundle(
    request: Request,
    caller: CallerDep,
    lot: LotPath,
    entry_number: Annotated[
        str | None,
        Query(pattern=ENTRY_NUMBER_PATTERN, description="CBP entry number, e.g. ABC-1234567-8."),
    ] = None,
    profile: ProfileQuery = None,
) -> Response:
    authorize_lot(request, caller, lot)
    ctx = _context(request, profile)
    with tempfile.TemporaryDirectory(prefix="custody-bundle-") as tmp:
        out = FilePath(tmp) / "bundle.zip"
        ctx.export_bundle(lot, out, entry_number=entry_number)
        size = out.stat().st_size
        # the open file outlives its directory: nothing is left behind, even if
        # the client goes away mid-download
        zipped = out.open("rb")

    def chunks() -> Iterator[bytes]:
        with zipped:
            while data := zipped.read(1 << 16):
                yield data

    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in lot)[:120]
    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="bundle-{safe}.zip"',
        },
    )


@router.get(
    "/{lot:path}/state",
    response_model=LotState,
    summary="Lot state (explicit form)",
    description="The same as `GET /v1/lots/{lot}`, for lot ids ending in /trace, /verify ...",
    responses=AUTH_ERRORS,
)
def state_explicit(request: Request, caller: CallerDep, lot: LotPath) -> Response:
    return lot_state(request, caller, lot)


@router.get(
    "/{lot:path}",
    response_model=LotState,
    summary="Lot state",
    description=(
        "Who created the lot, how much, who holds how much of it now (exact decimals in "
        "the base unit) and what is in transit."
    ),
    responses=AUTH_ERRORS,
)
def state(request: Request, caller: CallerDep, lot: LotPath) -> Response:
    return lot_state(request, caller, lot)
