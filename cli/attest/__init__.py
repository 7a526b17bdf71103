"""``custody party register`` and ``custody attest TYPE``: statements from typed flags.

Each command builds one ``custody/1`` statement (SPEC §3) with
:func:`ledger.statements.build_statement` (so it is validated exactly as the
ledger will parse it), signs it into a DSSE envelope with ``--key``
(:func:`ledger.envelope.sign_envelope`) and appends it to the home's ledger,
printing ``seq N  sha256:...``; a rejection is one line on stderr and exit 1.
``--json`` prints one object shaped like an item of ``submit --json``.
``--out FILE`` writes the signed envelope instead of appending it (for
``custody submit [--server URL] FILE`` later).

Defaults a person does not have to type:

- ``--issuer``: the party that owns ``--key`` (its kid looked up in the ledger);
- ``--time``: now, to the second (any RFC 3339 time with an offset is accepted
  and written in UTC with ``Z``);
- ``--id``: readable and derived from the statement, so the same command with
  the same ``--time`` is idempotent: ``origin/<lot>``, ``transform/<first
  output>``, ``dispatch/<lot>/<to>/<time>``, ``receipt/<dispatch hex[:16]>``,
  ``evidence/<kind>/<first lot>/<sha256[:12]>``, ``import/<entry>/<lot>``,
  ``key/<party>/<kid[:16]>``, ``revoke/<party>/<kid[:16]>``,
  ``retract/<target hex[:32]>``, ``party/<id>``.
  An id longer than 128 characters becomes ``<type>/<32 hex of its sha256>``.

The compact item syntax (``--input LOT:AMOUNT`` ...) is described in
:mod:`cli.attest.parsers` and in each command's ``--help``.

The package: ``parsers`` (values and compact items), ``options`` (the shared typed
options), ``signing`` (build, sign, append or write, report), and one module per
group of commands: ``custody_cmds`` (origin, transform, dispatch, receipt),
``declare_cmds`` (evidence, import), ``party_cmds`` (party register, key, revoke),
``retract_cmds`` (retract; ``--replaces`` on origin, transform, dispatch, receipt,
evidence and import corrects an earlier statement in one).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from cli.attest.custody_cmds import attest_dispatch, attest_origin, attest_receipt, attest_transform
from cli.attest.declare_cmds import attest_evidence, attest_import
from cli.attest.parsers import (
    Amount,
    now,
    parse_amount,
    parse_claim,
    parse_coordinate,
    parse_decimal,
    parse_document,
    parse_external,
    parse_input,
    parse_output,
    parse_time_option,
    parse_unit,
    readable_id,
)
from cli.attest.party_cmds import attest_key, attest_revoke, party_register
from cli.attest.retract_cmds import attest_retract
from cli.attest.signing import Session, Signing, finish, key_signing, report, signing
from cli.output import handle_errors

__all__ = [
    "Amount",
    "Session",
    "Signing",
    "attest_dispatch",
    "attest_evidence",
    "attest_import",
    "attest_key",
    "attest_origin",
    "attest_receipt",
    "attest_retract",
    "attest_revoke",
    "attest_transform",
    "finish",
    "key_signing",
    "now",
    "parse_amount",
    "parse_claim",
    "parse_coordinate",
    "parse_decimal",
    "parse_document",
    "parse_external",
    "parse_input",
    "parse_output",
    "parse_time_option",
    "parse_unit",
    "party_register",
    "readable_id",
    "register",
    "report",
    "signing",
]


def register(app: typer.Typer) -> None:
    """Add ``custody party ...`` and ``custody attest ...`` to ``app``."""
    party_app = typer.Typer(help="Register parties (operator).", no_args_is_help=True)
    party_app.command("register")(handle_errors(party_register))
    app.add_typer(party_app, name="party")

    attest_app = typer.Typer(
        help=(
            "Build, sign and append a statement from flags. Prints 'seq N  sha256:...'; "
            "--out FILE writes the envelope instead. Items: --input LOT:AMOUNT, "
            "--output LOT:MATERIAL:AMOUNT, --external MATERIAL:AMOUNT:CC[:CC-SUB][:SUPPLIER], "
            "--document FILE:KIND, --claim KEY=VALUE; AMOUNT is QTY UNIT[=MASSkg] like 4200kg."
        ),
        no_args_is_help=True,
    )
    commands: dict[str, Callable[..., None]] = {
        "origin": attest_origin,
        "transform": attest_transform,
        "dispatch": attest_dispatch,
        "receipt": attest_receipt,
        "evidence": attest_evidence,
        "import": attest_import,
        "key": attest_key,
        "revoke": attest_revoke,
        "retract": attest_retract,
    }
    for name, fn in commands.items():
        attest_app.command(name)(handle_errors(fn))
    app.add_typer(attest_app, name="attest")
