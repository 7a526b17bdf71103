"""``custody bundle view FILE.zip --operator-key K``: the auditor's page, offline.

The CLI starts uvicorn with the factory :func:`app_from_env` (by import string,
as ``custody serve`` does: the CLI never imports the API) on a loopback port.
The bundle named in ``CUSTODY_VIEW_BUNDLE`` is verified once, at start-up, on
this machine, with the operator key in ``CUSTODY_VIEW_OPERATOR_KEY`` (and the
entry number or lot in ``CUSTODY_VIEW_ENTRY_NUMBER`` / ``CUSTODY_VIEW_LOT``), by
the same :func:`provenance.bundle.verify_bundle`; ``/bundles/verify`` shows the
result with the console's own page, and verifies further uploads the same way.
No ledger, no database, no network.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from api import errors
from api.console import auditor, mount_static
from provenance.bundle import verify_bundle

BUNDLE_ENV = "CUSTODY_VIEW_BUNDLE"
KEY_ENV = "CUSTODY_VIEW_OPERATOR_KEY"
ENTRY_ENV = "CUSTODY_VIEW_ENTRY_NUMBER"
LOT_ENV = "CUSTODY_VIEW_LOT"

WHERE = (
    "on this computer by custody bundle view, offline, from the zip and the operator key "
    "given on the command line alone: nothing was sent anywhere"
)


def create_offline_app(
    bundle: Path, operator_key: str, entry_number: str | None = None, lot: str | None = None
) -> FastAPI:
    result = verify_bundle(bundle, operator_key=operator_key, entry_number=entry_number, lot=lot)
    app = FastAPI(title="custody bundle view", openapi_url=None, docs_url=None, redoc_url=None)
    errors.install(app)
    app.state.where = WHERE
    context = auditor.result_context(result, WHERE)
    context["bundle_name"] = bundle.name
    app.state.preverified = context
    app.include_router(auditor.router)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/bundles/verify", status_code=303)

    mount_static(app)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory for ``custody bundle view``."""
    return create_offline_app(
        Path(os.environ[BUNDLE_ENV]),
        os.environ[KEY_ENV],
        os.environ.get(ENTRY_ENV) or None,
        os.environ.get(LOT_ENV) or None,
    )
