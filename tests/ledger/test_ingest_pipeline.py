"""The ingest path: pipelined batches, verification on processes, bulk SQL.

``Ledger.submit_stream`` must give exactly what ``Ledger.submit`` gives batch
after batch (results, rejections, leaves); a signature is judged with its own
bytes; and a batch costs a fixed number of queries whatever it holds. (That the
fast path writes :func:`ledger.leaf.leaf_bytes` is tested in ``test_leaf.py``.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from ledger.envelope import Envelope, sign_envelope
from ledger.errors import CustodyError, EnvelopeError
from ledger.home import Home
from ledger.keys import PrivateKey
from ledger.log import Ledger, SubmitResult
from ledger.sigcheck import ProcessVerifier, verify_serial
from ledger.statements import statement_digest
from ledger.store import PAIR_CHUNK
from tests.support import Actor, World, q, site

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

Item = Envelope | CustodyError


def _origin(actor: Any, lot: str, qty: int = 100) -> Envelope:
    return actor.envelope(
        "origin",
        id=f"o/{lot}",
        lot={"id": lot, "material": "cotton.seed", "quantity": q(qty), "unit": "kg"},
        site=site(),
    )


def _dispatch(actor: Any, lot: str, to: str, qty: int, sid: str | None = None) -> Envelope:
    return actor.envelope(
        "dispatch", id=sid or f"d/{lot}/{to}", lot=lot, quantity=q(qty), unit="kg", to=to
    )


def _receipt(actor: Any, dispatch: Envelope, qty: int, sid: str | None = None) -> Envelope:
    return actor.envelope(
        "receipt",
        id=sid or f"r/{statement_digest(dispatch.payload)[7:23]}",
        dispatch=statement_digest(dispatch.payload),
        quantity=q(qty),
        unit="kg",
    )


def _batches(world: World) -> list[list[Item]]:
    """Batches touching every path: good statements, rejections of each kind,
    a key registered one batch before it signs, receipts of earlier dispatches."""
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    mill_key = PrivateKey.generate()
    register_mill = world.operator.envelope(
        "party",
        id="party/mill",
        party={"id": "mill", "name": "Mill", "country": "US", "roles": ["supplier"]},
        keys=[mill_key.public_key_b64],
    )
    mill = Actor(world, "mill", mill_key)
    lots = [f"farm/L{i}" for i in range(6)]
    origins = [_origin(farm, lot) for lot in lots]
    d1 = _dispatch(farm, lots[0], "gin", 60)
    d2 = _dispatch(farm, lots[1], "gin", 100)
    d_mill = _dispatch(farm, lots[2], "mill", 40)
    forged_payload = farm.payload(
        "origin",
        id="o/forged",
        lot={"id": "farm/forged", "material": "cotton.seed", "quantity": q(1), "unit": "kg"},
        site=site(),
    )
    # farm's signature of d1, copied onto other bytes
    forged = Envelope(d1.payload_type, forged_payload, d1.signatures)
    other_key = PrivateKey.generate()
    batch1: list[Item] = [
        *origins[:4],
        register_mill,
        d1,
        d2,
        d_mill,
        _dispatch(farm, lots[0], "gin", 50, sid="d/overdraw"),  # 60 of 100 gone: overdraw
        EnvelopeError("not an envelope", code="invalid_envelope.json"),
    ]
    batch2: list[Item] = [
        forged,  # before the envelope its signature comes from
        d1,  # the same envelope again: a duplicate
        _receipt(gin, d1, 60),
        _receipt(mill, d_mill, 40),  # signed by a key registered in batch 1
        _receipt(gin, d2, 101),  # more than dispatched
        *origins[4:],
        Envelope(origins[0].payload_type, b'{"spec":', origins[0].signatures),  # not JSON
        _origin(farm, lots[0], 5),  # same (issuer, id) as batch 1, other bytes
        sign_envelope(farm.payload("origin", id="o/wrong-key", **_lot("farm/W")), [other_key]),
    ]
    batch3: list[Item] = [
        _receipt(gin, d2, 100),  # a dispatch of two batches ago
        _receipt(gin, d1, 60, sid="r/again"),  # received already
        gin.envelope(
            "transform",
            id="t/1",
            process="cotton.ginning",
            inputs=[
                {"lot": lots[0], "quantity": q(60), "unit": "kg"},
                {"lot": lots[1], "quantity": q(100), "unit": "kg"},
            ],
            outputs=[
                {"id": "gin/lint-1", "material": "cotton.lint", "quantity": q(70), "unit": "kg"}
            ],
            site=site(),
        ),
        _dispatch(farm, lots[3], "mill", 100),
    ]
    return [batch1, batch2, batch3]


def _lot(lot: str) -> dict[str, Any]:
    return {
        "lot": {"id": lot, "material": "cotton.seed", "quantity": q(1), "unit": "kg"},
        "site": site(),
    }


def _twin(world: World, tmp_path: Path) -> Ledger:
    """A second ledger over a copy of ``world``'s database, same operator key."""
    world.ledger.store.close()
    other = tmp_path / "twin"
    shutil.copytree(world.home.path, other)
    twin = Home(other).open()
    twin.clock = lambda: NOW
    world.ledger.clock = lambda: NOW
    return twin


