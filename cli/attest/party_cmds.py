"""``custody party register`` (the operator registers a party and its first keys) and
``custody attest key|revoke`` (a party's later keys)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.attest.options import IdOpt, IssuerOpt, OptionalKeyOpt, OutOpt, TimeOpt
from cli.attest.parsers import parse_time_option, readable_id, split_list
from cli.attest.signing import Session, Signing, key_signing, public_key_arg
from cli.common import HomeOpt, JsonOpt, home_of


def party_register(
    party_id: Annotated[str, typer.Option("--id", help="Party id, e.g. 'gin' or 'acme.cn'.")],
    name: Annotated[str, typer.Option("--name", help="Organisation name.")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 country.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="Role: supplier, importer, auditor, lab, operator (repeat, or comma-separate).",
        ),
    ],
    public_key: Annotated[
        list[str],
        typer.Option("--public-key", help="Public key file (PREFIX.pub); repeat for several."),
    ],
    subdivision: Annotated[
        str | None, typer.Option("--subdivision", help="ISO 3166-2 subdivision, e.g. US-TX.")
    ] = None,
    address: Annotated[str | None, typer.Option("--address", help="Postal address.")] = None,
    lei: Annotated[str | None, typer.Option("--lei", help="Legal Entity Identifier.")] = None,
    duns: Annotated[str | None, typer.Option("--duns", help="D-U-N-S number (9 digits).")] = None,
    gln: Annotated[
        list[str] | None,
        typer.Option(
            "--gln",
            help="GS1 Global Location Number (13 digits, check digit validated); repeatable.",
        ),
    ] = None,
    statement_id: Annotated[
        str | None,
        typer.Option("--statement-id", help="Statement id (default: party/<id>)."),
    ] = None,
    time: TimeOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a party and its first keys (a `party` statement signed by the operator key).

    Example: custody party register --id gin --name "Plains Gin" --country US
    --subdivision US-TX --role supplier --public-key gin.pub
    """
    from ledger.keys import b64encode

    session = Session(home_of(home))
    s = Signing(
        session,
        session.home.operator_key(),
        session.operator_id,
        statement_id=statement_id,
        time=time,
        as_json=as_json,
    )
    info: dict[str, Any] = {
        "id": party_id,
        "name": name,
        "country": country,
        "roles": split_list(role),
    }
    if subdivision is not None:
        info["subdivision"] = subdivision
    if address is not None:
        info["address"] = address
    identifiers = {k: v for k, v in (("lei", lei), ("duns", duns)) if v is not None}
    if identifiers:
        info["identifiers"] = identifiers
    if gln:
        info["glns"] = list(gln)
    keys = [b64encode(public_key_arg(p)) for p in public_key]
    s.append("party", readable_id("party", party_id), {"party": info, "keys": keys})


def attest_key(
    party: Annotated[str, typer.Option("--party", help="Party that gets the key.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="The new public key file (PREFIX.pub).")
    ],
    key: OptionalKeyOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a public key to a party (signed by one of its keys or by the operator).

    Example: custody attest key --key gin.key --party gin --public-key gin-2026.pub
    """
    from ledger.keys import b64encode, kid_of

    s = key_signing(home, key, issuer, statement_id, time, out_path, as_json)
    pk = public_key_arg(public_key)
    body = {"party": party, "public_key": b64encode(pk)}
    s.append("key", readable_id("key", party, kid_of(pk)[:16]), body)


def attest_revoke(
    party: Annotated[str, typer.Option("--party", help="Party whose key is revoked.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="The public key file (PREFIX.pub) to revoke.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="superseded or compromised.")],
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective",
            parser=parse_time_option,
            help="For 'compromised': from when the key is untrusted; signatures appended at or "
            "after this time are voided at verification.",
        ),
    ] = None,
    key: OptionalKeyOpt = None,
    issuer: IssuerOpt = None,
    statement_id: IdOpt = None,
    time: TimeOpt = None,
    out_path: OutOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a party's key: it never signs again (signed by the party or the operator).

    Example: custody attest revoke --party gin --public-key gin-old.pub --reason compromised
    --effective 2026-03-01T00:00:00Z
    """
    from ledger.keys import b64encode, kid_of

    if reason not in ("superseded", "compromised"):
        raise typer.BadParameter(f"--reason must be superseded or compromised, got {reason!r}")
    s = key_signing(home, key, issuer, statement_id, time, out_path, as_json)
    pk = public_key_arg(public_key)
    body: dict[str, Any] = {"party": party, "public_key": b64encode(pk), "reason": reason}
    if effective is not None:
        body["effective"] = effective
    s.append("revoke", readable_id("revoke", party, kid_of(pk)[:16]), body)
