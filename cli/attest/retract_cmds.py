"""``custody attest retract``: void one of the issuer's own statements (the
commands whose statements can be corrected take ``--replaces``, :mod:`.options`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.attest.options import IdOpt, IssuerOpt, KeyOpt, OutOpt, TimeOpt
from cli.attest.parsers import readable_id
from cli.attest.signing import signing
from cli.common import HomeOpt, JsonOpt
from ledger.errors import InputError


def attest_retract(
    key: KeyOpt,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the statement is void, e.g. 'wrong quantity'.")
    ],
    statement: Annotated[
        str | None,
        typer.Option("--statement", help="Digest (sha256:...) of the statement to retract."),
    ] = None,
    seq: Annotated[
        int | None, typer.Option("--seq", min=0, help="Seq of the statement to retract.")
    ] = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retract one of the issuer's own statements (origin, transform, dispatch, receipt,
    evidence, import) while nothing downstream has used what it did; its effects are
    undone, the log keeps both, and verification lists it as void.

    Example: custody attest retract --key farm.key --seq 5 --reason "wrong quantity"
    """
    if (statement is None) == (seq is None):
        raise InputError(
            "give exactly one of --statement DIGEST and --seq N",
            code="invalid_input.statement",
        )
    s = signing(home, key, issuer, statement_id, time, out_path, as_json)
    ref = statement if statement is not None else str(seq)
    digest = s.session.digest_of(ref, "--statement" if seq is None else "--seq")
    body = {"statement": digest, "reason": reason}
    s.append("retract", readable_id("retract", digest.removeprefix("sha256:")[:32]), body)
