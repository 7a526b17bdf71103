"""``/v1/health`` and ``/v1/version`` (public)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from fastapi import APIRouter, Request

from api.deps import error_responses, services
from api.schemas import Health, Version

router = APIRouter(tags=["service"])

API_VERSION = "v1"
STATEMENT_SPEC = "custody/1"
BUNDLE_SPEC = "custody-bundle/1"


def custody_version() -> str:
    try:
        return package_version("custody")
    except PackageNotFoundError:  # pragma: no cover (running from a bare checkout)
        return "0+unknown"


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness and database reachability",
    responses=error_responses(),
)
def health(request: Request) -> Health:
    task = getattr(request.app.state, "witnessing", None)
    witnesses = [] if task is None else task.status()
    return Health.model_validate(
        {
            "status": "ok",
            "size": services(request).ledger.size(),
            "witnesses": [
                {k: w[k] for k in ("name", "status", "cosigned_size", "last_error")}
                for w in witnesses
            ],
        }
    )


@router.get("/version", response_model=Version, summary="Software and format versions")
def version(request: Request) -> Version:
    return Version(
        name="custody",
        version=custody_version(),
        api=API_VERSION,
        statement_spec=STATEMENT_SPEC,
        bundle_spec=BUNDLE_SPEC,
        origin=services(request).ledger.origin,
    )
