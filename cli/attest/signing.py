"""Build, sign and append (or write) one statement: the tail of every ``custody attest``.

:func:`signing` (a party's ``--key``) and :func:`key_signing` (a party's key or
the operator's) turn a command's common options into a :class:`Signing`, whose
:meth:`Signing.append` builds the statement with
:func:`ledger.statements.build_statement`, signs it into a DSSE envelope and
appends it to the home's ledger (or writes it to ``--out``), then reports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli.attest.parsers import now
from cli.common import home_of
from cli.output import emit_json, fail, out
from ledger.errors import ConfigError, InputError, KeyFormatError

if TYPE_CHECKING:
    from ledger.envelope import Envelope
    from ledger.home import Home
    from ledger.keys import PrivateKey
    from ledger.log import Ledger


@dataclass
class Session:
    """The home and, opened on first use, its ledger."""

    home: Home
    _ledger: Ledger | None = field(default=None, init=False)

    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = self.home.open()
        return self._ledger

    def reader(self) -> Ledger:
        """The ledger for reads only (the key lookup needs no operator key)."""
        if self._ledger is None:
            return self.home.open(with_key=False)
        return self._ledger

    def owner_of(self, key: PrivateKey) -> str:
        """The party whose registered key this is."""
        with self.reader().store.read() as r:
            record = r.key(key.kid)
        if record is None:
            raise InputError(
                f"key {key.kid[:16]}… is not registered in the ledger at {self.home.path}; "
                "pass --issuer (or register the key first)",
                code="invalid_input.unknown_key",
                details={"kid": key.kid},
            )
        return record.party

    def digest_of(self, ref: str, option: str) -> str:
        """A statement digest as given, or the digest of the entry at seq ``ref``."""
        if ref.startswith("sha256:"):
            return ref
        if not ref.isdigit():
            raise InputError(
                f"{option}: must be a statement digest (sha256:<hex>) or a seq, got {ref!r}",
                code="invalid_input.statement",
                details={"value": ref},
            )
        from ledger.errors import NotFoundError

        with self.reader().store.read() as r:
            try:
                return r.entry(int(ref)).digest
            except NotFoundError:
                raise InputError(
                    f"{option}: the ledger has no entry at seq {ref}",
                    code="invalid_input.statement",
                    details={"seq": int(ref)},
                ) from None

    def operator_id(self) -> str:
        with self.reader().store.read() as r:
            operator = r.operator()
        if operator is None:
            raise ConfigError(f"the ledger at {self.home.path} has no operator entry yet")
        return operator


def public_key_arg(value: str) -> bytes:
    """A ``.pub`` file (or a PEM private key file), or the base64 key itself."""
    from ledger.keys import load_public_key, public_key_from_b64

    path = Path(value)
    if path.exists():
        return load_public_key(path)
    try:
        return public_key_from_b64(value)
    except KeyFormatError as e:
        raise KeyFormatError(
            f"{value}: no such public key file, and not a base64 public key",
            code="invalid_key.file",
        ) from e


def finish(
    session: Session,
    signer: PrivateKey,
    type_: str,
    statement_id: str,
    issuer: str,
    time: str,
    body: dict[str, Any],
    *,
    out_path: Path | None,
    as_json: bool,
) -> None:
    """Build, sign, then append (or write to ``out_path``) and report."""
    from ledger.envelope import sign_envelope
    from ledger.statements import build_statement

    payload = build_statement(type_, statement_id, issuer, time, **body)
    envelope = sign_envelope(payload, [signer])
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    if out_path is not None:
        write_envelope(out_path, envelope)
        if as_json:
            emit_json({"digest": digest, "id": statement_id, "out": str(out_path)})
        else:
            out.print(f"wrote {out_path}  {digest}")
        return
    (result,) = session.ledger().submit([envelope])
    report(result.to_json(), as_json)


def write_envelope(path: Path, envelope: Envelope) -> None:
    path.write_text(envelope.to_json() + "\n", encoding="utf-8")


def report(result: dict[str, Any], as_json: bool) -> None:
    """Print one submit result; exit 1 when it was rejected."""
    error = result.get("error")
    if as_json:
        emit_json(result)
        if error is not None:
            raise typer.Exit(1)
        return
    if error is not None:
        fail(f"rejected: {error['message']} [{error['code']}]")
    dup = "  (already in the ledger)" if result.get("duplicate") else ""
    out.print(f"seq {result['seq']}  {result['digest']}{dup}")
    doc = result.get("document")
    if isinstance(doc, dict):
        out.print(f"document {doc.get('sha256')}  {doc.get('status')} ({doc.get('size')} bytes)")


@dataclass
class Signing:
    """Who signs a statement, as whom, when, and where it goes (ledger or ``--out``)."""

    session: Session
    signer: PrivateKey
    default_issuer: Callable[[], str]
    issuer: str | None = None
    statement_id: str | None = None
    time: str | None = None
    out_path: Path | None = None
    as_json: bool = False
    replaces: str | None = None
    """``--replaces``: a digest or a seq of the statement the new one corrects."""
    server: str | None = None
    """``--server``: append through this custody server instead of the home's ledger."""

    def who(self) -> str:
        """``--issuer``, else the default (looked up only when needed)."""
        return self.issuer if self.issuer is not None else self.default_issuer()

    @cached_property
    def when(self) -> str:
        """``--time``, else now (fixed on first use)."""
        return self.time or now()

    def append(
        self, type_: str, default_id: str, body: dict[str, Any], document: bytes | None = None
    ) -> None:
        """Build, sign and append (or write) the statement; ``--id`` wins over ``default_id``.
        With ``--server``, ``document`` (the bytes it cites) is uploaded after it."""
        if self.replaces is not None:
            if self.server is not None and not self.replaces.startswith("sha256:"):
                raise InputError(
                    "--replaces: with --server, give the digest (sha256:...) of the statement",
                    code="invalid_input.statement",
                )
            replaced = self.replaces
            if self.server is None:
                replaced = self.session.digest_of(self.replaces, "--replaces")
            body = {**body, "replaces": replaced}
        if self.server is not None and self.out_path is None:
            self._append_remote(self.server, type_, self.statement_id or default_id, body, document)
            return
        finish(
            self.session,
            self.signer,
            type_,
            self.statement_id or default_id,
            self.who(),
            self.when,
            body,
            out_path=self.out_path,
            as_json=self.as_json,
        )

    def _append_remote(
        self, server: str, type_: str, sid: str, body: dict[str, Any], document: bytes | None
    ) -> None:
        """Log in as the issuer, append through ``server``, then upload ``document``."""
        from cli.client import Client
        from ledger.envelope import sign_envelope
        from ledger.statements import build_statement

        if self.issuer is None:
            raise InputError(
                "with --server, give --issuer (the party the --key belongs to)",
                code="invalid_input.issuer",
            )
        payload = build_statement(type_, sid, self.issuer, self.when, **body)
        envelope = sign_envelope(payload, [self.signer])
        with Client(server) as client:
            client.login(self.issuer, self.signer)
            (result,) = client.submit([envelope])
            if result.get("error") is None and document is not None:
                sha = hashlib.sha256(document).hexdigest()
                result["document"] = client.upload(sha, document)
        report(result, self.as_json)


def signing(
    home: Path | None,
    key: Path,
    issuer: str | None,
    statement_id: str | None,
    time: str | None,
    out_path: Path | None,
    as_json: bool,
) -> Signing:
    """Sign with ``--key``; the issuer defaults to the party that owns it."""
    from ledger.keys import load_private_key

    session = Session(home_of(home))
    signer = load_private_key(key)
    return Signing(
        session,
        signer,
        lambda: session.owner_of(signer),
        issuer,
        statement_id,
        time,
        out_path,
        as_json,
    )


def key_signing(
    home: Path | None,
    key: Path | None,
    issuer: str | None,
    statement_id: str | None,
    time: str | None,
    out_path: Path | None,
    as_json: bool,
) -> Signing:
    """Sign with ``--key`` when given, else with the home's operator key (as the operator)."""
    if key is not None:
        return signing(home, key, issuer, statement_id, time, out_path, as_json)
    session = Session(home_of(home))
    signer = session.home.operator_key()
    return Signing(
        session, signer, session.operator_id, issuer, statement_id, time, out_path, as_json
    )
