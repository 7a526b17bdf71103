"""``custody witness ...``: run a C2SP tlog-witness, and name the witnesses a ledger asks.

The witness's side (its own folder, ``--dir`` / ``CUSTODY_WITNESS_HOME``):
``init``, ``key``, ``add-log``, ``remove-log-key``, ``serve``, ``evidence``. The ledger's side (the
home, ``--home``): ``add``, ``list``, ``remove``; ``custody serve`` then submits
every new checkpoint to those witnesses in the background.

The witness service is started through uvicorn's import string
(``api.witness.app:app_from_env``), never by importing ``api`` here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import HomeOpt, JsonOpt, home_of
from cli.output import EXIT_USAGE, emit_json, err, escape, fail, handle_errors, out

if TYPE_CHECKING:
    from ledger.witness.home import WitnessHome

WITNESS_FACTORY = "api.witness.app:app_from_env"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

app = typer.Typer(
    help=(
        "Run a C2SP tlog-witness (init, key, add-log, remove-log-key, serve, evidence), or "
        "name the witnesses this ledger asks to cosign its checkpoints (add, list, remove)."
    ),
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="CUSTODY_WITNESS_HOME",
        help="The witness's own folder (key, name, state.db).",
        show_default="./custody-witness",
    ),
]


def _witness_home(path: Path | None) -> WitnessHome:
    from ledger.witness.home import WitnessHome, resolve_witness_home

    return WitnessHome(resolve_witness_home(path))


def _add_logs(home_dir: Path | None, vkeys: list[str]) -> list[tuple[str, int]]:
    """Trust each key for its origin; (origin, number of keys now trusted for it)."""
    from ledger.checkpoint import parse_verifier_key

    wh = _witness_home(home_dir)
    wh.name()  # the folder holds a witness
    state = wh.state()
    added = []
    try:
        for vkey in vkeys:
            v = parse_verifier_key(vkey.strip())
            state.add_log(v.name, vkey.strip())
            added.append((v.name, len(state.log_keys(v.name))))
    finally:
        state.close()
    return added


@app.command()
@handle_errors
def init(
    directory: DirOpt = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="The witness's name in its cosignature lines (default: witness.<host>/w1)."
        ),
    ] = None,
    log: Annotated[
        list[str] | None,
        typer.Option("--log", help="A log's operator verifier key to follow (repeatable)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a witness: its key, name and empty state; print its verifier key."""
    wh = _witness_home(directory)
    cosigner = wh.init(name)
    logs = _add_logs(directory, log or [])
    vkey = wh.vkey()
    if as_json:
        emit_json(
            {"dir": str(wh.path), "name": cosigner.name, "vkey": vkey, "logs": [o for o, _ in logs]}
        )
        return
    out.print(f"Initialised witness {escape(cosigner.name)} in {escape(str(wh.path))}.")
    for origin, _ in logs:
        out.print(f"  follows log {escape(origin)}")
    out.print("Its verifier key (give it to the logs and auditors that trust this witness):")
    print(vkey)


@app.command()
@handle_errors
def key(directory: DirOpt = None) -> None:
    """Print the witness's verifier key: <name>+<key id>+base64(0x04 ‖ key)."""
    print(_witness_home(directory).vkey())


@app.command("add-log")
@handle_errors
def add_log(
    vkey: Annotated[str, typer.Argument(metavar="VKEY", help="The log operator's verifier key.")],
    directory: DirOpt = None,
) -> None:
    """Follow a log, or trust its new key after a rotation (the state it holds is kept)."""
    ((origin, count),) = _add_logs(directory, [vkey])
    if count == 1:
        out.print(f"the witness follows log {escape(origin)}")
        return
    out.print(
        f"the witness trusts {count} keys of log {escape(origin)}; this one is the newest: "
        "once it cosigned a checkpoint signed by it, the older keys are refused; the "
        "consistency state carries over (`custody witness remove-log-key` drops an old key)"
    )


@app.command("remove-log-key")
@handle_errors
def remove_log_key(
    vkey: Annotated[str, typer.Argument(metavar="VKEY", help="The operator key to stop trusting.")],
    directory: DirOpt = None,
) -> None:
    """Stop trusting a log's (old) operator key; the state the witness holds is kept."""
    from ledger.errors import NotFoundError

    wh = _witness_home(directory)
    wh.name()
    state = wh.state()
    try:
        origin = state.remove_log_key(vkey.strip())
        left = [] if origin is None else state.log_keys(origin)
    finally:
        state.close()
    if origin is None:
        raise NotFoundError("the witness does not trust that key for any log")
    if left:
        out.print(f"key removed; the witness trusts {len(left)} key(s) of log {escape(origin)}")
    else:
        out.print(f"key removed; the witness no longer follows log {escape(origin)} (state kept)")