def _leaves(ledger: Ledger) -> list[bytes]:
    return [ledger.leaf(seq) for seq in range(ledger.size())]


def _codes(results: list[SubmitResult]) -> list[dict[str, Any]]:
    return [r.to_json() for r in results]


@pytest.mark.parametrize("workers", [1, 2])
def test_stream_equals_batch_after_batch(world: World, tmp_path: Path, workers: int):
    batches = _batches(world)
    twin = _twin(world, tmp_path)
    expected = [world.ledger.submit(b) for b in batches]
    streamed_ledger = Ledger(twin.store, twin.operator_key, clock=lambda: NOW, workers=workers)
    try:
        streamed = list(streamed_ledger.submit_stream(batches))
    finally:
        streamed_ledger.close()
    assert [_codes(r) for r in streamed] == [_codes(r) for r in expected]
    assert _leaves(streamed_ledger) == _leaves(world.ledger)
    assert streamed_ledger.checkpoint() == world.ledger.checkpoint()
    twin.store.close()


def test_stream_results_say_what_happened(world: World, tmp_path: Path):
    batches = _batches(world)
    out = list(world.ledger.submit_stream(batches))
    assert [len(r) for r in out] == [len(b) for b in batches]
    codes = [[None if r.error is None else r.error.code for r in rs] for rs in out]
    assert codes[0][:8] == [None] * 8
    assert codes[0][8] == "rejected.overdraw"
    assert codes[0][9] == "invalid_envelope.json"
    assert codes[1][0] == "bad_signature.invalid"  # the forged copy
    assert out[1][1].duplicate
    assert out[1][1].seq == out[0][5].seq
    assert codes[1][2:4] == [None, None]  # mill's key came in the batch before
    assert codes[1][4] == "rejected.receipt_exceeds_dispatch"
    assert codes[1][7].startswith("invalid_statement")
    assert codes[1][8] == "conflict.statement_id"
    assert codes[1][9] == "bad_signature.unknown_key"
    assert codes[2] == [None, "rejected.duplicate_receipt", None, None]
    from ledger.audit import audit

    assert audit(world.ledger.store).ok


def test_a_copied_signature_does_not_vouch_for_other_bytes(world: World):
    farm = world.party("farm", "Farm")
    good = _origin(farm, "farm/A")
    (first,) = world.ledger.submit([good])
    forged = Envelope(good.payload_type, farm.payload("origin", **_lot("farm/B")), good.signatures)
    for verifier in (verify_serial, ProcessVerifier(2, min_parallel=1)):
        world.ledger.verifier = verifier
        res = world.ledger.submit([forged, good])
        assert res[0].error is not None
        assert res[0].error.code == "bad_signature.invalid"
        assert res[1].duplicate
        assert res[1].seq == first.seq
        getattr(verifier, "close", lambda: None)()
    assert world.ledger.size() == first.seq + 1


