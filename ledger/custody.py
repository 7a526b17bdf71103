"""The custody state machine (SPEC §3, "Custody state"): pure, no I/O.

``apply(state, entry)`` takes a read-only view of the current state and one
statement about to be appended at ``seq``, and returns the :class:`Changes` it
makes, or raises a :class:`~ledger.errors.RejectedError` /
:class:`~ledger.errors.SignatureError` naming the rule it breaks. Nothing is
changed on rejection. The same function serves the append path (over a
snapshot read under the write lock), ``ledger audit`` (replaying from seq 0)
and offline bundle verification (replaying the bundle's leaves).

Rules, in the order they are checked:

1. signatures: every signature verifies; at least one is by a key of the
   issuer (of the operator for ``party``) registered and not revoked at this
   point of the ledger (keys are judged by ledger order, not claimed times);
2. time: the event ``time`` is at most 5 minutes after the ledger clock;
3. the statement's own rule: lots are created once and held in full by their
   creator; transform inputs, dispatches and imports draw on the issuer's
   holding; dispatched quantity is in transit until the addressee's receipt,
   which may not exceed the dispatch nor happen twice.

Quantities are exact decimals in the base unit of their dimension (kg, pcs,
m, m2, l), so holdings arithmetic is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from ledger.envelope import Envelope
from ledger.errors import InputError, RejectedError, SignatureError
from ledger.keys import b64decode, check_public_key, kid_of
from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Key,
    Origin,
    Party,
    Receipt,
    Revoke,
    Statement,
    Transform,
)
from ledger.units import Quantity, dimension_of

MAX_CLOCK_SKEW = timedelta(minutes=5)
ZERO = Decimal(0)

SigCheck = Callable[[bytes, bytes, bytes], bool]
"""``(public_key, signature, message) -> ok``; lets callers memoise verification."""


@dataclass(frozen=True)
class PartyRecord:
    id: str
    name: str
    country: str
    subdivision: str | None
    roles: tuple[str, ...]
    seq: int


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    party: str
    public_key: bytes
    added_seq: int
    revoked_seq: int | None = None
    reason: str | None = None
    effective: datetime | None = None


@dataclass(frozen=True)
class LotRecord:
    id: str
    creator: str
    material: str
    unit: str
    quantity: Decimal  # in the base unit of the lot's dimension
    seq: int
    placeholder: bool = False  # a lot outside a scoped replay's scope

    @property
    def dimension(self) -> str:
        return dimension_of(self.unit)  # raises for an unknown unit, as a Quantity would


@dataclass(frozen=True)
class DispatchRecord:
    digest: str
    seq: int
    lot: str
    sender: str
    to: str
    quantity: Decimal  # base unit
    received: Decimal | None = None
    receipt_seq: int | None = None


@dataclass(frozen=True)
class EntryRef:
    """The statement at the point of the ledger being judged."""

    seq: int
    received_at: datetime
    statement: Statement
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, sig)
    pae: bytes


class StateReader(Protocol):
    """What the state machine needs to know; every lookup is by key."""

    def operator(self) -> str | None: ...
    def party(self, party_id: str) -> PartyRecord | None: ...
    def key(self, kid: str) -> KeyRecord | None: ...
    def lot(self, lot_id: str) -> LotRecord | None: ...
    def holding(self, lot_id: str, party: str) -> Decimal: ...
    def dispatch(self, digest: str) -> DispatchRecord | None: ...


@dataclass
class Changes:
    """What one statement (or a batch) does to the state."""

    operator: str | None = None
    parties: dict[str, PartyRecord] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    lots: dict[str, LotRecord] = field(default_factory=dict)
    holdings: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    dispatches: dict[str, DispatchRecord] = field(default_factory=dict)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (lot, role)
    party_refs: list[str] = field(default_factory=list)  # parties whose keys/record change

    def merge(self, other: Changes) -> None:
        if other.operator is not None:
            self.operator = other.operator
        self.parties.update(other.parties)
        self.keys.update(other.keys)
        self.lots.update(other.lots)
        self.holdings.update(other.holdings)
        self.dispatches.update(other.dispatches)


class MemoryState:
    """A state held in dicts, optionally layered over another reader.

    Used as a whole state (audit, bundle verification) and as the per-batch
    overlay over a storage snapshot (append).
    """

    def __init__(self, base: StateReader | None = None) -> None:
        self.base = base
        self.changes = Changes()

    def operator(self) -> str | None:
        if self.changes.operator is not None:
            return self.changes.operator
        return self.base.operator() if self.base else None

    def party(self, party_id: str) -> PartyRecord | None:
        p = self.changes.parties.get(party_id)
        if p is None and self.base is not None:
            return self.base.party(party_id)
        return p

    def key(self, kid: str) -> KeyRecord | None:
        k = self.changes.keys.get(kid)
        if k is None and self.base is not None:
            return self.base.key(kid)
        return k

    def lot(self, lot_id: str) -> LotRecord | None:
        lot = self.changes.lots.get(lot_id)
        if lot is None and self.base is not None:
            return self.base.lot(lot_id)
        return lot

    def holding(self, lot_id: str, party: str) -> Decimal:
        h = self.changes.holdings.get((lot_id, party))
        if h is None:
            return self.base.holding(lot_id, party) if self.base else ZERO
        return h

    def dispatch(self, digest: str) -> DispatchRecord | None:
        d = self.changes.dispatches.get(digest)
        if d is None and self.base is not None:
            return self.base.dispatch(digest)
        return d

    def commit(self, changes: Changes) -> None:
        self.changes.merge(changes)

    # Read-outs used by `lots show` and the tests.
    def holdings_of_lot(self, lot_id: str) -> dict[str, Decimal]:
        return {p: q for (lot, p), q in self.changes.holdings.items() if lot == lot_id and q}

    def in_transit(self, lot_id: str | None = None) -> list[DispatchRecord]:
        return [
            d
            for d in self.changes.dispatches.values()
            if d.received is None and (lot_id is None or d.lot == lot_id)
        ]


class ScopedState(MemoryState):
    """A replay over a subset of the ledger (a trace, a bundle).

    Lots in ``scope`` are judged exactly: the subset holds every statement
    that creates, draws on, dispatches or receives them. Lots outside it are
    stand-ins of unlimited holding, so a transform that draws on one traced
    lot and one untraced lot is judged on the traced one alone.
    """

    def __init__(self, scope: set[str]) -> None:
        super().__init__()
        self.scope = scope

    def lot(self, lot_id: str) -> LotRecord | None:
        if lot_id in self.scope:
            return super().lot(lot_id)
        return LotRecord(lot_id, "", "", "*", Decimal("Infinity"), -1, placeholder=True)

    def holding(self, lot_id: str, party: str) -> Decimal:
        if lot_id in self.scope:
            return super().holding(lot_id, party)
        return Decimal("Infinity")


def _reject(code: str, message: str, **details: object) -> RejectedError:
    return RejectedError(message, code=f"rejected.{code}", details=dict(details))


class _Tx:
    """A scratch view of ``state`` plus the changes of the statement being applied."""

    def __init__(self, state: StateReader) -> None:
        self.state = state
        self.out = Changes()

    def holding(self, lot_id: str, party: str) -> Decimal:
        h = self.out.holdings.get((lot_id, party))
        return self.state.holding(lot_id, party) if h is None else h

    def lot(self, lot_id: str) -> LotRecord | None:
        return self.out.lots.get(lot_id) or self.state.lot(lot_id)

    def exists(self, lot_id: str) -> bool:
        lot = self.lot(lot_id)
        return lot is not None and not lot.placeholder

    def add(self, lot_id: str, party: str, amount: Decimal) -> None:
        self.out.holdings[(lot_id, party)] = self.holding(lot_id, party) + amount

    def draw(self, lot_id: str, party: str, qty: Quantity, where: str) -> LotRecord:
        lot = self.lot(lot_id)
        if lot is None:
            raise _reject("unknown_lot", f"{where}: lot {lot_id!r} does not exist", lot=lot_id)
        amount = _in_lot_dimension(lot, qty, where)
        held = self.holding(lot_id, party)
        if held <= ZERO:
            raise _reject(
                "not_held",
                f"{where}: {party} does not hold lot {lot_id!r}",
                lot=lot_id,
                party=party,
            )
        if amount > held:
            raise _reject(
                "overdraw",
                f"{where}: {party} holds {_fmt(held, lot)} of lot {lot_id!r} "
                f"but draws {qty} (double-spending)",
                lot=lot_id,
                party=party,
                held=str(held),
                drawn=str(amount),
            )
        self.out.holdings[(lot_id, party)] = held - amount
        return lot

    def create(self, lot_id: str, creator: str, material: str, qty: Quantity, seq: int) -> None:
        if self.exists(lot_id):
            raise _reject("duplicate_lot", f"lot {lot_id!r} already exists", lot=lot_id)
        self.out.lots[lot_id] = LotRecord(lot_id, creator, material, qty.unit, qty.base, seq)
        self.out.holdings[(lot_id, creator)] = qty.base


def _fmt(amount: Decimal, lot: LotRecord) -> str:
    base = Quantity(Decimal(1), lot.unit)
    return f"{amount.normalize():f} {base.base_unit}"


def _in_lot_dimension(lot: LotRecord, qty: Quantity, where: str) -> Decimal:
    if not lot.placeholder and qty.dimension != lot.dimension:
        raise _reject(
            "unit_dimension",
            f"{where}: unit {qty.unit!r} is a {qty.dimension} but lot {lot.id!r} "
            f"is measured as {lot.dimension} ({lot.unit})",
            lot=lot.id,
            unit=qty.unit,
        )
    return qty.base


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
    if state.operator() is None:
        return _check_bootstrap(entry, sig_ok)
    wanted = set(signing_parties(stmt, state))
    issuer_kid: str | None = None
    revoked: SignatureError | None = None  # raised only if no unrevoked issuer key signed
    for i, (kid, sig) in enumerate(entry.signatures):
        rec = state.key(kid)
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
                    details={"kid": kid, "party": rec.party, "revoked_seq": rec.revoked_seq},
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


def apply(state: StateReader, entry: EntryRef, sig_ok: SigCheck) -> Changes:
    """Judge one statement against ``state``; return its changes or raise."""
    check_signatures(state, entry, sig_ok)
    check_time(entry)
    tx = _Tx(state)
    stmt = entry.statement
    seq = entry.seq
    if isinstance(stmt, Party):
        _apply_party(state, tx, stmt, seq)
    elif isinstance(stmt, Key):
        _apply_key(state, tx, stmt, seq)
    elif isinstance(stmt, Revoke):
        _apply_revoke(state, tx, stmt, seq)
    elif isinstance(stmt, Origin):
        tx.create(stmt.lot.id, stmt.issuer, stmt.lot.material, stmt.lot.quantity, seq)
        tx.out.refs.append((stmt.lot.id, "output"))
    elif isinstance(stmt, Transform):
        for i, inp in enumerate(stmt.inputs):
            tx.draw(inp.lot, stmt.issuer, inp.quantity, f"inputs[{i}]")
            tx.out.refs.append((inp.lot, "input"))
        for out in stmt.outputs:
            tx.create(out.id, stmt.issuer, out.material, out.quantity, seq)
            tx.out.refs.append((out.id, "output"))
    elif isinstance(stmt, Dispatch):
        _apply_dispatch(state, tx, stmt, seq)
    elif isinstance(stmt, Receipt):
        _apply_receipt(state, tx, stmt, seq)
    elif isinstance(stmt, Evidence):
        for i, lot_id in enumerate(stmt.lots):
            if tx.lot(lot_id) is None:
                raise _reject(
                    "unknown_lot", f"lots[{i}]: lot {lot_id!r} does not exist", lot=lot_id
                )
            tx.out.refs.append((lot_id, "evidence"))
    elif isinstance(stmt, Import):
        tx.draw(stmt.lot, stmt.issuer, stmt.quantity, "lot")
        tx.out.refs.append((stmt.lot, "import"))
    return tx.out


def _new_key(state: StateReader, tx: _Tx, pk: bytes, party: str, seq: int) -> None:
    check_public_key(pk)
    kid = kid_of(pk)
    existing = tx.out.keys.get(kid) or state.key(kid)
    if existing is not None:
        raise _reject(
            "duplicate_key",
            f"key {kid[:16]}… is already registered to {existing.party}",
            kid=kid,
            party=existing.party,
        )
    tx.out.keys[kid] = KeyRecord(kid, party, pk, seq)


def _apply_party(state: StateReader, tx: _Tx, stmt: Party, seq: int) -> None:
    p = stmt.party
    if state.party(p.id) is not None:
        raise _reject("duplicate_party", f"party {p.id!r} is already registered", party=p.id)
    if state.operator() is not None and "operator" in p.roles:
        raise _reject("duplicate_operator", "the ledger already has an operator", party=p.id)
    tx.out.parties[p.id] = PartyRecord(p.id, p.name, p.country, p.subdivision, p.roles, seq)
    tx.out.party_refs.append(p.id)
    if state.operator() is None:
        tx.out.operator = p.id
    for pk in stmt.keys:
        _new_key(state, tx, b64decode(pk, what="keys[]"), p.id, seq)


def _authorised_for(state: StateReader, stmt: Key | Revoke) -> None:
    if state.party(stmt.party) is None:
        raise _reject("unknown_party", f"party {stmt.party!r} is not registered", party=stmt.party)
    if stmt.issuer not in (stmt.party, state.operator()):
        raise _reject(
            "not_authorised",
            f"{stmt.issuer} may not manage the keys of {stmt.party} "
            "(only the party itself or the operator)",
            party=stmt.party,
        )


def _apply_key(state: StateReader, tx: _Tx, stmt: Key, seq: int) -> None:
    _authorised_for(state, stmt)
    tx.out.party_refs.append(stmt.party)
    _new_key(state, tx, b64decode(stmt.public_key, what="public_key"), stmt.party, seq)


def _apply_revoke(state: StateReader, tx: _Tx, stmt: Revoke, seq: int) -> None:
    _authorised_for(state, stmt)
    tx.out.party_refs.append(stmt.party)
    kid = kid_of(b64decode(stmt.public_key, what="public_key"))
    rec = state.key(kid)
    if rec is None or rec.party != stmt.party:
        raise _reject("unknown_key", f"key {kid[:16]}… is not a key of {stmt.party}", kid=kid)
    if rec.revoked_seq is not None:
        raise _reject(
            "already_revoked", f"key {kid[:16]}… was already revoked at seq {rec.revoked_seq}"
        )
    tx.out.keys[kid] = replace(rec, revoked_seq=seq, reason=stmt.reason, effective=stmt.effective)


def _apply_dispatch(state: StateReader, tx: _Tx, stmt: Dispatch, seq: int) -> None:
    to = state.party(stmt.to)
    if to is None:
        raise _reject("unknown_party", f"to: party {stmt.to!r} is not registered", party=stmt.to)
    if stmt.to == stmt.issuer:
        raise _reject("self_dispatch", "to: a party cannot dispatch a lot to itself")
    lot = tx.draw(stmt.lot, stmt.issuer, stmt.quantity, "lot")
    tx.out.dispatches[stmt.digest] = DispatchRecord(
        stmt.digest, seq, lot.id, stmt.issuer, stmt.to, stmt.quantity.base
    )
    tx.out.refs.append((lot.id, "dispatch"))


def _apply_receipt(state: StateReader, tx: _Tx, stmt: Receipt, seq: int) -> None:
    d = state.dispatch(stmt.dispatch)
    if d is None:
        raise _reject(
            "unknown_dispatch",
            f"dispatch: no dispatch statement with digest {stmt.dispatch}",
            dispatch=stmt.dispatch,
        )
    if d.to != stmt.issuer:
        raise _reject(
            "not_addressee",
            f"dispatch {stmt.dispatch[:19]}… is addressed to {d.to}, not {stmt.issuer}",
            dispatch=stmt.dispatch,
            to=d.to,
        )
    if d.received is not None:
        raise _reject(
            "duplicate_receipt",
            f"dispatch {stmt.dispatch[:19]}… was already received at seq {d.receipt_seq}",
            dispatch=stmt.dispatch,
            receipt_seq=d.receipt_seq,
        )
    lot = tx.lot(d.lot)
    if lot is None:  # only in a replay of a subset that lacks the lot's creation
        raise _reject("unknown_lot", f"lot {d.lot!r} of the dispatch does not exist", lot=d.lot)
    amount = _in_lot_dimension(lot, stmt.quantity, "quantity")
    if amount > d.quantity:
        raise _reject(
            "receipt_exceeds_dispatch",
            f"quantity: receipt of {stmt.quantity} exceeds the {_fmt(d.quantity, lot)} dispatched",
            dispatched=str(d.quantity),
            received=str(amount),
        )
    tx.out.dispatches[d.digest] = replace(d, received=amount, receipt_seq=seq)
    tx.add(d.lot, stmt.issuer, amount)
    tx.out.refs.append((d.lot, "receipt"))


Needs = tuple[set[str], set[str], set[str], set[tuple[str, str]], dict[str, set[str]]]


def _named_kid(public_key_b64: str) -> str:
    """The kid of a key a statement names ("" if it does not decode: the state
    machine rejects it, and a kid nobody has costs a prefetch nothing)."""
    try:
        return kid_of(b64decode(public_key_b64))
    except InputError:
        return ""


def prefetch_needs(statements: Iterable[Statement], envelopes: Iterable[Envelope]) -> Needs:
    """Parties, kids, lots, (lot, party) holdings and dispatches a batch will read.

    Storage bulk-loads these under the append lock; anything missed is read
    on demand, so this is an optimisation, never a correctness concern.
    """
    parties: set[str] = set()
    kids: set[str] = set()
    lots: set[str] = set()
    holdings: set[tuple[str, str]] = set()
    dispatches: dict[str, set[str]] = {}  # dispatch digest -> receipt issuers
    in_batch: dict[str, str] = {}  # dispatch digest -> lot, for dispatches in this batch
    for env in envelopes:
        kids.update(s.keyid for s in env.signatures)
    for st in statements:
        parties.add(st.issuer)
        if isinstance(st, Party):
            parties.add(st.party.id)
            kids.update(_named_kid(k) for k in st.keys)  # checked for duplicates
        elif isinstance(st, Key | Revoke):
            parties.add(st.party)
            kids.add(_named_kid(st.public_key))  # a duplicate, or the key revoked
        elif isinstance(st, Origin):
            lots.add(st.lot.id)
        elif isinstance(st, Transform):
            lots.update(i.lot for i in st.inputs)
            lots.update(o.id for o in st.outputs)
            holdings.update((i.lot, st.issuer) for i in st.inputs)
        elif isinstance(st, Dispatch):
            parties.add(st.to)
            lots.add(st.lot)
            holdings.add((st.lot, st.issuer))
            holdings.add((st.lot, st.to))
            in_batch[st.digest] = st.lot
        elif isinstance(st, Receipt):
            if st.dispatch in in_batch:
                holdings.add((in_batch[st.dispatch], st.issuer))
            else:
                dispatches.setdefault(st.dispatch, set()).add(st.issuer)
        elif isinstance(st, Evidence):
            lots.update(st.lots)
        elif isinstance(st, Import):
            lots.add(st.lot)
            holdings.add((st.lot, st.issuer))
    return parties, kids, lots, holdings, dispatches
