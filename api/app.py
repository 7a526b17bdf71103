"""The HTTP API (SPEC §9): the app factory, served by ``custody serve`` through uvicorn.

:func:`create_app` opens the ledger store once, loads the operator key from
the home (it signs the checkpoint of every append), creates the API's own
token tables, and mounts the ``/v1`` routes. :func:`app_from_env` is the
factory uvicorn calls (``api.app:app_from_env``, ``factory=True``) with the
configuration in ``CUSTODY_HOME`` / ``CUSTODY_DB_URL`` and the
``CUSTODY_API_*`` limits (``api.settings``).

See ``docs/api.md`` for the endpoints, the login flow, who sees what, the
limits and the error codes.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import console, errors
from api.errors import HTTPStatusError, TooLargeError, error_response
from api.ingest import Committer
from api.ingestfront import IngestFront
from api.ratelimit import TokenBucketLimiter
from api.routes import auth as auth_routes
from api.routes import documents as document_routes
from api.routes import entries, lots, meta, proofs, statements, tiles
from api.routes import epcis as epcis_routes
from api.routes import witnesses as witness_routes
from api.routes.meta import API_VERSION, custody_version
from api.services import Services
from api.settings import Settings
from api.tilefront import TileFront
from api.tokens import TokenStore
from api.visibility import ScopeCache
from api.witnessing import Witnessing
from ledger.home import Home
from ledger.log import Ledger
from ledger.store import Store
from ledger.witness.config import load_witnesses

log = logging.getLogger(__name__)


class BodyLimit:
    """Refuse request bodies over the limit of their path with 413, before the
    route reads them: by ``Content-Length`` at once, and while streaming for
    chunked bodies."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        lim = settings.limits
        self.default = lim.max_body_bytes
        self.document = lim.max_document_bytes
        self.by_path = {
            "/v1/entries/batch": lim.max_batch_bytes,
            "/v1/entries": lim.max_envelope_bytes + 1024,
            **console.BODY_LIMITS,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.by_path.get(path) or (
            self.document if path.startswith(document_routes.PREFIX) else self.default
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _too_large(limit)(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPStatusError(
                        413,
                        "too_large.body",
                        f"request body is larger than {limit} bytes",
                        {"limit_bytes": limit},
                    )
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int) -> ASGIApp:
    return error_response(
        TooLargeError(
            f"request body is larger than {limit} bytes",
            code="too_large.body",
            details={"limit_bytes": limit},
        )
    )


DESCRIPTION = """\
The HTTP API of a **custody** ledger: signed supply-chain custody statements in an
append-only RFC 6962 transparency log (see SPEC §9 and `docs/api.md`).

* **Public**: `GET /v1/checkpoint`, `GET /v1/key`, `GET /v1/proofs/*`, `GET /v1/health`,
  `GET /v1/version`, and submitting envelopes (`POST /v1/entries`, `POST /v1/entries/batch`;
  their signatures authenticate them; rate-limited per client address).
* **Authenticated** (`Authorization: Bearer <token>`, from signing a challenge with the
  party's registered Ed25519 key: `POST /v1/auth/challenge`, then `POST /v1/auth/token`):
  entries, statements, lots, trace, verify and bundles. A party sees what it issued,
  what names it, and the upstream provenance of lots it holds, has held or was sent;
  `auditor` and `operator` parties see everything. A refusal is a 403 whether or not the
  thing exists.
* **Errors** are `{"error": {"code", "message", "details"}}` with the CLI's stable codes.
"""


def create_app(settings: Settings) -> FastAPI:
    """The API over the ledger in ``settings.home`` / ``settings.db_url``."""
    home = Home(settings.home)
    operator_key = home.operator_key()
    store = Store(settings.database_url)
    ledger = Ledger(store, operator_key)
    _ = ledger.origin  # fails now, clearly, if the database holds no ledger
    tokens = TokenStore(store.engine)
    tokens.create_schema()
    lim = settings.limits
    services = Services(
        settings=settings,
        home=home,
        ledger=ledger,
        tokens=tokens,
        committer=Committer(ledger, max_items=max(lim.max_batch_items, 1000)),
        submit_limiter=TokenBucketLimiter(lim.submit_rate, lim.submit_burst),
        auth_limiter=TokenBucketLimiter(lim.auth_rate, lim.auth_burst),
        scopes=ScopeCache(),
    )
    witnessing = Witnessing(store, load_witnesses(home.path), home=home.path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = lim.threads
        # The app's long-lived objects (FastAPI, pydantic, SQLAlchemy) need no
        # cyclic collection; freezing them keeps each collection during a large
        # append short.
        gc.collect()
        gc.freeze()
        await witnessing.start()  # asks the home's witnesses in the background
        try:
            yield
        finally:
            await witnessing.stop()
            services.close()

    app = FastAPI(
        title="custody",
        version=custody_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "log", "description": "Checkpoints and proofs (public)."},
            {"name": "entries", "description": "Submit envelopes; read entries and statements."},
            {"name": "lots", "description": "Lot state, trace, verification and bundles."},
            {"name": "documents", "description": "Upload and download document bytes."},
            {"name": "auth", "description": "Log in with a party key."},
            {"name": "service", "description": "Health and version."},
            {"name": "tiles", "description": "C2SP tlog-tiles at the root (public)."},
        ],
    )
    app.state.services = services
    app.state.witnessing = witnessing
    errors.install(app)
    for module in (
        entries,
        statements,
        proofs,
        witness_routes,
        epcis_routes,  # before lots: /lots/{lot}/epcis
        lots,
        auth_routes,
        meta,
        document_routes,
    ):
        app.include_router(module.router, prefix=f"/{API_VERSION}")
    app.include_router(tiles.router)  # C2SP tlog-tiles at the root: /checkpoint, /tile/...
    console.mount(app)  # the web console at the root: /, /lots/..., /bundles/verify
    # Just inside the body limit: POST /v1/entries without FastAPI's routing.
    app.add_middleware(IngestFront, handlers=app.exception_handlers)
    app.add_middleware(BodyLimit, settings=settings)
    # Outermost: the tlog-tiles reads (/checkpoint, /tile/...) answered before the stack.
    app.state.tile_cache = tiles.TileCache()
    app.add_middleware(TileFront, services=services, cache=app.state.tile_cache)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory: the app configured from the environment (``custody serve``)."""
    return create_app(Settings.from_env())
