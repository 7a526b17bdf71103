"""Retractions and corrections (docs/custody-rules.md, "Corrections"): a party
voids one of its own statements while nothing downstream used what it did, on
SQLite and PostgreSQL; refused with a stable code afterwards; the log keeps
everything and ``ledger audit`` stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.errors import CustodyError
from ledger.log import SubmitResult
from tests.ledger.custody_world import origin_body, state_of, transform_body
from tests.support import Actor, World, q


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    w = World(tmp_path / "home", db_url=url)
    yield w
    w.close()


def retract(actor: Actor, target: SubmitResult | str, reason: str = "entered in error") -> str:
    digest = target if isinstance(target, str) else str(target.digest)
    return str(actor.submit("retract", statement=digest, reason=reason).digest)


def refused(actor: Actor, target: SubmitResult | str, code: str, *, type: str = "retract") -> str:
    digest = target if isinstance(target, str) else str(target.digest)
    res = actor.attempt(type, statement=digest, reason="oops")
    assert res.error is not None
    assert res.seq is None
    assert res.error.code == f"rejected.{code}", res.error.message
    return res.error.message


def holding(w: World, lot: str, party: str) -> str:
    with w.ledger.store.read() as r:
        return f"{r.holding(lot, party).normalize():f}"


def clean(w: World) -> None:
    report = audit(w.ledger.store)
    assert report.ok, [p.message for p in report.problems]


def dispatch(actor: Actor, lot: str, quantity: int, to: str) -> SubmitResult:
    return actor.submit("dispatch", lot=lot, quantity=q(quantity), unit="kg", to=to)


def receive(actor: Actor, d: SubmitResult, quantity: int) -> SubmitResult:
    return actor.submit("receipt", dispatch=str(d.digest), quantity=q(quantity), unit="kg")


def test_origin_before_and_after_use(any_world: World) -> None:
    w = any_world
    farm, gin = w.party("farm"), w.party("gin")
    o = farm.submit("origin", **origin_body("farm/a", q(100)))
    retract(farm, o)
    assert holding(w, "farm/a", "farm") == "0"
    with pytest.raises(CustodyError) as e:
        dispatch(farm, "farm/a", 10, "gin")
    assert e.value.code == "rejected.unknown_lot"
    assert "was retracted at seq" in e.value.message
    refused(farm, o, "already_retracted")
    # the lot id is free again: a new origin creates it
    farm.submit("origin", **origin_body("farm/a", q(90)))
    d = dispatch(farm, "farm/a", 10, "gin")
    msg = refused(farm, farm_origin_of(w, "farm/a"), "consumed")
    assert "holds 80 kg of the 90 kg created" in msg
    receive(gin, d, 10)
    clean(w)


def farm_origin_of(w: World, lot: str) -> str:
    with w.ledger.store.read() as r:
        found = r.lot(lot)
        assert found is not None
        return r.entry(found.seq).digest


def test_dispatch_receipt_and_chain_of_retractions(any_world: World) -> None:
    w = any_world
    farm, gin = w.party("farm"), w.party("gin")
    farm.submit("origin", **origin_body("farm/a", q(100)))
    d = dispatch(farm, "farm/a", 40, "gin")
    assert holding(w, "farm/a", "farm") == "60"
    r = receive(gin, d, 40)
    assert "received at seq" in refused(farm, d, "consumed")
    gin.submit("transform", **transform_body("farm/a", q(30), "gin/lint"))
    # the gin used 30 of the 40 it received: its receipt cannot be retracted
    assert "has been used" in refused(gin, r, "consumed")
    t = farm_origin_of(w, "gin/lint")
    retract(gin, t)  # the transform's output is untouched: its input comes back
    assert holding(w, "farm/a", "gin") == "40"
    assert holding(w, "gin/lint", "gin") == "0"
    retract(gin, r)
    assert holding(w, "farm/a", "gin") == "0"
    with w.ledger.store.read() as rd:
        again = rd.dispatch(str(d.digest))
    assert again is not None
    assert again.received is None
    retract(farm, d)
    assert holding(w, "farm/a", "farm") == "100"
    with pytest.raises(CustodyError) as e:
        receive(gin, d, 40)
    assert e.value.code == "rejected.unknown_dispatch"
    assert "retracted" in e.value.message
    clean(w)


def test_evidence_and_import_always(any_world: World) -> None:
    w = any_world
    farm = w.party("farm")
    importer = w.party("importer", roles=("importer",))
    farm.submit("origin", **origin_body("farm/a", q(100)))
    receive(importer, dispatch(farm, "farm/a", 100, "importer"), 100)
    doc = {"sha256": "ab" * 32, "name": "invoice.pdf", "media_type": "application/pdf", "size": 9}
    ev = farm.submit("evidence", lots=["farm/a"], kind="invoice", document=doc)
    imp = importer.submit(
        "import", lot="farm/a", quantity=q(100), unit="kg", entry_number="NMR-0001234-5"
    )
    assert holding(w, "farm/a", "importer") == "0"
    retract(importer, imp)
    assert holding(w, "farm/a", "importer") == "100"
    retract(farm, ev)
    assert "already retracted at seq" in refused(farm, ev, "already_retracted")
    clean(w)


def test_who_and_what(any_world: World) -> None:
    w = any_world
    farm, gin = w.party("farm"), w.party("gin")
    o = farm.submit("origin", **origin_body("farm/a", q(100)))
    assert "issued by farm, not gin" in refused(gin, o, "not_own_statement")
    assert "no statement with digest" in refused(farm, "sha256:" + "0" * 64, "unknown_statement")
    with w.ledger.store.read() as r:
        registration = r.entry(1).digest  # the operator's registration of farm
    assert "cannot be retracted" in refused(w.operator, registration, "not_retractable")
    r1 = retract(farm, o)
    assert "cannot be retracted" in refused(farm, r1, "not_retractable")
    before = state_of(w)
    refused(farm, o, "already_retracted")
    assert state_of(w) == before  # a refusal changes nothing
    clean(w)


def test_replaces_corrects_in_one_statement(any_world: World) -> None:
    w = any_world
    farm, gin = w.party("farm"), w.party("gin")
    o = farm.submit("origin", **origin_body("farm/a", q(100)))
    fixed = farm.submit("origin", replaces=str(o.digest), **origin_body("farm/a", q(120)))
    assert holding(w, "farm/a", "farm") == "120"
    d = dispatch(farm, "farm/a", 50, "gin")
    d2 = farm.submit(
        "dispatch", lot="farm/a", quantity=q(70), unit="kg", to="gin", replaces=str(d.digest)
    )
    assert holding(w, "farm/a", "farm") == "50"
    receive(gin, d2, 70)
    # the corrected origin is now used: correcting it again is refused, nothing changes
    res = farm.attempt("origin", replaces=str(fixed.digest), **origin_body("farm/a", q(1)))
    assert res.error is not None
    assert res.error.code == "rejected.consumed"
    assert holding(w, "farm/a", "farm") == "50"
    clean(w)


def test_target_and_retraction_in_one_batch(any_world: World) -> None:
    w = any_world
    farm = w.party("farm")
    o = farm.envelope("origin", **origin_body("farm/a", q(100)))
    from ledger.statements import parse_statement

    digest = parse_statement(o.payload).digest
    r = farm.envelope("retract", statement=digest, reason="duplicate")
    results = w.ledger.submit([o, r])
    assert [x.error for x in results] == [None, None]
    assert holding(w, "farm/a", "farm") == "0"
    clean(w)
