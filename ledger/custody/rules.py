"""Rule 3, each statement's own rule, and :func:`apply`, the whole judgement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ledger.custody.records import (
    Changes,
    DispatchRecord,
    EntryRef,
    KeyRecord,
    PartyRecord,
    SigCheck,
    StatementRecord,
    StateReader,
    _reject,
)
from ledger.custody.retraction import REPLACEABLE, retract
from ledger.custody.signatures import (
    check_signatures,
    check_time,
)
from ledger.custody.tx import _fmt, _in_lot_dimension, _Tx
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
    Transform,
)


def apply(state: StateReader, entry: EntryRef, sig_ok: SigCheck) -> Changes:
    """Judge one statement against ``state``; return its changes or raise."""
    check_signatures(state, entry, sig_ok)
    check_time(entry)
    stmt = entry.statement
    seq = entry.seq
    tx = _Tx(state, seq)
    target = stmt.retracts()
    if target is not None:
        retract(tx, stmt, target)
    if stmt.type in REPLACEABLE:
        tx.out.statements[stmt.digest] = StatementRecord(seq, stmt)
    rule = _RULES.get(type(stmt))
    if rule is None:  # a subclass: the first rule whose type it is
        rule = next((r for cls, r in _RULES.items() if isinstance(stmt, cls)), _no_rule)
    rule(state, tx, stmt, seq)
    return tx.out


def _no_rule(state: StateReader, tx: _Tx, stmt: Any, seq: int) -> None:
    """``retract``: nothing beyond the retraction."""


def _apply_origin(state: StateReader, tx: _Tx, stmt: Origin, seq: int) -> None:
    lot = stmt.lot
    tx.create(lot.id, stmt.issuer, lot.material, lot.quantity, seq)
    tx.out.refs.append((lot.id, "output"))


def _apply_transform(state: StateReader, tx: _Tx, stmt: Transform, seq: int) -> None:
    _not_self_consuming(stmt)
    refs = tx.out.refs
    for i, inp in enumerate(stmt.inputs):
        tx.draw(inp.lot, stmt.issuer, inp.quantity, f"inputs[{i}]")
        refs.append((inp.lot, "input"))
    for out in stmt.outputs:
        tx.create(out.id, stmt.issuer, out.material, out.quantity, seq)
        refs.append((out.id, "output"))


def _apply_evidence(state: StateReader, tx: _Tx, stmt: Evidence, seq: int) -> None:
    for i, lot_id in enumerate(stmt.lots):
        tx.live_lot(lot_id, f"lots[{i}]")
        tx.out.refs.append((lot_id, "evidence"))


def _apply_import(state: StateReader, tx: _Tx, stmt: Import, seq: int) -> None:
    tx.draw(stmt.lot, stmt.issuer, stmt.quantity, "lot")
    tx.out.refs.append((stmt.lot, "import"))


def _not_self_consuming(stmt: Transform) -> None:
    """A transform turns lots into other lots: none of its outputs may be one of its inputs."""
    consumed = {inp.lot for inp in stmt.inputs}
    for index, out in enumerate(stmt.outputs):
        if out.id in consumed:
            raise _reject(
                "self_transform",
                f"outputs[{index}].id: transform cannot consume the lot it produces: {out.id}",
                lot=out.id,
                index=index,
            )


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
            "already_revoked",
            f"key {kid[:16]}… was already revoked at seq {rec.revoked_seq}",
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
    d = tx.dispatch(stmt.dispatch)
    if d is None:
        raise _reject(
            "unknown_dispatch",
            f"dispatch: no dispatch statement with digest {stmt.dispatch}",
            dispatch=stmt.dispatch,
        )
    if d.void:
        raise _reject(
            "unknown_dispatch",
            f"dispatch: dispatch {stmt.dispatch[:19]}… was retracted at seq {d.receipt_seq}",
            dispatch=stmt.dispatch,
            retracted_seq=d.receipt_seq,
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
    tx.out.dispatches[d.digest] = DispatchRecord(
        d.digest, d.seq, d.lot, d.sender, d.to, d.quantity, amount, seq
    )
    tx.add(d.lot, stmt.issuer, amount)
    tx.out.refs.append((d.lot, "receipt"))


_Rule = Callable[[StateReader, _Tx, Any, int], None]
_RULES: dict[type, _Rule] = {
    Party: _apply_party,
    Key: _apply_key,
    Revoke: _apply_revoke,
    Origin: _apply_origin,
    Transform: _apply_transform,
    Dispatch: _apply_dispatch,
    Receipt: _apply_receipt,
    Evidence: _apply_evidence,
    Import: _apply_import,
}
"""Each statement type's own rule (rule 3), in the order a subclass is matched."""
