"""Every custody rejection, one named case each, through ``Ledger.submit``.

Each case runs against a small world (a farm's seed lot, part received by the
gin, part still in transit to the spinner), builds one bad statement, and
checks the exact error code, the message a user reads, and that nothing
changed: ledger size, lots, holdings, dispatches and keys. Batch semantics
and idempotency follow the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import audit
from ledger.envelope import Envelope, EnvelopeSignature
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


def transform_consumes_its_output(c: Ctx) -> Envelope:
    # issue 10 item 9: once refused as invalid_statement.duplicate_value at parse time
    return signed(
        c.gin, raw(c.gin, "transform", **transform_body("farm/seed-1", q(10), "farm/seed-1"))
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
    Case("transform consuming the lot it produces", transform_consumes_its_output,
         "rejected.self_transform",
         "outputs[0].id: transform cannot consume the lot it produces: farm/seed-1"),
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
         'unit: must be one of g, kg, t, lb, pcs, m, m2, l or a UN/ECE Rec. 20 code '
         '(KGM, TNE, LBR, H87, MTR, LTR, ...; docs/epcis.md lists them), got "bale"'),
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
         'evidence, import, retract, got "shipment"'),
    Case("malformed subdivision code", malformed_subdivision, "invalid_statement.bad_subdivision",
         'site.subdivision: must be an ISO 3166-2 subdivision code like CN-XJ, got "TEXAS"'),
    Case("subdivision of another country", subdivision_of_other_country,
         "invalid_statement.bad_subdivision", "site.subdivision: must be a subdivision of US"),
    Case("duplicate (issuer, id) with other bytes", same_id_other_bytes, "conflict.statement_id",
         "farm already appended a statement with id 'origin/farm/seed-1' (seq 5) with other bytes"),
]  # fmt: skip


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
        "rejected.self_transform",
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
