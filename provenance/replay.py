"""Replay a trace's statements through the custody state machine (SPEC §3, §6).

Verification never trusts the ledger's derived tables: it feeds the trace's
statements, in seq order, to the same pure :func:`ledger.custody.apply` that
the append path uses, over a :class:`ledger.custody.ScopedState` limited to
the traced lots (the evidence holds every statement naming them, and the
full ``party`` / ``key`` / ``revoke`` history of every party involved).

A statement the state machine refuses becomes a :class:`Rejection`, and the
replay goes on. So that one broken link yields one finding rather than a
cascade, a refused statement is judged again with the refused rule waived,
once per problem, and its effects are applied when nothing else is wrong:

=================================================  ===============================
refusal                                            judged again as if
=================================================  ===============================
``bad_signature.*``                                signed by a valid issuer key
``rejected.future_time``                           its time were its ledger time
``rejected.unknown_lot``, ``not_held``,            the issuer held exactly what it
``overdraw`` (per lot)                             draws (so the holding ends at 0)
``rejected.unknown_party`` (dispatch ``to``)       the party were registered
``rejected.receipt_exceeds_dispatch``,             the dispatch were addressed to
``not_addressee``                                  the issuer, for what it receives
=================================================  ===============================

Other refusals (a lot created twice, a receipt without a dispatch or received
twice, key-management errors) leave the statement out; what depends on it is
refused in turn and reported.

Finally, a ``compromised`` revocation with an ``effective`` time voids the
revoked key's signatures on statements appended (``received_at``) at or
after that time, even though they precede the revocation in the ledger:
each one is a :class:`VoidedSignature`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledger.custody import (
    Changes,
    DispatchRecord,
    EntryRef,
    KeyRecord,
    LotRecord,
    PartyRecord,
    ScopedState,
    SigCheck,
    StatementRecord,
    StateReader,
    apply,
    signing_parties,
)
from ledger.errors import CustodyError
from ledger.keys import is_valid_signature, kid_of
from ledger.sigcheck import BatchVerifier, Guess, Memo, Preverified, preverify, verify_serial
from ledger.statements import Receipt, Revoke, Statement
from provenance.graph import ParsedEntry

__all__ = [
    "Rejection",
    "Replay",
    "VoidedSignature",
    "replay",
]

log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 16


@dataclass(frozen=True, slots=True)
class Rejection:
    """A statement the custody state machine refuses at its point of the trace."""

    seq: int
    digest: str
    type: str
    issuer: str
    code: str
    message: str
    details: dict[str, Any]
    applied: bool
    """Whether the statement's effects were applied anyway (the refusal was waived)."""


@dataclass(frozen=True, slots=True)
class VoidedSignature:
    """A signature by a key revoked as ``compromised`` from a time before it was appended."""

    seq: int
    digest: str
    kid: str
    party: str
    received_at: datetime
    revoke_seq: int
    revoke_digest: str
    effective: datetime


@dataclass(frozen=True)
class Replay:
    """The outcome of replaying a trace: refusals, voided signatures, the final state."""

    rejections: list[Rejection]
    voided: list[VoidedSignature]
    state: ScopedState


class _Lenient:
    """A state reader that waives, for one statement, the refusals named so far."""

    def __init__(self, base: StateReader, stmt: Statement) -> None:
        self.base = base
        self.stmt = stmt
        self.signer: str | None = None
        self.kids: frozenset[str] = frozenset()
        self.lots: set[str] = set()
        self.parties: set[str] = set()
        self.readdress = False
        self.draws = {lot: qty.base for lot, qty in stmt.draws()}

    def operator(self) -> str | None:
        return self.base.operator()

    def party(self, party_id: str) -> PartyRecord | None:
        found = self.base.party(party_id)
        if found is None and party_id in self.parties:
            return PartyRecord(party_id, party_id, "", None, (), -1)
        return found

    def key(self, kid: str) -> KeyRecord | None:
        if self.signer is not None and kid in self.kids:
            return KeyRecord(kid, self.signer, b"", -1)
        return self.base.key(kid)

    def lot(self, lot_id: str) -> LotRecord | None:
        found = self.base.lot(lot_id)
        if found is None and lot_id in self.lots:
            return LotRecord(lot_id, "", "", "*", Decimal("Infinity"), -1, placeholder=True)
        return found

    def holding(self, lot_id: str, party: str) -> Decimal:
        held = self.base.holding(lot_id, party)
        if lot_id in self.lots and party == self.stmt.issuer:
            need = self.draws.get(lot_id)
            if need is not None and held < need:
                return need
        return held

    def dispatch(self, digest: str) -> DispatchRecord | None:
        found = self.base.dispatch(digest)
        stmt = self.stmt
        if found is not None and self.readdress and isinstance(stmt, Receipt):
            return replace(found, to=stmt.issuer, quantity=max(found.quantity, stmt.quantity.base))
        return found

    def statement(self, digest: str) -> StatementRecord | None:
        return self.base.statement(digest)

    def waive(self, error: CustodyError, entry: EntryRef) -> bool:
        """Waive ``error`` for the next attempt; False when it cannot be waived (again)."""
        code = error.code
        if code.startswith("bad_signature"):
            if self.signer is not None or self.base.operator() is None:
                return False
            self.signer = signing_parties(entry.statement, self.base)[0]
            self.kids = frozenset(kid for kid, _ in entry.signatures)
            return True
        lot = error.details.get("lot")
        if code in ("rejected.unknown_lot", "rejected.not_held", "rejected.overdraw"):
            if not isinstance(lot, str) or lot in self.lots or lot not in self.draws:
                return False
            self.lots.add(lot)
            return True
        party = error.details.get("party")
        if code == "rejected.unknown_party" and self.stmt.type == "dispatch":
            if not isinstance(party, str) or party in self.parties:
                return False
            self.parties.add(party)
            return True
        if code in ("rejected.receipt_exceeds_dispatch", "rejected.not_addressee"):
            if self.readdress:
                return False
            self.readdress = True
            return True
        return False


