"""The scratch view one statement is judged on: the state plus its own changes."""

from __future__ import annotations

from decimal import Decimal

from ledger.custody.records import (
    ZERO,
    Changes,
    DispatchRecord,
    LotRecord,
    StatementRecord,
    StateReader,
    _reject,
)
from ledger.units import Quantity


class _Tx:
    """A scratch view of ``state`` plus the changes of the statement being applied."""

    def __init__(self, state: StateReader, seq: int) -> None:
        self.state = state
        self.seq = seq
        self.out = Changes()

    def holding(self, lot_id: str, party: str) -> Decimal:
        h = self.out.holdings.get((lot_id, party))
        return self.state.holding(lot_id, party) if h is None else h

    def lot(self, lot_id: str) -> LotRecord | None:
        return self.out.lots.get(lot_id) or self.state.lot(lot_id)

    def live_lot(self, lot_id: str, where: str) -> LotRecord:
        """The lot, or ``rejected.unknown_lot`` if it does not exist or was retracted."""
        lot = self.lot(lot_id)
        if lot is None:
            raise _reject("unknown_lot", f"{where}: lot {lot_id!r} does not exist", lot=lot_id)
        if lot.void:
            raise _reject(
                "unknown_lot",
                f"{where}: lot {lot_id!r} was retracted at seq {lot.seq}",
                lot=lot_id,
                retracted_seq=lot.seq,
            )
        return lot

    def exists(self, lot_id: str) -> bool:
        lot = self.lot(lot_id)
        return lot is not None and not lot.placeholder and not lot.void

    def dispatch(self, digest: str) -> DispatchRecord | None:
        return self.out.dispatches.get(digest) or self.state.dispatch(digest)

    def statement(self, digest: str) -> StatementRecord | None:
        return self.out.statements.get(digest) or self.state.statement(digest)

    def add(self, lot_id: str, party: str, amount: Decimal) -> None:
        self.out.holdings[(lot_id, party)] = self.holding(lot_id, party) + amount

    def draw(self, lot_id: str, party: str, qty: Quantity, where: str) -> LotRecord:
        lot = self.live_lot(lot_id, where)
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
    # the same unit is the same dimension (a lot's unit is a known one)
    if not lot.placeholder and qty.unit != lot.unit and qty.dimension != lot.dimension:
        raise _reject(
            "unit_dimension",
            f"{where}: unit {qty.unit!r} is a {qty.dimension} but lot {lot.id!r} "
            f"is measured as {lot.dimension} ({lot.unit})",
            lot=lot.id,
            unit=qty.unit,
        )
    return qty.base
