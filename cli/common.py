"""Options shared by every command, and opening the home's ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.home import HOME_ENV, Home, resolve_home

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        help="Home folder of the ledger (SQLite ledger, operator key, documents).",
        show_default="./custody-data",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ServerOpt = Annotated[
    str | None,
    typer.Option("--server", envvar="CUSTODY_SERVER", help="Talk to a custody server at this URL."),
]
# Options for commands that talk to a server as a party (the client is cli.client).
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key",
        envvar="CUSTODY_KEY",
        help="With --server: the party's private key file, to log in (never sent).",
    ),
]
PartyOpt = Annotated[
    str | None,
    typer.Option(
        "--party",
        envvar="CUSTODY_PARTY",
        help="With --server: the party the --key belongs to.",
    ),
]


def home_of(home: Path | None) -> Home:
    return Home(resolve_home(home))
