"""Rule 4, retraction: a party voids one of its own statements (``retract``,
or ``replaces`` on the statement that corrects it) while nothing downstream has
used what that statement did; its effects are undone.

==============  ======================================  ==========================================
target          allowed while                           undone
==============  ======================================  ==========================================
``origin``      its creator still holds all of the lot  the lot is void (its id may be created
                                                        again); the holding goes to 0
``transform``   the same, for every output lot          outputs void; inputs back to the issuer
``dispatch``    no receipt names it                     quantity back to the sender; the dispatch
                                                        is void (a receipt of it is refused)
``receipt``     the receiver still holds at least the   the quantity leaves the receiver's
                quantity received                       holding and is in transit again
``evidence``    always                                  nothing in the state (verification drops
                                                        the document)
``import``      always                                  the quantity goes back to the importer
==============  ======================================  ==========================================

Everyone: the target exists earlier in the ledger, was issued by the
retracting party, is of one of those types, and was not retracted before.
Nothing is deleted: the target stays in the log, and verification lists it as
void. Lots outside a scoped replay's scope (stand-ins) are not judged.
"""

from __future__ import annotations

from dataclasses import replace

from ledger.custody.records import ZERO, StatementRecord, _reject
from ledger.custody.tx import _fmt, _Tx
from ledger.statements import (
    REPLACEABLE,
    Dispatch,
    Evidence,
    Import,
    Origin,
    Receipt,
    Statement,
    Transform,
)

__all__ = ["REPLACEABLE", "retract"]


def retract(tx: _Tx, stmt: Statement, target: str) -> None:
    """Void ``target`` on behalf of ``stmt`` (judged at ``tx.seq``) in ``tx``, or raise."""
    seq = tx.seq
    where = "statement" if stmt.type == "retract" else "replaces"
    rec = tx.statement(target)
    if rec is None or rec.seq >= seq:
        raise _reject(
            "unknown_statement",
            f"{where}: no statement with digest {target} in the ledger",
            statement=target,
        )
    old = rec.statement
    short = f"{old.type} {target[:19]}… (seq {rec.seq})"
    if old.type not in REPLACEABLE:
        raise _reject(
            "not_retractable",
            f"{where}: {short} cannot be retracted: only origin, transform, dispatch, "
            "receipt, evidence and import statements can"
            + (" (revoke a key instead)" if old.type in ("key", "party") else ""),
            statement=target,
            type=old.type,
        )
    if old.issuer != stmt.issuer:
        raise _reject(
            "not_own_statement",
            f"{where}: {short} was issued by {old.issuer}, not {stmt.issuer}: "
            "a party retracts only its own statements",
            statement=target,
            issuer=old.issuer,
        )
    if rec.retracted_seq is not None:
        raise _reject(
            "already_retracted",
            f"{where}: {short} was already retracted at seq {rec.retracted_seq}",
            statement=target,
            retracted_seq=rec.retracted_seq,
        )
    _undo(tx, rec, short)
    tx.out.statements[target] = replace(rec, retracted_seq=seq)


def _undo(tx: _Tx, rec: StatementRecord, short: str) -> None:
    old, seq = rec.statement, rec.seq
    refs = tx.out.refs
    if isinstance(old, Origin | Transform):
        for lot_id in old.lots_created():
            _void_lot(tx, lot_id, old.issuer, seq, short)
            refs.append((lot_id, "retract"))
    if isinstance(old, Transform):
        for item in old.inputs:
            tx.add(item.lot, old.issuer, item.quantity.base)
            refs.append((item.lot, "retract"))
    elif isinstance(old, Dispatch):
        d = tx.dispatch(old.digest)
        if d is None:  # only in a replay of a subset that lacks it
            raise _reject("unknown_dispatch", f"{short}: its dispatch record is missing")
        if d.received is not None:
            raise _reject(
                "consumed",
                f"{short} was received at seq {d.receipt_seq}: the receipt must be retracted first",
                statement=old.digest,
                receipt_seq=d.receipt_seq,
            )
        tx.add(d.lot, d.sender, d.quantity)
        tx.out.dispatches[d.digest] = replace(d, received=ZERO, receipt_seq=tx.seq)
        refs.append((d.lot, "retract"))
    elif isinstance(old, Receipt):
        _undo_receipt(tx, old, short)
    elif isinstance(old, Import):
        tx.add(old.lot, old.issuer, old.quantity.base)
        refs.append((old.lot, "retract"))
    elif isinstance(old, Evidence):
        refs.extend((lot_id, "retract") for lot_id in old.lots)


def _void_lot(tx: _Tx, lot_id: str, creator: str, created_seq: int, short: str) -> None:
    lot = tx.lot(lot_id)
    if lot is None or lot.placeholder:
        return  # a stand-in outside a scoped replay's scope: not judged
    if lot.seq != created_seq or lot.void:
        raise _reject("unknown_lot", f"{short}: lot {lot_id!r} is not the one it created")
    held = tx.holding(lot_id, creator)
    if held != lot.quantity:
        raise _reject(
            "consumed",
            f"{short}: lot {lot_id!r} has been used since ({creator} holds "
            f"{_fmt(held, lot)} of the {_fmt(lot.quantity, lot)} created)",
            lot=lot_id,
            held=str(held),
            created=str(lot.quantity),
        )
    tx.out.lots[lot_id] = replace(lot, quantity=ZERO, seq=tx.seq)
    tx.out.holdings[(lot_id, creator)] = ZERO


def _undo_receipt(tx: _Tx, old: Receipt, short: str) -> None:
    d = tx.dispatch(old.dispatch)
    if d is None or d.received is None or d.void:
        raise _reject("unknown_dispatch", f"{short}: its dispatch is not received")
    lot = tx.lot(d.lot)
    if lot is not None and not lot.placeholder:
        held = tx.holding(d.lot, old.issuer)
        if held < d.received:
            raise _reject(
                "consumed",
                f"{short}: {old.issuer} holds {_fmt(held, lot)} of lot {d.lot!r} but "
                f"received {_fmt(d.received, lot)}: what it received has been used",
                lot=d.lot,
                held=str(held),
                received=str(d.received),
            )
    tx.add(d.lot, old.issuer, -d.received)
    tx.out.dispatches[d.digest] = replace(d, received=None, receipt_seq=None)
    tx.out.refs.append((d.lot, "retract"))