@app.command()
@handle_errors
def serve(
    directory: DirOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 7380,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the logs it follows."""
    import uvicorn

    wh = _witness_home(directory)
    vkey = wh.vkey()  # key readable, name valid: fail here, not in the server
    if log_level not in ("critical", "error", "warning", "info", "debug", "trace"):
        fail(f"unknown log level {log_level!r}", EXIT_USAGE)
    os.environ["CUSTODY_WITNESS_HOME"] = str(wh.path.resolve())
    if host not in _LOOPBACK:
        err.print(f"[yellow]note:[/] binding {host}: the witness is reachable from other machines")
    err.print(f"witness {escape(vkey)} on http://{host}:{port}/add-checkpoint")
    uvicorn.run(
        WITNESS_FACTORY,
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


@app.command()
@handle_errors
def evidence(directory: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Print the conflicting operator-signed checkpoints the witness refused (split view)."""
    wh = _witness_home(directory)
    wh.name()
    state = wh.state()
    try:
        found = state.evidence()
    finally:
        state.close()
    if as_json:
        emit_json({"evidence": [e.to_json() for e in found]})
        return
    if not found:
        out.print("no split-view evidence: every checkpoint offered was consistent")
        return
    for e in found:
        what = (
            "two checkpoints of the same size with different roots"
            if e.kind == "same_size"
            else f"no valid consistency proof from size {e.held_size} to {e.offered_size}"
        )
        out.print(f"[red]split view[/] of log {escape(e.origin)}: {what}")
        out.print("cosigned earlier:")
        print(e.held_note, end="")
        out.print("refused:")
        print(e.offered_note, end="")


# ---------------------------------------------------------------- the ledger's side


@app.command()
@handle_errors
def add(
    url: Annotated[
        str,
        typer.Argument(metavar="URL", help="The witness's URL prefix (…/add-checkpoint is added)."),
    ],
    vkey: Annotated[str, typer.Argument(metavar="VKEY", help="The witness's verifier key.")],
    home: HomeOpt = None,
) -> None:
    """Ask this witness to cosign the ledger's checkpoints (a running serve picks it up)."""
    from ledger.witness.config import add_witness

    h = home_of(home)
    h.operator_key()  # a ledger home
    w = add_witness(h.path, url, vkey)
    out.print(f"witness {escape(w.name)} at {escape(w.url)} added to {escape(str(h.path))}")


@app.command("list")
@handle_errors
def list_witnesses(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The witnesses this ledger asks, and the largest size each cosigned."""
    from ledger.store.cosignatures import latest_by_witness
    from ledger.witness.config import load_witnesses

    h = home_of(home)
    found = load_witnesses(h.path)
    with h.open(with_key=False).store.read() as r:
        sizes = latest_by_witness(r)
    rows = [{**w.to_json(), "cosigned_size": sizes.get(w.vkey, 0)} for w in found]
    if as_json:
        emit_json({"witnesses": rows})
        return
    if not rows:
        out.print("no witness configured; add one with `custody witness add URL VKEY`")
    for row in rows:
        out.print(
            f"{escape(str(row['name']))}  {escape(str(row['url']))}  cosigned size "
            f"{row['cosigned_size']}"
        )


@app.command()
@handle_errors
def remove(
    witness: Annotated[
        str, typer.Argument(metavar="WITNESS", help="The witness's name or verifier key.")
    ],
    home: HomeOpt = None,
) -> None:
    """Stop asking this witness (its stored cosignatures are kept)."""
    from ledger.witness.config import remove_witness

    w = remove_witness(home_of(home).path, witness)
    out.print(f"witness {escape(w.name)} removed")


# ------------------------------------------------ custody ledger checkpoint --cosigned


def cosigned_note(home: Path | None, server: str | None) -> str:
    """The latest checkpoint witnesses cosigned, with their lines (local or ``--server``)."""
    if server:
        from cli.client import Client

        return Client(server)._get("/v1/checkpoint/cosigned").text
    from ledger.errors import NotFoundError
    from ledger.store.cosignatures import cosigned_checkpoint

    with home_of(home).open(with_key=False).store.read() as r:
        found = cosigned_checkpoint(r)
    if found is None:
        raise NotFoundError("no witness has cosigned a checkpoint of this ledger yet")
    return found.note


def witness_summary(home: Path | None, note: str) -> str | None:
    """One line for stderr: which configured witnesses cosigned the checkpoint in ``note``
    (None when the home names no witness)."""
    from ledger.checkpoint import parse_checkpoint, split_note
    from ledger.cosignature import count_cosigners
    from ledger.store.cosignatures import cosigned_checkpoint
    from ledger.witness.config import load_witnesses

    h = home_of(home)
    witnesses = load_witnesses(h.path)
    if not witnesses:
        return None
    size = parse_checkpoint(split_note(note)[0]).size
    with h.open(with_key=False).store.read() as r:
        here = cosigned_checkpoint(r, size)
        latest = cosigned_checkpoint(r)
    if here is not None and here.size == size:
        note = here.note
    counted = count_cosigners(note, [w.verifier for w in witnesses])
    if counted.count:
        names = ", ".join(k.split("+")[0] for k, _ in counted.valid)
        return f"size {size} cosigned by {counted.count} of {len(witnesses)} witness(es): {names}"
    if latest is None:
        return f"size {size} is not cosigned yet; no witness has cosigned this ledger"
    names = ", ".join(k.split("+")[0] for k in latest.witnesses)
    return (
        f"size {size} is not cosigned yet; the latest cosigned checkpoint is size "
        f"{latest.size} ({names}): `custody ledger checkpoint --cosigned`"
    )
