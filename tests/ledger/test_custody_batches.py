"""Custody rules at their boundaries, idempotency, batch semantics and regressions,
through ``Ledger.submit`` against the small world of :mod:`tests.ledger.custody_world`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.keys import PrivateKey
from tests.ledger.custody_world import (
    Ctx,
    make_ctx,
    origin_body,
    raw,
    signed,
    state_of,
    transform_body,
)
from tests.support import T0, q


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    return make_ctx(tmp_path)


# ------------------------------------------------------------------ boundaries that pass


def test_time_within_five_minutes_of_the_ledger_clock_is_accepted(ctx: Ctx) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=4)
    env = signed(ctx.farm, raw(ctx.farm, "origin", time=soon, **origin_body()))
    (result,) = ctx.world.ledger.submit([env])
    assert result.error is None


def test_compromised_key_signatures_before_the_revocation_stay_appended(ctx: Ctx) -> None:
    """Append time judges ledger order only; the effective time is for verification."""
    size = ctx.world.ledger.size()
    ctx.world.operator.submit(
        "revoke",
        party="farm",
        public_key=ctx.farm.key.public_key_b64,
        reason="compromised",
        effective=T0,
    )
    assert ctx.world.ledger.size() == size + 1
    assert audit(ctx.world.ledger.store).ok


def test_receipt_of_less_than_dispatched_is_short_receipt(ctx: Ctx) -> None:
    ctx.spinner.submit("receipt", dispatch=ctx.to_spinner, quantity=q("1.9"), unit="t")
    with ctx.world.ledger.store.read() as r:
        assert r.holding("farm/seed-1", "spinner") == q(1900)
        (d,) = [d for d in r.dispatches_of(lot="farm/seed-1") if d.to == "spinner"]
        assert d.received == q(1900)


def test_pounds_convert_exactly(ctx: Ctx) -> None:
    ctx.gin.submit("dispatch", lot="farm/seed-1", quantity=q(1000), unit="lb", to="spinner")
    with ctx.world.ledger.store.read() as r:
        assert r.holding("farm/seed-1", "gin") == q(5000) - q("453.59237")


# ------------------------------------------------------------------ idempotency


def test_replay_of_the_same_envelope_returns_the_original_seq(ctx: Ctx) -> None:
    env = ctx.farm.envelope("origin", **origin_body("farm/seed-9"))
    (first,) = ctx.world.ledger.submit([env])
    assert first.error is None
    before = state_of(ctx.world)
    (again,) = ctx.world.ledger.submit([env])
    assert again.error is None
    assert again.seq == first.seq
    assert again.duplicate
    assert again.to_json() == {"digest": first.digest, "seq": first.seq, "duplicate": True}
    assert state_of(ctx.world) == before


def test_replay_within_one_batch_is_appended_once(ctx: Ctx) -> None:
    env = ctx.farm.envelope("origin", **origin_body("farm/seed-9"))
    size = ctx.world.ledger.size()
    first, again = ctx.world.ledger.submit([env, env])
    assert first.seq == size
    assert again.seq == size
    assert again.duplicate
    assert ctx.world.ledger.size() == size + 1


def test_same_id_other_bytes_within_one_batch_is_a_conflict(ctx: Ctx) -> None:
    a = ctx.farm.envelope("origin", id="origin/x", **origin_body("farm/x-1"))
    b = ctx.farm.envelope("origin", id="origin/x", **origin_body("farm/x-2"))
    ok, conflict = ctx.world.ledger.submit([a, b])
    assert ok.error is None
    assert conflict.error is not None
    assert conflict.error.code == "conflict.statement_id"
    assert conflict.error.details["seq"] == ok.seq


def test_same_id_by_another_issuer_is_fine(ctx: Ctx) -> None:
    a = ctx.farm.envelope("origin", id="origin/shared", **origin_body("farm/s-1"))
    b = ctx.gin.envelope("origin", id="origin/shared", **origin_body("gin/s-1"))
    results = ctx.world.ledger.submit([a, b])
    assert [r.error for r in results] == [None, None]


# ------------------------------------------------------------------ batches


def test_one_bad_statement_rejects_only_itself(ctx: Ctx) -> None:
    size = ctx.world.ledger.size()
    good1 = ctx.farm.envelope("origin", **origin_body("farm/b-1"))
    bad = ctx.farm.envelope("dispatch", lot="farm/seed-1", quantity=q(99999), unit="kg", to="gin")
    good2 = ctx.farm.envelope("origin", **origin_body("farm/b-2"))
    r1, r2, r3 = ctx.world.ledger.submit([good1, bad, good2])
    assert (r1.seq, r3.seq) == (size, size + 1)
    assert r2.error is not None
    assert r2.error.code == "rejected.overdraw"
    assert ctx.world.ledger.size() == size + 2
    with ctx.world.ledger.store.read() as r:
        assert r.holding("farm/seed-1", "farm") == q(5000)
        assert r.lot("farm/b-2") is not None
    assert audit(ctx.world.ledger.store).ok


def test_statement_depending_on_a_rejected_one_in_the_batch_is_rejected(ctx: Ctx) -> None:
    size = ctx.world.ledger.size()
    # the origin is signed by the wrong key, so the lot never exists
    origin = signed(ctx.farm, ctx.farm.payload("origin", **origin_body("farm/d-1")), ctx.gin.key)
    dispatch = ctx.farm.envelope("dispatch", lot="farm/d-1", quantity=q(10), unit="kg", to="gin")
    r1, r2 = ctx.world.ledger.submit([origin, dispatch])
    assert r1.error is not None
    assert r1.error.code == "bad_signature.not_issuer"
    assert r2.error is not None
    assert r2.error.code == "rejected.unknown_lot"
    assert ctx.world.ledger.size() == size


def test_receipt_of_a_dispatch_rejected_earlier_in_the_batch_is_rejected(ctx: Ctx) -> None:
    size = ctx.world.ledger.size()
    dispatch = ctx.gin.envelope(
        "dispatch", lot="farm/seed-1", quantity=q(6000), unit="kg", to="spinner"
    )
    receipt_payload = ctx.spinner.payload(
        "receipt", dispatch=f"sha256:{_sha(dispatch.payload)}", quantity=q(6000), unit="kg"
    )
    r1, r2 = ctx.world.ledger.submit([dispatch, signed(ctx.spinner, receipt_payload)])
    assert r1.error is not None
    assert r1.error.code == "rejected.overdraw"
    assert r2.error is not None
    assert r2.error.code == "rejected.unknown_dispatch"
    assert ctx.world.ledger.size() == size


def test_later_statement_sees_earlier_ones_of_the_same_batch(ctx: Ctx) -> None:
    origin = ctx.farm.envelope("origin", **origin_body("farm/c-1", q(50)))
    dispatch = ctx.farm.envelope("dispatch", lot="farm/c-1", quantity=q(50), unit="kg", to="gin")
    receipt_payload = ctx.gin.payload(
        "receipt", dispatch=f"sha256:{_sha(dispatch.payload)}", quantity=q(50), unit="kg"
    )
    results = ctx.world.ledger.submit([origin, dispatch, signed(ctx.gin, receipt_payload)])
    assert [r.error for r in results] == [None, None, None]
    with ctx.world.ledger.store.read() as r:
        assert r.holding("farm/c-1", "gin") == q(50)
        assert r.holding("farm/c-1", "farm") == 0


def test_double_spend_within_one_batch(ctx: Ctx) -> None:
    a = ctx.gin.envelope("transform", **transform_body("farm/seed-1", q(3000), "gin/l-a"))
    b = ctx.gin.envelope("transform", **transform_body("farm/seed-1", q(3000), "gin/l-b"))
    ra, rb = ctx.world.ledger.submit([a, b])
    assert ra.error is None
    assert rb.error is not None
    assert rb.error.code == "rejected.overdraw"
    with ctx.world.ledger.store.read() as r:
        assert r.holding("farm/seed-1", "gin") == q(2000)
        assert r.lot("gin/l-b") is None
    assert audit(ctx.world.ledger.store).ok


def test_unparseable_items_in_a_batch_keep_their_place(ctx: Ctx) -> None:
    from ledger.envelope import parse_envelopes

    good = ctx.farm.envelope("origin", **origin_body("farm/p-1"))
    items = parse_envelopes(good.to_json() + "\n{not json}\n")
    r1, r2 = ctx.world.ledger.submit(items)
    assert r1.error is None
    assert r2.error is not None
    assert r2.error.code == "invalid_envelope.json"


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ regressions


@pytest.mark.parametrize("order", ["revoked first", "valid first"])
def test_revoked_cosignature_before_a_valid_issuer_key_is_accepted(ctx: Ctx, order: str) -> None:
    """Regression: a revoked issuer key listed before a valid one rejected the envelope,
    while the reverse order was accepted. The verdict must not depend on signature order."""
    old, new = ctx.farm.key, PrivateKey.generate()
    ctx.farm.submit("key", party="farm", public_key=new.public_key_b64)
    ctx.farm.submit(
        "revoke", signers=[new], party="farm", public_key=old.public_key_b64, reason="superseded"
    )
    keys = [old, new] if order == "revoked first" else [new, old]
    (result,) = ctx.world.ledger.submit(
        [signed(ctx.farm, raw(ctx.farm, "origin", **origin_body()), *keys)]
    )
    assert result.error is None, result.error
    assert audit(ctx.world.ledger.store).ok
