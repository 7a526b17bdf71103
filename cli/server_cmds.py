"""``custody serve``: run the HTTP API (SPEC §9) with uvicorn.

The server is started through uvicorn's import string
(``api.app:app_from_env``, a factory), never by importing ``api`` here: the
``cli`` package does not depend on ``api``. Configuration travels in the
environment (``CUSTODY_HOME``, ``CUSTODY_DB_URL``, ``CUSTODY_API_*``), so
every worker process builds the same app.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Annotated, Literal

import typer

from cli.common import HomeOpt, home_of
from cli.output import EXIT_USAGE, err, fail, handle_errors
from ledger.home import DB_URL_ENV, HOME_ENV

APP_FACTORY = "api.app:app_from_env"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def fast_io() -> tuple[Literal["httptools", "h11"], Literal["uvloop", "asyncio"]]:
    """uvicorn's HTTP parser and event loop: httptools (C) and uvloop, both pinned
    dependencies, or the pure-Python h11 and asyncio where they are not installed."""
    http: Literal["httptools", "h11"] = "httptools" if find_spec("httptools") else "h11"
    loop: Literal["uvloop", "asyncio"] = "uvloop" if find_spec("uvloop") else "asyncio"
    return http, loop


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command()(serve)


@handle_errors
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind. The default is loopback only; give 0.0.0.0 "
            "(or a specific address) to accept other machines."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes (they share the ledger; use PostgreSQL for more than a few).",
            min=1,
            max=64,
        ),
    ] = 1,
    home: HomeOpt = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    log_level: Annotated[
        str, typer.Option(help="uvicorn log level (critical, error, warning, info, debug).")
    ] = "info",
) -> None:
    """Serve the HTTP API of the ledger in the home (see docs/api.md)."""
    import uvicorn

    h = home_of(home)
    if not h.exists():
        fail(
            f"no ledger in {h.path} (no operator.key); run `custody init` "
            f"or point --home / {HOME_ENV} at an existing home",
            EXIT_USAGE,
        )
    h.operator_key()  # readable, right mode, passphrase known: fail here, not in a worker
    if log_level not in ("critical", "error", "warning", "info", "debug", "trace"):
        fail(f"unknown log level {log_level!r}", EXIT_USAGE)
    os.environ[HOME_ENV] = str(h.path.resolve())
    if host not in LOOPBACK:
        err.print(f"[yellow]note:[/] binding {host}: the API is reachable from other machines")
    where = f"{DB_URL_ENV} database" if os.environ.get(DB_URL_ENV) else f"ledger in {h.path}"
    err.print(f"serving the {where} on http://{host}:{port} (API docs at /docs)")
    http, loop = fast_io()
    uvicorn.run(
        APP_FACTORY,
        http=http,
        loop=loop,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