def _always(_pk: bytes, _sig: bytes, _msg: bytes) -> bool:
    return True


def _judge(
    state: StateReader, e: ParsedEntry, sig_ok: SigCheck
) -> tuple[Changes | None, list[CustodyError]]:
    """Apply one statement, waiving refusals one by one (see the module docstring)."""
    entry = EntryRef(e.seq, e.received_at, e.statement, e.signatures, e.pae)
    errors: list[CustodyError] = []
    reader: StateReader = state  # the first attempt reads the state as it is
    lenient: _Lenient | None = None
    check = sig_ok
    for _ in range(_MAX_ATTEMPTS):
        try:
            return apply(reader, entry, check), errors
        except CustodyError as error:
            errors.append(error)
            if lenient is None:
                lenient = _Lenient(state, e.statement)
                reader = lenient
            if error.code == "rejected.future_time":
                if entry.received_at >= e.statement.time:
                    break
                entry = replace(entry, received_at=e.statement.time)
                continue
            if not lenient.waive(error, entry):
                break
            if error.code.startswith("bad_signature"):
                check = _always
    return None, errors


def replay(
    entries: Iterable[ParsedEntry],
    scope: set[str],
    sig_ok: SigCheck = is_valid_signature,
    *,
    verifier: BatchVerifier | None = verify_serial,
    preverified: Preverified | None = None,
) -> Replay:
    """Replay ``entries`` in seq order over a state scoped to the lots in ``scope``.

    Signatures by keys the evidence registers are checked first in one batch by
    ``verifier`` (which may fan out to processes), or were started earlier
    (``preverified``); any other check calls ``sig_ok``.
    """
    ordered = sorted(entries, key=lambda e: e.seq)
    state = ScopedState(scope)
    if preverified is None and verifier is not None:
        preverified = preverify(ordered, verifier)
    check: SigCheck
    if preverified is not None:
        check = preverified.result(sig_ok)
    elif isinstance(sig_ok, Memo | Guess):
        check = sig_ok  # remembers its verdicts already
    else:
        check = Memo(check=sig_ok)

    rejections: list[Rejection] = []
    accepted_revokes: list[ParsedEntry] = []
    ever_held: set[tuple[str, str]] = set()
    for e in ordered:
        changes, errors = _judge(state, e, check)
        st = e.statement
        for error in errors:
            _mark_exhausted(error, st.issuer, ever_held)
            rejections.append(
                Rejection(
                    e.seq,
                    st.digest,
                    st.type,
                    st.issuer,
                    error.code,
                    error.message,
                    dict(error.details),
                    changes is not None,
                )
            )
        if changes is not None:
            state.commit(changes)
            ever_held.update(k for k, v in changes.holdings.items() if v > 0)
            if isinstance(st, Revoke) and not errors:
                accepted_revokes.append(e)
    voided = _voided(ordered, accepted_revokes)
    if rejections or voided:
        log.debug("replay: %d refusals, %d voided signatures", len(rejections), len(voided))
    return Replay(rejections, voided, state)


def _mark_exhausted(error: CustodyError, issuer: str, ever_held: set[tuple[str, str]]) -> None:
    """A draw by a party whose holding of the lot is used up is double-spending.

    The state machine says ``not_held`` whether the party never held the lot
    (CUSTODY) or held it and spent it all (OVERDRAW); ``details["exhausted"]``
    tells them apart.
    """
    lot = error.details.get("lot")
    if error.code == "rejected.not_held" and (lot, issuer) in ever_held:
        error.details["exhausted"] = True
        error.message += " (its holding was used up before: double-spending)"


def _voided(ordered: list[ParsedEntry], revokes: list[ParsedEntry]) -> list[VoidedSignature]:
    compromised: dict[str, tuple[ParsedEntry, Revoke, datetime]] = {}
    for e in revokes:
        st = e.statement
        if isinstance(st, Revoke) and st.reason == "compromised" and st.effective is not None:
            compromised.setdefault(kid_of(st.public_key_bytes), (e, st, st.effective))
    if not compromised:
        return []
    by_kid: dict[str, list[ParsedEntry]] = defaultdict(list)
    for e in ordered:
        for kid, _ in e.signatures:
            if kid in compromised:
                by_kid[kid].append(e)
    out: list[VoidedSignature] = []
    for kid, (rev, st, effective) in compromised.items():
        for e in by_kid.get(kid, []):
            if e.seq < rev.seq and e.received_at >= effective:
                out.append(
                    VoidedSignature(
                        e.seq,
                        e.digest,
                        kid,
                        st.party,
                        e.received_at,
                        rev.seq,
                        rev.digest,
                        effective,
                    )
                )
    out.sort(key=lambda v: v.seq)
    return out