@contextmanager
def _queries(ledger: Ledger) -> Iterator[list[str]]:
    """The first word of every statement the ledger's engines execute."""
    seen: list[str] = []

    def before(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    engines = [ledger.store.engine, ledger.store.write_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)


def _units(farm: Any, tag: str, n: int) -> tuple[list[Envelope], list[Envelope]]:
    """``n`` origins and their dispatches to gin: (all envelopes, the dispatches)."""
    out: list[Envelope] = []
    dispatches: list[Envelope] = []
    for i in range(n):
        lot = f"farm/{tag}-{i}"
        d = _dispatch(farm, lot, "gin", 10)
        out += [_origin(farm, lot), d]
        dispatches.append(d)
    return out, dispatches


def test_a_batch_costs_the_same_queries_whatever_its_size(world: World):
    farm = world.party("farm", "Farm")
    gin = world.party("gin", "Gin")
    warm, earlier = _units(farm, "warm", 152)
    assert all(r.error is None for r in world.ledger.submit(warm))
    counts = []
    # (pairs looked up stay under PAIR_CHUNK: one read each)
    for tag, n, received in (("small", 2, earlier[:2]), ("large", 150, earlier[2:])):
        # receipts of dispatches appended in an earlier batch, and new chains
        batch = [_receipt(gin, d, 10) for d in received] + _units(farm, tag, n)[0]
        with _queries(world.ledger) as seen:
            results = world.ledger.submit(batch)
        assert all(r.error is None for r in results)
        counts.append(seen)
    small, large = counts
    # 75x the statements: the same reads (each a bulk read, none per statement),
    # and at most one more executemany per table for the multi-row inserts
    assert [s for s in small if s != "INSERT"] == [s for s in large if s != "INSERT"]
    assert large.count("INSERT") <= small.count("INSERT") + 8


def test_lookups_span_several_chunks(world: World):
    farm = world.party("farm", "Farm")
    n = PAIR_CHUNK + 37
    envs = [_origin(farm, f"farm/many-{i}") for i in range(n)]
    first = world.ledger.submit(envs)
    assert all(r.error is None for r in first)
    again = world.ledger.submit(envs)  # every one found by (issuer, id)
    assert [r.seq for r in again] == [r.seq for r in first]
    assert all(r.duplicate for r in again)
    with world.ledger.store.read() as r:
        snap = r.prefetch([], [], [], [(f"farm/many-{i}", "farm") for i in range(n)], {})
    assert len(snap.holdings) == n
    assert all(v == q(100) for v in snap.holdings.values())


@pytest.mark.postgres
def test_postgres_stream_appends_audits_and_upserts(pg_world: World):
    batches = _batches(pg_world)
    out = list(pg_world.ledger.submit_stream(batches))
    assert out[2][1].error is not None
    assert out[2][1].error.code == "rejected.duplicate_receipt"
    farm = pg_world.parties["farm"]
    n = 2 * PAIR_CHUNK + 3  # multi-row inserts with a remainder; lookups in one query
    first = pg_world.ledger.submit([_origin(farm, f"farm/pg-{i}") for i in range(n)])
    assert all(r.error is None for r in first)
    from ledger.audit import audit

    report = audit(pg_world.ledger.store)
    assert report.ok, report.problems


def test_key_statements_are_prefetched_too(world: World):
    def batch(tag: str, n: int) -> list[Envelope]:
        out = []
        for i in range(n):
            pid = f"{tag}{i}"
            info = {"id": pid, "name": pid, "country": "US", "roles": ["supplier"]}
            keys = [PrivateKey.generate().public_key_b64]
            out.append(world.operator.envelope("party", id=f"party/{pid}", party=info, keys=keys))
            new_key = PrivateKey.generate().public_key_b64
            out.append(world.operator.envelope("key", party=pid, public_key=new_key))
        return out

    counts = []
    for tag, n in (("a", 2), ("b", 60)):
        envs = batch(tag, n)
        with _queries(world.ledger) as seen:
            results = world.ledger.submit(envs)
        assert all(r.error is None for r in results)
        counts.append(seen)
    small, large = counts
    assert [s for s in small if s != "INSERT"] == [s for s in large if s != "INSERT"]
