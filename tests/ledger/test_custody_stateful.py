"""Random sequences of valid and invalid custody statements on a real SQLite ledger.

A hypothesis state machine keeps a naive reference model (dicts of exact
decimals in kg) next to a real ledger, submits origins, transforms,
dispatches, receipts (full, short, by the wrong party, twice) and imports,
some of them overdrawing or drawing on lots the issuer does not hold, and
checks after every step that:

- the ledger accepted exactly what the model says is valid, with the code the
  model expects for what it rejected;
- no holding is ever negative and no receipt exceeds its dispatch;
- quantity is conserved per lot: created = held + in transit + consumed by
  transforms and imports + short-received;
- the state replayed from the stored leaves (``ledger.audit.replay_state``) equals
  the live state tables, and (at the end) ``audit`` is clean.
"""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger.audit import audit, replay_state
from ledger.log import SubmitResult
from ledger.units import EXACT, UNITS
from tests.support import Actor, World, site

PARTIES = ("farm", "gin", "mill", "importer")
ZERO = Decimal(0)
MILLI = Decimal("0.001")


class CustodyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="custody-stateful-"))
        self.world = World(self.tmp / "home")
        self.actors: dict[str, Actor] = {p: self.world.party(p) for p in PARTIES}
        self.created: dict[str, Decimal] = {}
        self.consumed: dict[str, Decimal] = {}
        self.held: dict[tuple[str, str], Decimal] = {}
        # digest -> (lot, sender, to, quantity); received maps digest -> quantity
        self.dispatched: dict[str, tuple[str, str, str, Decimal]] = {}
        self.received: dict[str, Decimal] = {}
        self.n = 0
        self.accepted = 0
        self.rejected = 0

    def teardown(self) -> None:
        try:
            report = audit(self.world.ledger.store)
            assert report.ok, report.problems
        finally:
            self.world.ledger.store.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def new_lot(self) -> str:
        self.n += 1
        return f"lot-{self.n}"

    def holding(self, lot: str, party: str) -> Decimal:
        return self.held.get((lot, party), ZERO)

    def draw_amount(self, data: st.DataObject, held: Decimal) -> tuple[Decimal, str, bool]:
        """An amount to draw on ``held`` kg: (value, unit, valid)."""
        kind = data.draw(st.sampled_from(["all", "part", "part", "over"]))
        if held <= 0 or kind == "over":
            amount = held + data.draw(st.integers(1, 5000)) * MILLI
        elif kind == "all" or held < MILLI:
            amount = held
        else:
            top = int(held / MILLI)
            amount = data.draw(st.integers(1, max(1, top))) * MILLI
        valid = ZERO < amount <= held
        unit = data.draw(st.sampled_from(["kg", "kg", "t", "g"]))
        value = EXACT.divide(amount, UNITS[unit].factor)
        return value, unit, valid

    def expect(self, result: SubmitResult, valid: bool, codes: set[str]) -> bool:
        if valid:
            assert result.error is None, result.error
            self.accepted += 1
        else:
            assert result.error is not None, "an invalid statement was appended"
            assert result.error.code in codes, (result.error.code, result.error.message)
            self.rejected += 1
        return valid

    def draw_codes(self, lot: str, party: str) -> set[str]:
        return {"rejected.not_held"} if self.holding(lot, party) <= 0 else {"rejected.overdraw"}

    def pick_lot(self, data: st.DataObject, party: str) -> str:
        """Mostly a lot the party holds; sometimes any lot."""
        mine = sorted(lot for (lot, p), q in self.held.items() if p == party and q > 0)
        pool = sorted(self.created)
        if mine and data.draw(st.integers(0, 4)) > 0:
            pool = mine
        return data.draw(st.sampled_from(pool))

    # ------------------------------------------------------------ rules

    @rule(
        party=st.sampled_from(PARTIES),
        amount=st.integers(1, 20000),
        unit=st.sampled_from(["kg", "t", "g", "lb"]),
    )
    def origin(self, party: str, amount: int, unit: str) -> None:
        lot = self.new_lot()
        res = self.actors[party].attempt(
            "origin",
            lot={"id": lot, "material": "cotton.seed", "quantity": Decimal(amount), "unit": unit},
            site=site("Field", "US", "US-TX"),
        )
        self.expect(res, True, set())
        base = EXACT.multiply(Decimal(amount), UNITS[unit].factor)
        self.created[lot] = base
        self.consumed[lot] = ZERO
        self.held[(lot, party)] = base

    @precondition(lambda self: self.created)
    @rule(party=st.sampled_from(PARTIES), data=st.data(), out=st.integers(1, 9000))
    def transform(self, party: str, data: st.DataObject, out: int) -> None:
        lot = self.pick_lot(data, party)
        held = self.holding(lot, party)
        value, unit, valid = self.draw_amount(data, held)
        new = self.new_lot()
        res = self.actors[party].attempt(
            "transform",
            process="spinning",
            inputs=[{"lot": lot, "quantity": value, "unit": unit}],
            outputs=[
                {"id": new, "material": "yarn.cotton", "quantity": Decimal(out), "unit": "kg"}
            ],
            site=site("Mill", "US", "US-NC"),
        )
        if self.expect(res, valid, self.draw_codes(lot, party)):
            drawn = EXACT.multiply(value, UNITS[unit].factor)
            self.held[(lot, party)] = held - drawn
            self.consumed[lot] += drawn
            self.created[new] = Decimal(out)
            self.consumed[new] = ZERO
            self.held[(new, party)] = Decimal(out)

    @precondition(lambda self: self.created)
    @rule(sender=st.sampled_from(PARTIES), to=st.sampled_from(PARTIES), data=st.data())
    def dispatch(self, sender: str, to: str, data: st.DataObject) -> None:
        if sender == to:
            return
        lot = self.pick_lot(data, sender)
        held = self.holding(lot, sender)
        value, unit, valid = self.draw_amount(data, held)
        res = self.actors[sender].attempt("dispatch", lot=lot, quantity=value, unit=unit, to=to)
        if self.expect(res, valid, self.draw_codes(lot, sender)):
            drawn = EXACT.multiply(value, UNITS[unit].factor)
            self.held[(lot, sender)] = held - drawn
            assert res.digest is not None
            self.dispatched[res.digest] = (lot, sender, to, drawn)

    @precondition(lambda self: any(d not in self.received for d in self.dispatched))
    @rule(data=st.data())
    def receipt(self, data: st.DataObject) -> None:
        digest = data.draw(st.sampled_from(sorted(set(self.dispatched) - set(self.received))))
        lot, _sender, to, qty = self.dispatched[digest]
        by = data.draw(st.sampled_from([to, to, to, *PARTIES]))
        kind = data.draw(st.sampled_from(["all", "short", "over"]))
        amount = {"all": qty, "short": qty / 2, "over": qty + MILLI}[kind]
        amount = EXACT.plus(amount)
        res = self.actors[by].attempt("receipt", dispatch=digest, quantity=amount, unit="kg")
        if by != to:
            self.expect(res, False, {"rejected.not_addressee"})
        elif self.expect(res, kind != "over", {"rejected.receipt_exceeds_dispatch"}):
            self.received[digest] = amount
            self.held[(lot, to)] = self.holding(lot, to) + amount

    @precondition(lambda self: self.received)
    @rule(data=st.data())
    def second_receipt(self, data: st.DataObject) -> None:
        digest = data.draw(st.sampled_from(sorted(self.received)))
        _lot, _sender, to, _qty = self.dispatched[digest]
        res = self.actors[to].attempt("receipt", dispatch=digest, quantity=MILLI, unit="kg")
        self.expect(res, False, {"rejected.duplicate_receipt"})

    @precondition(lambda self: self.created)
    @rule(party=st.sampled_from(PARTIES), data=st.data())
    def import_(self, party: str, data: st.DataObject) -> None:
        lot = self.pick_lot(data, party)
        held = self.holding(lot, party)
        value, unit, valid = self.draw_amount(data, held)
        self.n += 1
        res = self.actors[party].attempt(
            "import", lot=lot, quantity=value, unit=unit, entry_number=f"ABC-{self.n:07d}-1"
        )
        if self.expect(res, valid, self.draw_codes(lot, party)):
            drawn = EXACT.multiply(value, UNITS[unit].factor)
            self.held[(lot, party)] = held - drawn
            self.consumed[lot] += drawn

    @precondition(lambda self: self.created)
    @rule(party=st.sampled_from(PARTIES), data=st.data())
    def bad_draw_on_a_lot_not_held(self, party: str, data: st.DataObject) -> None:
        lots = sorted(lot for lot in self.created if self.holding(lot, party) <= 0)
        if not lots:
            return
        lot = data.draw(st.sampled_from(lots))
        res = self.actors[party].attempt(
            "transform",
            process="spinning",
            inputs=[{"lot": lot, "quantity": Decimal(1), "unit": "kg"}],
            outputs=[{"id": self.new_lot(), "material": "yarn", "quantity": 1, "unit": "kg"}],
            site=site("Mill", "US"),
        )
        self.expect(res, False, {"rejected.not_held"})

    # ------------------------------------------------------------ invariants

    def stored(self) -> dict[str, Any]:
        with self.world.ledger.store.read() as r:
            size = r.head().size
            return {
                "holdings": r.all_holdings(),
                "dispatches": r.dispatches_of(),
                "lots": {lot.id: lot for lot in r.all_lots()},
                "keys": {k.kid: k for k in r.all_keys()},
                "leaves": [(e.seq, e.leaf) for e in r.entries(0, size)],
            }

    @invariant()
    def state_holds(self) -> None:
        s = self.stored()
        holdings: dict[tuple[str, str], Decimal] = s["holdings"]
        # no holding ever goes negative; no receipt exceeds its dispatch
        assert all(q >= 0 for q in holdings.values()), holdings
        for d in s["dispatches"]:
            assert d.received is None or ZERO < d.received <= d.quantity
        # the ledger agrees with the naive model
        nonzero = {k: v for k, v in holdings.items() if v}
        assert nonzero == {k: v for k, v in self.held.items() if v}
        assert {lot: rec.quantity for lot, rec in s["lots"].items()} == self.created
        # quantity is conserved per lot
        for lot, created in self.created.items():
            held = sum((q for (lt, _), q in holdings.items() if lt == lot), ZERO)
            in_transit = sum(
                (d.quantity for d in s["dispatches"] if d.lot == lot and d.received is None), ZERO
            )
            short = sum(
                (
                    d.quantity - d.received
                    for d in s["dispatches"]
                    if d.lot == lot and d.received is not None
                ),
                ZERO,
            )
            assert created == held + in_transit + self.consumed[lot] + short, lot
        # the state replayed from the stored leaves equals the live state tables
        replayed = replay_state(s["leaves"]).changes
        assert {k: v for k, v in replayed.holdings.items() if v} == nonzero
        assert replayed.lots == s["lots"]
        assert replayed.keys == s["keys"]
        assert sorted(replayed.dispatches.values(), key=lambda d: d.seq) == s["dispatches"]


CustodyMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCustodyStateMachine = CustodyMachine.TestCase
