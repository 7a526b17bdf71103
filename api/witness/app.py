"""The witness's ASGI app: ``POST /add-checkpoint`` (c2sp.org/tlog-witness) and
``GET /`` (its name, verifier key and the logs it follows, as JSON).

The decision is :func:`ledger.witness.protocol.add_checkpoint`, run on a worker
thread (SQLite and Ed25519 block); the state is the witness folder's
``state.db``. Request bodies over :data:`MAX_BODY` are refused with 413 before
they are read in full. Every refusal is logged with the origin and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ledger.witness.home import WitnessHome, resolve_witness_home
from ledger.witness.protocol import add_checkpoint

__all__ = ["MAX_BODY", "app_from_env", "create_witness_app"]

log = logging.getLogger("custody.witness")

MAX_BODY = 1 << 20
"""A checkpoint note is at most 1 MiB (``ledger.note.MAX_NOTE_BYTES``) plus 63 proof lines."""


def create_witness_app(home: WitnessHome) -> Starlette:
    """The witness service over the folder ``home`` (its key, name and state)."""
    cosigner = home.cosigner()
    state = home.state()
    vkey = home.vkey()

    async def add(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY + 8192):
            return PlainTextResponse("request body too large\n", status_code=413)
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY + 8192:
                return PlainTextResponse("request body too large\n", status_code=413)
        answer = await run_in_threadpool(add_checkpoint, state, cosigner, raw)
        if answer.status == 200:
            log.info("cosigned a checkpoint (%d bytes request)", len(raw))
        else:
            log.warning("add-checkpoint refused with %d: %s", answer.status, answer.body.strip())
        # the exact Content-Type the spec names (Starlette would add a charset to text/*)
        headers = {"content-type": answer.content_type}
        return Response(answer.body, status_code=answer.status, headers=headers)

    async def info(_: Request) -> Response:
        def read() -> dict[str, object]:
            latest = {
                x.origin: {"size": x.size, "cosigned_at": x.cosigned_at} for x in state.all_latest()
            }
            return {
                "name": cosigner.name,
                "vkey": vkey,
                "logs": [
                    {"origin": o, "vkey": keys[-1], "vkeys": keys, "latest": latest.get(o)}
                    for o, keys in state.logs().items()
                ],
                "evidence": len(state.evidence()),
            }

        return JSONResponse(await run_in_threadpool(read))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        log.info("witness %s serving", vkey)
        try:
            yield
        finally:
            state.close()

    app = Starlette(
        routes=[
            Route("/add-checkpoint", add, methods=["POST"]),
            Route("/", info, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.witness_state = state
    return app


def app_from_env() -> Starlette:
    """uvicorn's factory: the witness in ``CUSTODY_WITNESS_HOME`` (``custody witness serve``)."""
    return create_witness_app(WitnessHome(resolve_witness_home()))
