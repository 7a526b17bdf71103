"""Every custody rejection, one named case each, through ``Ledger.submit``.

Each case runs against a small world (a farm's seed lot, part received by the
gin, part still in transit to the spinner), builds one bad statement, and
checks the exact error code, the message a user reads, and that nothing
changed: ledger size, lots, holdings, dispatches and keys. Batch semantics
and idempotency follow the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import audit
from ledger.envelope import Envelope, EnvelopeSignature, sign_envelope
from ledger.keys import PrivateKey
from ledger.statements import encode_statement, format_time
from tests.support import T0, Actor, World, q, site

_ids = itertools.count(1)


@dataclass
class Ctx:
    world: World
    farm: Actor
    gin: Actor
    spinner: Actor
    importer: Actor
    to_gin: str  # dispatch digest, received by the gin
    to_spinner: str  # dispatch digest, still in transit


def raw(
    actor: Actor,
    type: str,
    *,
    issuer: str | None = None,
    time: str | datetime | None = None,
    id: str | None = None,
    **body: Any,
) -> bytes:
    """A statement encoded without validation (so it may be malformed)."""
    when = time if isinstance(time, str) else format_time(time or actor.world.tick())
    doc = {
        "spec": "custody/1",
        "type": type,
        "id": id or f"case-{next(_ids)}",
        "issuer": issuer or actor.id,
        "time": when,
        **body,
    }
    return encode_statement(doc)


def signed(actor: Actor, payload: bytes, *keys: PrivateKey) -> Envelope:
    return sign_envelope(payload, list(keys) or [actor.key])


def origin_body(lot: str = "farm/seed-2", quantity: Any = None, unit: str = "kg") -> dict[str, Any]:
    return {
        "lot": {
            "id": lot,
            "material": "cotton.seed",
            "quantity": q(100) if quantity is None else quantity,
            "unit": unit,
        },
        "site": site("Lubbock farm", "US", "US-TX"),
    }


def transform_body(lot: str, quantity: Any, out: str) -> dict[str, Any]:
    return {
        "process": "cotton.ginning",
        "inputs": [{"lot": lot, "quantity": quantity, "unit": "kg"}],
        "outputs": [{"id": out, "material": "cotton.lint", "quantity": q(1), "unit": "kg"}],
        "site": site("Plains gin", "US", "US-TX"),
    }


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    world = World(tmp_path / "home")
    farm = world.party("farm", "Lubbock Farm", subdivision="US-TX")
    gin = world.party("gin", "Plains Gin", subdivision="US-TX")
    spinner = world.party("spinner", "Carolina Spinning", subdivision="US-NC")
    importer = world.party("importer", "Acme Apparel", roles=("importer",))
    farm.submit("origin", id="origin/farm/seed-1", **origin_body("farm/seed-1", q(12000)))
    to_gin = farm.submit("dispatch", lot="farm/seed-1", quantity=q(5000), unit="kg", to="gin")
    gin.submit("receipt", dispatch=to_gin.digest, quantity=q(5000), unit="kg")
    to_spinner = farm.submit(
        "dispatch", lot="farm/seed-1", quantity=q(2000), unit="kg", to="spinner"
    )
    return Ctx(world, farm, gin, spinner, importer, str(to_gin.digest), str(to_spinner.digest))


# ------------------------------------------------------------------ the cases


def unknown_issuer(c: Ctx) -> Envelope:
    # signed by a registered key (the farm's), claiming an issuer nobody registered
    return signed(c.farm, raw(c.farm, "origin", issuer="ghost", **origin_body("ghost/1")))


def other_partys_key(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", **origin_body()), c.gin.key)


def revoked_key(c: Ctx) -> Envelope:
    old, new = c.farm.key, PrivateKey.generate()
    c.farm.submit("key", party="farm", public_key=new.public_key_b64)
    c.farm.submit(
        "revoke", signers=[new], party="farm", public_key=old.public_key_b64, reason="superseded"
    )
    return signed(c.farm, raw(c.farm, "origin", **origin_body()), old)


def compromised_key(c: Ctx) -> Envelope:
    c.world.operator.submit(
        "revoke",
        party="farm",
        public_key=c.farm.key.public_key_b64,
        reason="compromised",
        effective=T0,
    )
    return signed(c.farm, raw(c.farm, "origin", **origin_body()))


def unknown_key(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", **origin_body()), PrivateKey.generate())


def bad_signature_bytes(c: Ctx) -> Envelope:
    env = signed(c.farm, raw(c.farm, "origin", **origin_body()))
    sig = env.signatures[0]
    flipped = bytes([sig.sig[0] ^ 1]) + sig.sig[1:]
    return replace(env, signatures=(EnvelopeSignature(sig.keyid, flipped),))


def bad_cosignature(c: Ctx) -> Envelope:
    # the issuer's signature is good, a second one is not: one bad signature spoils it
    env = signed(c.farm, raw(c.farm, "origin", **origin_body()), c.farm.key, c.gin.key)
    good, cosig = env.signatures
    return replace(env, signatures=(good, EnvelopeSignature(cosig.keyid, good.sig)))


def party_by_supplier(c: Ctx) -> Envelope:
    info = {"id": "rogue", "name": "Rogue", "country": "US", "roles": ["supplier"]}
    key = PrivateKey.generate().public_key_b64
    return signed(c.farm, raw(c.farm, "party", party=info, keys=[key]))


def key_for_another_party(c: Ctx) -> Envelope:
    pk = PrivateKey.generate().public_key_b64
    return signed(c.gin, raw(c.gin, "key", party="farm", public_key=pk))


def duplicate_lot(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", **origin_body("farm/seed-1")))


def transform_output_reuses_lot(c: Ctx) -> Envelope:
    c.farm.submit("origin", **origin_body("farm/seed-3"))
    return signed(
        c.gin, raw(c.gin, "transform", **transform_body("farm/seed-1", q(10), "farm/seed-3"))
    )


def input_not_held(c: Ctx) -> Envelope:
    # the spinner's 2000 kg are still in transit: it holds nothing yet
    body = transform_body("farm/seed-1", q(100), "spin/yarn-1")
    return signed(c.spinner, raw(c.spinner, "transform", **body))


def input_unknown_lot(c: Ctx) -> Envelope:
    return signed(c.gin, raw(c.gin, "transform", **transform_body("farm/nope", q(1), "gin/l-9")))


def double_spend_two_transforms(c: Ctx) -> Envelope:
    c.gin.submit("transform", **transform_body("farm/seed-1", q(4000), "gin/lint-1"))
    return signed(
        c.gin, raw(c.gin, "transform", **transform_body("farm/seed-1", q(2000), "gin/lint-2"))
    )


def dispatch_more_than_held(c: Ctx) -> Envelope:
    body: dict[str, Any] = {
        "lot": "farm/seed-1",
        "quantity": q("5000.001"),
        "unit": "kg",
        "to": "spinner",
    }
    return signed(c.farm, raw(c.farm, "dispatch", **body))


def dispatch_to_unknown_party(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"lot": "farm/seed-1", "quantity": q(10), "unit": "kg", "to": "nobody"}
    return signed(c.farm, raw(c.farm, "dispatch", **body))


def receipt_by_non_addressee(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"dispatch": c.to_spinner, "quantity": q(2000), "unit": "kg"}
    return signed(c.gin, raw(c.gin, "receipt", **body))


def receipt_exceeds_dispatch(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"dispatch": c.to_spinner, "quantity": q("2.000001"), "unit": "t"}
    return signed(c.spinner, raw(c.spinner, "receipt", **body))


def second_receipt(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"dispatch": c.to_gin, "quantity": q(1), "unit": "kg"}
    return signed(c.gin, raw(c.gin, "receipt", **body))


def receipt_unknown_dispatch(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"dispatch": "sha256:" + "ab" * 32, "quantity": q(1), "unit": "kg"}
    return signed(c.gin, raw(c.gin, "receipt", **body))


def import_not_held(c: Ctx) -> Envelope:
    body: dict[str, Any] = {
        "lot": "farm/seed-1",
        "quantity": q(1),
        "unit": "kg",
        "entry_number": "ABC-1234567-8",
    }
    return signed(c.importer, raw(c.importer, "import", **body))


def evidence_unknown_lot(c: Ctx) -> Envelope:
    doc: dict[str, Any] = {
        "sha256": "cd" * 32,
        "name": "invoice.pdf",
        "media_type": "application/pdf",
        "size": 9,
    }
    body: dict[str, Any] = {"lots": ["farm/nope"], "kind": "invoice", "document": doc}
    return signed(c.farm, raw(c.farm, "evidence", **body))


def dispatch_quantity(value: Any, unit: str = "kg") -> Callable[[Ctx], Envelope]:
    def build(c: Ctx) -> Envelope:
        body = {"lot": "farm/seed-1", "quantity": value, "unit": unit, "to": "gin"}
        return signed(c.farm, raw(c.farm, "dispatch", **body))

    return build


def bad_time(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", time="2026-03-01 10:00:00", **origin_body()))


def time_with_offset(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", time="2026-03-01T10:00:00+02:00", **origin_body()))


def future_time(c: Ctx) -> Envelope:
    later = datetime.now(UTC) + timedelta(hours=1)
    return signed(c.farm, raw(c.farm, "origin", time=later, **origin_body()))


def missing_field(c: Ctx) -> Envelope:
    body: dict[str, Any] = {"lot": "farm/seed-1", "quantity": q(10), "unit": "kg"}
    return signed(c.farm, raw(c.farm, "dispatch", **body))


def unknown_type(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "shipment", lot="farm/seed-1"))


def malformed_subdivision(c: Ctx) -> Envelope:
    body = origin_body()
    body["site"] = {"name": "Lubbock farm", "country": "US", "subdivision": "TEXAS"}
    return signed(c.farm, raw(c.farm, "origin", **body))


def subdivision_of_other_country(c: Ctx) -> Envelope:
    body = origin_body()
    body["site"] = {"name": "Lubbock farm", "country": "US", "subdivision": "CN-XJ"}
    return signed(c.farm, raw(c.farm, "origin", **body))


def same_id_other_bytes(c: Ctx) -> Envelope:
    return signed(c.farm, raw(c.farm, "origin", id="origin/farm/seed-1", **origin_body()))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Ctx], Envelope]
    code: str
    message: str  # what the user reads: a substring of the message


CASES = [
    Case("unknown issuer", unknown_issuer, "bad_signature.unknown_issuer",
         "issuer 'ghost' is not a registered party"),
    Case("signature by another party's key", other_partys_key, "bad_signature.not_issuer",
         "no signature by a key of farm"),
    Case("revoked key", revoked_key, "bad_signature.revoked", "was revoked (superseded) at seq"),
    Case("key revoked as compromised before the append", compromised_key,
         "bad_signature.revoked", "was revoked (compromised) at seq"),
    Case("unknown key", unknown_key, "bad_signature.unknown_key",
         "is not registered in the ledger"),
    Case("bad signature bytes", bad_signature_bytes, "bad_signature.invalid",
         "signatures[0] by farm's key"),
    Case("a bad co-signature", bad_cosignature, "bad_signature.invalid",
         "signatures[1] by gin's key"),
    Case("party registered by a supplier", party_by_supplier, "bad_signature.not_issuer",
         "no signature by a key of operator"),
    Case("key added to another party", key_for_another_party, "rejected.not_authorised",
         "gin may not manage the keys of farm"),
    Case("duplicate lot id", duplicate_lot, "rejected.duplicate_lot",
         "lot 'farm/seed-1' already exists"),
    Case("transform output reuses a lot id", transform_output_reuses_lot,
         "rejected.duplicate_lot", "lot 'farm/seed-3' already exists"),
    Case("transform input not held", input_not_held, "rejected.not_held",
         "inputs[0]: spinner does not hold lot 'farm/seed-1'"),
    Case("transform input of an unknown lot", input_unknown_lot, "rejected.unknown_lot",
         "inputs[0]: lot 'farm/nope' does not exist"),
    Case("double-spend across two transforms", double_spend_two_transforms, "rejected.overdraw",
         "gin holds 1000 kg of lot 'farm/seed-1' but draws 2000 kg (double-spending)"),
    Case("dispatch of more than held", dispatch_more_than_held, "rejected.overdraw",
         "farm holds 5000 kg of lot 'farm/seed-1' but draws 5000.001 kg"),
    Case("dispatch to unknown party", dispatch_to_unknown_party, "rejected.unknown_party",
         "party 'nobody' is not registered"),
    Case("receipt by a non-addressee", receipt_by_non_addressee, "rejected.not_addressee",
         "is addressed to spinner, not gin"),
    Case("receipt exceeding the dispatch", receipt_exceeds_dispatch,
         "rejected.receipt_exceeds_dispatch", "receipt of 2.000001 t exceeds the 2000 kg"),
    Case("second receipt for one dispatch", second_receipt, "rejected.duplicate_receipt",
         "was already received at seq"),
    Case("receipt of an unknown dispatch", receipt_unknown_dispatch, "rejected.unknown_dispatch",
         "no dispatch statement with digest sha256:abab"),
    Case("import of a lot not held", import_not_held, "rejected.not_held",
         "importer does not hold lot 'farm/seed-1'"),
    Case("evidence for an unknown lot", evidence_unknown_lot, "rejected.unknown_lot",
         "lots[0]: lot 'farm/nope' does not exist"),
    Case("negative quantity", dispatch_quantity(q(-5)), "invalid_statement.bad_quantity",
         "quantity: must be a number greater than 0, got -5"),
    Case("zero quantity", dispatch_quantity(q(0)), "invalid_statement.bad_quantity",
         "quantity: must be a number greater than 0, got 0"),
    Case("non-numeric quantity", dispatch_quantity("12"), "invalid_statement.bad_quantity",
         'quantity: must be a number greater than 0, got "12"'),
    Case("boolean quantity", dispatch_quantity(True), "invalid_statement.bad_quantity",
         "got true"),
    Case("unknown unit", dispatch_quantity(q(10), "bale"), "invalid_statement.unknown_unit",
         'unit: must be one of g, kg, t, lb, pcs, m, m2, l, got "bale"'),
    Case("unit of another dimension than the lot's", dispatch_quantity(q(10), "pcs"),
         "rejected.unit_dimension",
         "unit 'pcs' is a count but lot 'farm/seed-1' is measured as mass (kg)"),
    Case("bad time", bad_time, "invalid_statement.bad_time",
         "time: must be an RFC 3339 UTC time like 2026-03-01T10:00:00Z"),
    Case("time with an offset instead of Z", time_with_offset, "invalid_statement.bad_time",
         "time: must be an RFC 3339 UTC time"),
    Case("future time", future_time, "rejected.future_time",
         "is more than 5 minutes after the ledger clock"),
    Case("missing field", missing_field, "invalid_statement.missing_field", "to: is required"),
    Case("unknown type", unknown_type, "invalid_statement.unknown_type",
         'type: must be one of party, key, revoke, origin, transform, dispatch, receipt, '
         'evidence, import, got "shipment"'),
    Case("malformed subdivision code", malformed_subdivision, "invalid_statement.bad_subdivision",
         'site.subdivision: must be an ISO 3166-2 subdivision code like CN-XJ, got "TEXAS"'),
    Case("subdivision of another country", subdivision_of_other_country,
         "invalid_statement.bad_subdivision", "site.subdivision: must be a subdivision of US"),
    Case("duplicate (issuer, id) with other bytes", same_id_other_bytes, "conflict.statement_id",
         "farm already appended a statement with id 'origin/farm/seed-1' (seq 5) with other bytes"),
]  # fmt: skip


def state_of(world: World) -> tuple[Any, ...]:
    """Everything a statement could change."""
    with world.ledger.store.read() as r:
        return (
            r.head(),
            sorted(r.all_lots(), key=lambda lot: lot.id),
            r.all_holdings(),
            r.dispatches_of(),
            sorted(r.all_keys(), key=lambda k: k.kid),
            r.parties(),
        )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_statement_is_rejected_and_changes_nothing(ctx: Ctx, case: Case) -> None:
    envelope = case.build(ctx)
    before = state_of(ctx.world)
    (result,) = ctx.world.ledger.submit([envelope])
    assert result.error is not None, f"{case.name} was appended at seq {result.seq}"
    assert result.error.code == case.code, result.error.message
    assert case.message in result.error.message
    assert result.seq is None
    assert state_of(ctx.world) == before
    assert audit(ctx.world.ledger.store).ok


def test_table_covers_every_rejection_code_the_issue_names() -> None:
    codes = {c.code for c in CASES}
    assert {
        "bad_signature.unknown_issuer",
        "bad_signature.not_issuer",
        "bad_signature.revoked",
        "bad_signature.invalid",
        "bad_signature.unknown_key",
        "rejected.duplicate_lot",
        "rejected.not_held",
        "rejected.overdraw",
        "rejected.unknown_party",
        "rejected.not_addressee",
        "rejected.receipt_exceeds_dispatch",
        "rejected.duplicate_receipt",
        "rejected.unit_dimension",
        "rejected.future_time",
        "invalid_statement.bad_quantity",
        "invalid_statement.unknown_unit",
        "invalid_statement.bad_time",
        "invalid_statement.missing_field",
        "invalid_statement.unknown_type",
        "invalid_statement.bad_subdivision",
        "conflict.statement_id",
    } <= codes


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
