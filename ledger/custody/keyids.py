"""DSSE ``keyid`` is an unauthenticated hint (protocol.md): it may be missing, or name a
key in a producer's own scheme (securesystemslib's default keyid is a hash of its own
key encoding, not custody's ``kid``). :func:`name_signing_keys` names each such
signature by the custody key that verifies it, so that what is stored names custody
keys: the state machine, ``ledger audit``, trace replay and bundle verification all
look keys up by ``kid``, and a leaf never needs the hint again.

Only the keys of the parties that must sign (:func:`signing_parties`) are tried, at
most :data:`MAX_TRIALS` checks per envelope; a signature no candidate verifies keeps
its keyid, and the state machine rejects it (``bad_signature.unknown_key``).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from typing import Final, Protocol

from ledger.custody.records import KeyRecord, SigCheck, StateReader
from ledger.custody.signatures import signing_parties
from ledger.envelope import Envelope, EnvelopeSignature
from ledger.errors import InputError
from ledger.keys import b64decode, is_valid_signature, kid_of
from ledger.statements import Party, Statement

MAX_TRIALS: Final = 64


class KeyDirectory(StateReader, Protocol):
    """A state that can also list a party's keys (the store's read transaction can)."""

    def keys_of(self, party: str) -> list[KeyRecord]: ...


def _candidates(stmt: Statement, state: KeyDirectory) -> dict[str, bytes]:
    """kid → public key of every key that may sign ``stmt``, unrevoked keys first."""
    out: dict[str, bytes] = {}
    if isinstance(stmt, Party) and state.operator() is None:
        for text in stmt.keys:  # the operator's own first statement lists its keys
            try:
                public_key = b64decode(text)
            except InputError:
                continue
            out.setdefault(kid_of(public_key), public_key)
        return out
    for party in signing_parties(stmt, state):
        for rec in sorted(state.keys_of(party), key=lambda r: r.revoked_seq is not None):
            out.setdefault(rec.kid, rec.public_key)
    return out


def name_signing_keys(
    envelope: Envelope,
    stmt: Statement,
    state: KeyDirectory,
    sig_ok: SigCheck = is_valid_signature,
    *,
    known: Container[str] | None = None,
) -> Envelope:
    """``envelope`` with every signature whose keyid names no registered key named
    by the signing party's key that verifies it (the same envelope if none changes).

    ``known``, when given, holds every registered kid among the envelope's keyids
    (looked up in bulk), which spares looking each keyid up.
    """

    def unregistered(kid: str) -> bool:
        if known is not None:
            return kid not in known
        return not kid or state.key(kid) is None

    open_ = [i for i, s in enumerate(envelope.signatures) if unregistered(s.keyid)]
    if not open_:
        return envelope
    candidates = _candidates(stmt, state)
    signatures = list(envelope.signatures)
    trials = 0
    for i in open_:
        sig = signatures[i].sig
        for kid, public_key in candidates.items():
            if trials >= MAX_TRIALS:
                break
            trials += 1
            if sig_ok(public_key, sig, envelope.pae):
                signatures[i] = EnvelopeSignature(kid, sig)
                break
    if tuple(signatures) == envelope.signatures:
        return envelope
    return replace(envelope, signatures=tuple(signatures))
