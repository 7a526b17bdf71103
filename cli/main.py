"""The ``custody`` command (SPEC §8): one typer app, a module per command group."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from cli import lean
from cli.common import HomeOpt, JsonOpt, home_of
from cli.lazy import Lazy, lazy_group
from cli.output import emit_json, err, fail, handle_errors, out, read_input

lean.install()  # plain str/Path options parsed without importing pydantic

# The other commands, imported when used: `custody --help` lists them from here
# (tests/cli/test_startup.py checks this help against the commands' own).
LAZY = {
    "trace": Lazy(
        "cli.provenance_cmds",
        "Trace LOT back to its origins: every transform, hand-off and external input.",
    ),
    "verify": Lazy(
        "cli.provenance_cmds",
        "Verify LOT: findings by severity, documents per hop, composition by origin, verdict.",
    ),
    "rescreen": Lazy(
        "cli.screening_cmds",
        "Re-verify every imported or bundled lot against the current screening lists.",
    ),
    "serve": Lazy(
        "cli.server_cmds", "Serve the HTTP API of the ledger in the home (see docs/api.md)."
    ),
    "demo": Lazy(
        "cli.demo_cmds",
        "Run the end-to-end story: four supply chains, verified, bundled, audited offline.",
    ),
    "ledger": Lazy("cli.ledger_cmds", "Inspect, prove and audit the ledger."),
    "witness": Lazy(
        "cli.witness_cmds",
        "Run a C2SP tlog-witness (init, key, add-log, remove-log-key, serve, evidence), or "
        "name the witnesses this ledger asks to cosign its checkpoints (add, list, remove).",
    ),
    "party": Lazy("cli.attest", "Register parties (operator)."),
    "attest": Lazy("cli.attest", "Build, sign and append a statement from flags."),
    "lots": Lazy("cli.lots_cmds", "Read the custody state: lots, holdings, what is in transit."),
    "screening": Lazy(
        "cli.screening_cmds",
        "Screening lists (UFLPA Entity List, CBP WROs and Findings, high-risk regions).",
    ),
    "bundle": Lazy(
        "cli.bundle_cmds", "Evidence bundles: export one for a detained entry, verify one offline."
    ),
    "epcis": Lazy("cli.epcis_cmds", "GS1 EPCIS 2.0: import events, export traces, event hash IDs."),
}

app = typer.Typer(
    name="custody",
    cls=lazy_group(LAZY),
    help=(
        "custody: a traceability ledger for supply-chain provenance evidence.\n\n"
        "Suppliers sign custody attestations, the ledger appends them to an RFC 6962 "
        "transparency log, importers trace and verify a finished good and export an "
        "evidence bundle, and CBP auditors verify that bundle offline."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
keys_app = typer.Typer(help="Generate Ed25519 key pairs.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
@handle_errors
def init(
    home: HomeOpt = None,
    origin: Annotated[
        str | None,
        typer.Option(help="Log origin line for checkpoints (default: custody.<host>/ledger)."),
    ] = None,
    operator_id: Annotated[str, typer.Option(help="Party id of the operator.")] = "operator",
    operator_name: Annotated[str, typer.Option(help="Name of the operator.")] = "Ledger operator",
    country: Annotated[str, typer.Option(help="Operator's country (ISO 3166-1).")] = "US",
    as_json: JsonOpt = False,
) -> None:
    """Create the home, the operator key and entry 0; print the verifier key."""
    h = home_of(home)
    ledger, result = h.init(
        origin=origin, operator_id=operator_id, operator_name=operator_name, country=country
    )
    vkey = ledger.verifier_key()
    if as_json:
        emit_json(
            {"home": str(h.path), "origin": ledger.origin, "verifier_key": vkey, "seq": result.seq}
        )
        return
    out.print(f"Initialised a ledger in {h.path} (origin {ledger.origin}).")
    out.print(f"Operator key: {h.operator_key_path} (keep it private).")
    out.print("Operator verifier key (publish it; auditors pin it):")
    print(vkey)


@keys_app.command("generate")
@handle_errors
def keys_generate(
    out_prefix: Annotated[
        Path, typer.Option("--out", help="Write PREFIX.key (mode 0600) and PREFIX.pub.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Generate an Ed25519 key pair; print its key id (kid)."""
    from ledger.keys import PrivateKey, save_private_key, save_public_key

    key = PrivateKey.generate()
    priv = Path(f"{out_prefix}.key")
    pub = Path(f"{out_prefix}.pub")
    if pub.exists():
        fail(f"{pub} already exists; refusing to overwrite a key")
    if out_prefix.parent and not out_prefix.parent.exists():
        out_prefix.parent.mkdir(parents=True)
    save_private_key(priv, key)
    save_public_key(pub, key.public_key)
    if as_json:
        emit_json(
            {"kid": key.kid, "public_key": key.public_key_b64, "key": str(priv), "pub": str(pub)}
        )
        return
    print(key.kid)
    err.print(f"wrote {priv} (private, 0600) and {pub}")


@app.command()
@handle_errors
def sign(
    statement: Annotated[str, typer.Argument(help="Statement JSON file ('-' for stdin).")],
    key: Annotated[list[Path], typer.Option("--key", help="Private key file; repeat to co-sign.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the envelope here.")
    ] = None,
) -> None:
    """Wrap a statement in a DSSE envelope signed with KEY (payload kept verbatim)."""
    from ledger.envelope import sign_envelope
    from ledger.keys import load_private_key
    from ledger.statements import parse_statement

    text = read_input(statement)
    payload = text.encode("utf-8")
    if payload.endswith(b"\n"):
        payload = payload.rstrip(b"\n")
    parse_statement(payload)  # refuse to sign what the ledger would refuse to parse
    signers = [load_private_key(k) for k in key]
    env = sign_envelope(payload, signers)
    data = env.to_json() + "\n"
    if output is None:
        typer.echo(data, nl=False)
    else:
        output.write_text(data, encoding="utf-8")
        err.print(f"wrote {output}")


@app.command()
@handle_errors
def submit(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Envelope files: one envelope, a JSON array or JSON lines; '-' is stdin."
        ),
    ],
    home: HomeOpt = None,
    server: Annotated[
        str | None,
        typer.Option("--server", envvar="CUSTODY_SERVER", help="Submit to a custody server."),
    ] = None,
    as_json: JsonOpt = False,
    each: Annotated[
        bool, typer.Option("--each", help="Also print a line for every appended envelope.")
    ] = False,
) -> None:
    """Append envelopes, streamed; print rejected ones and a summary (--each: every one).

    Large inputs are appended in batches with signatures checked on worker processes;
    a progress bar is shown on a terminal. --json prints every result, in input order.
    """
    from cli.submit_cmds import run_submit

    run_submit(files, home, server, as_json, each)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("CUSTODY_LOG_LEVEL", "WARNING"),
        format="%(levelname)s %(name)s: %(message)s",
    )
    app()
