"""Rules 1 and 2: who must sign a statement, whether they did with a key
registered and not revoked at this point of the ledger, and the clock."""

from __future__ import annotations

from ledger.custody.records import (
    MAX_CLOCK_SKEW,
    EntryRef,
    SigCheck,
    StateReader,
    _reject,
)
from ledger.envelope import no_keyid
from ledger.errors import SignatureError
from ledger.keys import b64decode, kid_of
from ledger.statements import (
    Key,
    Party,
    Statement,
)


def signing_parties(stmt: Statement, state: StateReader) -> tuple[str, ...]:
    """Whose key must sign: the operator's for ``party``; for ``key`` and
    ``revoke`` the issuer must be the party itself or the operator."""
    if isinstance(stmt, Party):
        op = state.operator()
        return (op,) if op is not None else (stmt.party.id,)
    return (stmt.issuer,)


def check_signatures(state: StateReader, entry: EntryRef, sig_ok: SigCheck) -> str:
    """Step 1. Return the kid of the issuer's valid signature, or raise."""
    stmt = entry.statement
    op = state.operator()
    if op is None:
        return _check_bootstrap(entry, sig_ok)
    wanted = (op,) if isinstance(stmt, Party) else (stmt.issuer,)  # signing_parties
    issuer_kid: str | None = None
    revoked: SignatureError | None = None  # raised only if no unrevoked issuer key signed
    for i, (kid, sig) in enumerate(entry.signatures):
        if not kid:
            raise no_keyid(i)
        rec = state.key(kid)
        if rec is None and _proves_possession(entry, kid, sig, sig_ok, i):
            continue
        if rec is None:
            raise SignatureError(
                f"signatures[{i}]: key {kid[:16]}… is not registered in the ledger",
                code="bad_signature.unknown_key",
                details={"kid": kid, "index": i},
            )
        if not sig_ok(rec.public_key, sig, entry.pae):
            raise SignatureError(
                f"signatures[{i}] by {rec.party}'s key {kid[:16]}… does not verify",
                code="bad_signature.invalid",
                details={"kid": kid, "index": i, "party": rec.party},
            )
        if rec.party in wanted and issuer_kid is None:
            if rec.revoked_seq is not None:
                revoked = revoked or SignatureError(
                    f"signatures[{i}]: {rec.party}'s key {kid[:16]}… was revoked "
                    f"({rec.reason}) at seq {rec.revoked_seq}",
                    code="bad_signature.revoked",
                    details={
                        "kid": kid,
                        "party": rec.party,
                        "revoked_seq": rec.revoked_seq,
                    },
                )
            else:
                issuer_kid = kid
    if issuer_kid is None and revoked is not None:
        raise revoked
    if issuer_kid is None:
        who = " or ".join(sorted(wanted))
        if state.party(stmt.issuer) is None and not isinstance(stmt, Party):
            raise SignatureError(
                f"issuer {stmt.issuer!r} is not a registered party",
                code="bad_signature.unknown_issuer",
                details={"issuer": stmt.issuer},
            )
        raise SignatureError(
            f"no signature by a key of {who}",
            code="bad_signature.not_issuer",
            details={"issuer": stmt.issuer, "required": sorted(wanted)},
        )
    return issuer_kid


def _proves_possession(entry: EntryRef, kid: str, sig: bytes, sig_ok: SigCheck, i: int) -> bool:
    """A ``key`` statement may also be signed by the key it adds (proof of possession):
    an operator key rotation is one signed by the old and the new key
    (``ledger.rotation``, docs/decisions/0006-operator-key-rotation.md)."""
    stmt = entry.statement
    if not isinstance(stmt, Key) or kid != kid_of(stmt.public_key_bytes):
        return False
    if not sig_ok(stmt.public_key_bytes, sig, entry.pae):
        raise SignatureError(
            f"signatures[{i}] by the key this statement adds does not verify",
            code="bad_signature.invalid",
            details={"kid": kid, "index": i},
        )
    return True


def _check_bootstrap(entry: EntryRef, sig_ok: SigCheck) -> str:
    stmt = entry.statement
    if entry.seq != 0 or not isinstance(stmt, Party) or "operator" not in stmt.party.roles:
        raise _reject(
            "no_operator",
            "the ledger's first entry must be the operator's own `party` statement",
        )
    if stmt.issuer != stmt.party.id:
        raise _reject("no_operator", "the operator registers itself: issuer must equal party.id")
    own = {kid_of(b): b for b in (b64decode(k) for k in stmt.keys)}
    for i, (kid, sig) in enumerate(entry.signatures):
        pk = own.get(kid)
        if pk is None or not sig_ok(pk, sig, entry.pae):
            raise SignatureError(
                f"signatures[{i}] is not a valid signature by the operator's listed keys",
                code="bad_signature.invalid",
                details={"kid": kid, "index": i},
            )
    return entry.signatures[0][0]


def check_time(entry: EntryRef) -> None:
    """Step 2: an event may not be claimed more than 5 minutes in the future."""
    t = entry.statement.time
    if t > entry.received_at + MAX_CLOCK_SKEW:
        raise _reject(
            "future_time",
            f"time {t.isoformat()} is more than 5 minutes after the ledger clock "
            f"({entry.received_at.isoformat()})",
            time=t.isoformat(),
            ledger_time=entry.received_at.isoformat(),
        )
