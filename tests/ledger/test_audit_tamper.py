"""``ledger audit`` re-derives every table derived from the leaves: a database
edited behind the ledger's back (SQLite and PostgreSQL) is a problem naming the
seq or row of every difference — including the edits that would widen what the
API shows (issue 10, item 2) and a leaf replaced by 100,000-deep JSON (item 4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from ledger import merkle
from ledger.audit import AuditReport, audit
from tests.support import World, q, site


@dataclass(frozen=True)
class Chain:
    """Seqs of a small chain: farm ships L1 to gin, gin receives; stranger has S1."""

    farm_party: int
    stranger_party: int
    origin: int
    dispatch: int
    dispatch_digest: str
    receipt: int
    stranger_origin: int


def build(world: World) -> Chain:
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    stranger = world.party("stranger", "Stranger")
    origin = farm.submit(
        "origin",
        lot={"id": "L1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )
    dispatch = farm.submit("dispatch", lot="L1", quantity=q(60), unit="kg", to="gin")
    assert dispatch.digest is not None
    receipt = gin.submit("receipt", dispatch=dispatch.digest, quantity=q(60), unit="kg")
    own = stranger.submit(
        "origin",
        lot={"id": "S1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"},
        site=site(),
    )
    with world.ledger.store.read() as r:
        farm_rec, stranger_rec = r.party("farm"), r.party("stranger")
    assert farm_rec is not None
    assert stranger_rec is not None
    assert audit(world.ledger.store).ok
    return Chain(
        farm_rec.seq,
        stranger_rec.seq,
        _seq(origin.seq),
        _seq(dispatch.seq),
        dispatch.digest,
        _seq(receipt.seq),
        _seq(own.seq),
    )


def _seq(value: int | None) -> int:
    assert value is not None
    return value


def edit(world: World, sql: str, **params: Any) -> None:
    """Change the database directly, as someone with database access would."""
    with world.ledger.store.engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1


Attack = Callable[[World, Chain], tuple[str, int | None, str]]
"""Edits the database; returns (check, seq, text) the audit must report."""


def supplier_made_auditor(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE parties SET roles = 'auditor' WHERE id = 'stranger'")
    return "state", c.stranger_party, "parties row 'stranger'"


def dispatch_readdressed(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE dispatches SET \"to\" = 'stranger' WHERE digest = :d", d=c.dispatch_digest)
    return "state", c.dispatch, "to is 'stranger' in the database but 'gin' by replay"


def lot_ref_added(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(
        world,
        "INSERT INTO lot_refs (lot, seq, role) VALUES ('S1', :s, 'evidence')",
        s=c.dispatch,
    )
    return "index", c.dispatch, "lot_refs row (lot 'S1'"


def received_at_changed(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(
        world,
        "UPDATE entries SET received_at = '2031-01-01T00:00:00.000000Z' WHERE seq = :s",
        s=c.origin,
    )
    return "leaf", c.origin, "entries.received_at"


def zero_holding_added(world: World, c: Chain) -> tuple[str, int | None, str]:
    # a holding row, even at zero, makes a lot one of the party's roots
    edit(world, "INSERT INTO holdings (lot, party, quantity) VALUES ('L1', 'stranger', '0')")
    return "state", None, "holdings row ('L1', 'stranger') is not derived"


def party_ref_added(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "INSERT INTO party_refs (party, seq) VALUES ('stranger', :s)", s=c.receipt)
    return "index", c.receipt, "party_refs row (party 'stranger'"


def lot_ref_deleted(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "DELETE FROM lot_refs WHERE seq = :s", s=c.receipt)
    return "index", c.receipt, "is missing"


def key_unrevoked_elsewhere(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE keys SET party = 'farm' WHERE party = 'stranger'")
    return "state", c.stranger_party, "party is 'farm' in the database but 'stranger'"


def lot_quantity_changed(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE lots SET quantity = 'NaN' WHERE id = 'S1'")
    return "state", c.stranger_origin, "lots row 'S1'"


def issuer_changed(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE entries SET issuer = 'stranger' WHERE seq = :s", s=c.dispatch)
    return "leaf", c.dispatch, "entries.issuer"


def operator_changed(world: World, c: Chain) -> tuple[str, int | None, str]:
    edit(world, "UPDATE meta SET value = 'stranger' WHERE name = 'operator'")
    return "state", 0, "meta operator"


def deep_leaf(world: World, c: Chain) -> tuple[str, int | None, str]:
    leaf = b"[" * 100_000 + b"]" * 100_000
    edit(
        world,
        "UPDATE entries SET leaf = :leaf, leaf_hash = :h WHERE seq = :s",
        leaf=leaf,
        h=merkle.leaf_hash(leaf),
        s=c.origin,
    )
    return "leaf", c.origin, "nested deeper"


ATTACKS: list[Attack] = [
    supplier_made_auditor,
    dispatch_readdressed,
    lot_ref_added,
    received_at_changed,
    zero_holding_added,
    party_ref_added,
    lot_ref_deleted,
    key_unrevoked_elsewhere,
    lot_quantity_changed,
    issuer_changed,
    operator_changed,
    deep_leaf,
]


def assert_named(report: AuditReport, check: str, seq: int | None, needle: str) -> None:
    assert not report.ok
    hits = [p for p in report.problems if p.check == check and needle in p.message]
    assert hits, [p.to_json() for p in report.problems]
    assert any(p.seq == seq for p in hits), [p.to_json() for p in hits]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__)
def test_sqlite_edit_is_named(world: World, attack: Attack) -> None:
    chain = build(world)
    check, seq, needle = attack(world, chain)
    assert_named(audit(world.ledger.store), check, seq, needle)


@pytest.mark.postgres
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__)
def test_postgres_edit_is_named(pg_world: World, attack: Attack) -> None:
    chain = build(pg_world)
    check, seq, needle = attack(pg_world, chain)
    assert_named(audit(pg_world.ledger.store), check, seq, needle)


def test_an_untouched_ledger_checks_every_derived_row(world: World) -> None:
    build(world)
    report = audit(world.ledger.store)
    assert report.ok, report.problems
    with world.ledger.store.read() as r:
        rows = sum(
            r.row_count(t)
            for t in ("parties", "keys", "lots", "holdings", "dispatches", "lot_refs", "party_refs")
        )
    assert report.rows_checked == rows
