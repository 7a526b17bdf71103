"""The web console (issue 15): suppliers, importers, auditors and the operator in a browser.

Served by ``custody serve`` at ``/`` beside the API (``/v1``), server-rendered
with Jinja2 from the same provenance code and visibility rules as the API, with
htmx (vendored, ``static/VENDORED.md``) and small JavaScript modules of its own
(no inline script; a strict Content-Security-Policy). A party signs in with its
own key in the browser (WebCrypto Ed25519): the private key never leaves it.

=====================  ====================================================
module                 holds
=====================  ====================================================
:mod:`.web`            templates, session cookie, CSRF, security headers
:mod:`.typed`          expected refusals as typed 200 results for its scripts
:mod:`.session`        sign-in (challenge, token cookie), sign-out
:mod:`.pages`          a party's lots, a lot (verdict, trace, findings,
                       composition, bundle export), a statement, exports
:mod:`.lotview`        the report's view model regrouped for the console
:mod:`.attest`         statement forms: built here, signed in the browser
:mod:`.auditor`        ``/bundles/verify``: a bundle verified from the zip
:mod:`.operator`       parties, keys, ledger size, checkpoint, audit
:mod:`.exports`        the record of exported bundles
:mod:`.offline`        ``custody bundle view``: the auditor's page, offline
=====================  ====================================================

See ``docs/console.md``.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console.typed import TypedResults
from api.console.web import HERE, SecurityHeaders

BODY_LIMITS: Final = {
    "/bundles/verify": 512 * 1024 * 1024,
    "/documents": 64 * 1024 * 1024,
}
"""Request body limits of the console's uploads (everything else: the API's default)."""


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_middleware(TypedResults)
    app.add_middleware(SecurityHeaders)


def mount(app: FastAPI) -> None:
    """Add the console to the API app (after its ``/v1`` routes)."""
    from api.console import attest, auditor, operator, pages, session
    from api.console.exports import ExportStore

    services = app.state.services
    store = ExportStore(services.ledger.store.engine, services.home.path / "console-exports")
    store.create_schema()
    app.state.console_exports = store
    for module in (session, attest, operator, auditor, pages):
        app.include_router(module.router)
    mount_static(app)
