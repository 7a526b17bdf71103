"""Statement parsing (SPEC §3): good statements of every type, their accessors, and
the encoder. The bad ones are in ``test_statements_bad_*.py``."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import StatementError
from ledger.statements import (
    STATEMENT_TYPES,
    Dispatch,
    Evidence,
    Import,
    Key,
    Origin,
    Party,
    Receipt,
    Revoke,
    Transform,
    build_statement,
    encode_statement,
    format_time,
    parse_header,
    parse_statement,
    parse_time,
    statement_digest,
)
from ledger.units import Quantity
from tests.ledger.statement_samples import (
    DIGEST,
    GOOD,
    KEY_A,
    KEY_B,
    encode,
)

# -- good statements -------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GOOD), ids=str)
def test_good_statement_parses(kind):
    payload = encode(GOOD[kind])
    statement = parse_statement(payload)
    assert isinstance(statement, STATEMENT_TYPES[kind])
    assert statement.type == kind
    assert statement.payload == payload
    assert statement.digest == "sha256:" + hashlib.sha256(payload).hexdigest()
    assert statement.digest == statement_digest(payload)
    assert statement.time == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert statement.issuer == GOOD[kind]["issuer"]
    assert statement.id == GOOD[kind]["id"]
    assert statement.key == (statement.issuer, statement.id)
    assert parse_statement(payload) == statement
    header = parse_header(payload)
    assert (header.spec, header.type, header.id, header.issuer, header.time) == (
        "custody/1",
        kind,
        statement.id,
        statement.issuer,
        statement.time,
    )


@pytest.mark.parametrize("kind", sorted(GOOD), ids=str)
def test_build_statement_round_trips(kind):
    body = {k: v for k, v in GOOD[kind].items() if k not in {"spec", "type", "id", "issuer"}}
    time = body.pop("time")
    payload = build_statement(kind, GOOD[kind]["id"], GOOD[kind]["issuer"], time, **body)
    assert payload == encode(GOOD[kind])
    reference = json.dumps(
        json.loads(payload, parse_float=str),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    # Decimals were read as strings above; unquote them to compare layouts.
    assert payload.decode().replace('"', "") == reference.replace('"', "")


def test_party_accessors():
    statement = parse_statement(encode(GOOD["party"]))
    assert isinstance(statement, Party)
    assert statement.party.roles == ("supplier",)
    assert statement.party.subdivision == "UZ-BU"
    assert dict(statement.party.identifiers) == {
        "lei": "5493001KJTIIGC8Y1R12",
        "duns": "123456789",
    }
    assert statement.keys == (KEY_A, KEY_B)
    assert statement.public_keys == (bytes(range(32)), bytes(range(1, 33)))
    assert statement.parties_referenced() == ("operator.example", "gin.example")


def test_key_and_revoke_accessors():
    key = parse_statement(encode(GOOD["key"]))
    assert isinstance(key, Key)
    assert key.public_key_bytes == bytes(range(1, 33))
    revoke = parse_statement(encode(GOOD["revoke"]))
    assert isinstance(revoke, Revoke)
    assert revoke.reason == "compromised"
    assert revoke.effective == datetime(2026, 2, 28, 0, 0, 0, 500000, tzinfo=UTC)
    assert revoke.parties_referenced() == ("gin.example",)


def test_origin_accessors():
    origin = parse_statement(encode(GOOD["origin"]))
    assert isinstance(origin, Origin)
    assert origin.lot.quantity == Quantity(Decimal(12000), "kg")
    assert origin.site.lat == Decimal("39.77")
    assert origin.lots_created() == ("farm/seed-1",)
    assert origin.lots_referenced() == ("farm/seed-1",)
    assert origin.draws() == ()


def test_transform_accessors():
    transform = parse_statement(encode(GOOD["transform"]))
    assert isinstance(transform, Transform)
    assert transform.inputs[0].quantity == Quantity(Decimal(12000), "kg")
    assert transform.inputs[0].kg == Decimal(12000)
    assert transform.external_inputs[0].kg == Decimal("12.5")
    assert transform.external_inputs[0].quantity.kg is None
    assert transform.outputs[1].kg == Decimal(7500)
    assert transform.lots_created() == ("gin/lint-1", "gin/seed-1")
    assert transform.draws() == (("farm/seed-1", Quantity(Decimal(12000), "kg")),)
    assert transform.lots_referenced() == ("gin/lint-1", "gin/seed-1", "farm/seed-1")


def test_dispatch_receipt_import_evidence_accessors():
    dispatch = parse_statement(encode(GOOD["dispatch"]))
    assert isinstance(dispatch, Dispatch)
    assert dispatch.quantity.value == Decimal("4200.25")
    assert dispatch.documents[0].kind == "bill_of_lading"
    assert dispatch.parties_referenced() == ("gin.example", "spinner.example")
    assert dispatch.lots_referenced() == ("gin/lint-1",)
    receipt = parse_statement(encode(GOOD["receipt"]))
    assert isinstance(receipt, Receipt)
    assert receipt.statements_referenced() == (DIGEST,)
    assert receipt.quantity.kg == Decimal("9259.7") * Decimal("0.45359237")
    imported = parse_statement(encode(GOOD["import"]))
    assert isinstance(imported, Import)
    assert imported.draws() == (("factory/shirts-1", Quantity(Decimal(5000), "pcs")),)
    evidence = parse_statement(encode(GOOD["evidence"]))
    assert isinstance(evidence, Evidence)
    assert evidence.lots_referenced() == ("gin/lint-1", "farm/seed-1")
    assert evidence.claims is not None
    assert evidence.claims["origin_consistent_with"] == ("UZ",)
    assert evidence.claims["confidence"] == Decimal("0.95")
    with pytest.raises(TypeError):
        evidence.claims["x"] = 1  # type: ignore[index]


def test_minimal_optional_fields_absent():
    body = copy.deepcopy(GOOD["dispatch"])
    del body["documents"]
    dispatch = parse_statement(encode(body))
    assert isinstance(dispatch, Dispatch)
    assert dispatch.documents == ()
    transform = copy.deepcopy(GOOD["transform"])
    del transform["external_inputs"]
    parsed = parse_statement(encode(transform))
    assert isinstance(parsed, Transform)
    assert parsed.external_inputs == ()


def test_statements_are_immutable():
    statement = parse_statement(encode(GOOD["dispatch"]))
    assert isinstance(statement, Dispatch)
    with pytest.raises(AttributeError):
        statement.lot = "other"  # type: ignore[misc]


def test_payload_is_kept_verbatim():
    pretty = json.dumps({**GOOD["import"], "quantity": 5000}, indent=2, ensure_ascii=False).encode()
    statement = parse_statement(pretty)
    assert statement.payload == pretty
    assert statement.digest == statement_digest(pretty)


def test_number_forms_are_exact():
    body = {**GOOD["dispatch"]}
    del body["documents"]
    text = encode(body).decode().replace('"quantity":4200.25', '"quantity":4.20025e3')
    statement = parse_statement(text.encode())
    assert isinstance(statement, Dispatch)
    assert statement.quantity.value == Decimal("4200.25")
    tenths = text.replace('"quantity":4.20025e3', '"quantity":0.300000000000000001')
    parsed = parse_statement(tenths.encode())
    assert isinstance(parsed, Dispatch)
    assert parsed.quantity.value == Decimal("0.300000000000000001")
    assert parsed.quantity.value + Decimal("0.1") == Decimal("0.400000000000000001")


def test_fractional_seconds_and_time_helpers():
    assert parse_time("2026-03-01T10:00:00.123456789Z") == datetime(
        2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    assert format_time(datetime(2026, 3, 1, 10, tzinfo=UTC)) == "2026-03-01T10:00:00Z"
    assert format_time(datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)) == (
        "2026-03-01T10:00:00.5Z"
    )
    with pytest.raises(ValueError, match="aware"):
        format_time(datetime(2026, 3, 1))


# -- encoding ------------------------------------------------------------------------


def test_encode_statement_writes_decimals_exactly():
    encoded = encode_statement(
        {"b": Decimal("12000"), "a": Decimal("0.5"), "c": Decimal("1.2E+4"), "d": [1, True, None]}
    )
    assert encoded == b'{"a":0.5,"b":12000,"c":12000,"d":[1,true,null]}'
    assert encode_statement({"t": datetime(2026, 3, 1, 10, tzinfo=UTC)}) == (
        b'{"t":"2026-03-01T10:00:00Z"}'
    )
    assert encode_statement({"name": "Ürümqi"}) == '{"name":"Ürümqi"}'.encode()


_JSON_TREES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON_TREES)
def test_encode_statement_is_compact_sorted_json(value: Any):
    """Any text (quotes, backslashes, controls, non-ASCII) in keys and values, nesting,
    the scalars JSON has: byte for byte what ``json.dumps`` writes with sorted keys,
    no spaces and no ASCII escaping."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encode_statement({"v": value}) == ('{"v":' + expected + "}").encode()


@pytest.mark.parametrize(
    "value",
    [0.1, Decimal("NaN"), Decimal("Infinity"), object(), Quantity(Decimal(1), "kg")],
    ids=["float", "nan", "infinity", "object", "quantity"],
)
def test_encode_statement_refuses(value):
    with pytest.raises((TypeError, ValueError)):
        encode_statement({"x": value})


def test_build_statement_refuses_common_fields_in_body():
    with pytest.raises(TypeError):
        build_statement("key", "k", "gin.example", "2026-03-01T10:00:00Z", spec="x")


def test_build_statement_validates():
    with pytest.raises(StatementError) as info:
        build_statement(
            "dispatch",
            "d-1",
            "gin.example",
            datetime(2026, 3, 1, tzinfo=UTC),
            lot="gin/lint-1",
            quantity=Decimal(0),
            unit="kg",
            to="spinner.example",
        )
    assert info.value.code == "invalid_statement.bad_quantity"


positive = st.decimals(
    min_value=Decimal("1e-18"),
    max_value=Decimal("999999999999999"),
    allow_nan=False,
    allow_infinity=False,
)


@given(value=positive, unit=st.sampled_from(["g", "kg", "t", "lb", "pcs", "m", "m2", "l"]))
def test_quantity_round_trips_through_encode_and_parse(value, unit):
    if value.as_tuple().exponent < -18:  # plain as_tuple: normalize() would round to 28 digits
        value = value.quantize(Decimal("1e-18"), context=Context(prec=60))
        if value <= 0:
            return
    payload = build_statement(
        "dispatch",
        "d-1",
        "gin.example",
        "2026-03-01T10:00:00Z",
        lot="gin/lint-1",
        quantity=value,
        unit=unit,
        to="spinner.example",
    )
    statement = parse_statement(payload)
    assert isinstance(statement, Dispatch)
    assert statement.quantity.value == value
    assert statement.quantity.unit == unit
    assert encode_statement(json.loads(payload, parse_float=Decimal)) == payload


def test_deep_values_are_encoded_and_refused_without_recursion():
    deep: list[Any] = []
    inner = deep
    for _ in range(100_000):
        inner.append([])
        inner = inner[0]
    assert encode_statement({"x": deep}) == b'{"x":' + b"[" * 100_001 + b"]" * 100_001 + b"}"
    body = copy.deepcopy(GOOD["evidence"])
    body["claims"] = {"nested": deep}
    with pytest.raises(StatementError) as info:
        parse_statement(encode(body))  # too deep for the strict reader
    assert info.value.code in ("invalid_statement.bad_json", "invalid_statement.too_large")
    shallow: Any = 1
    for _ in range(40):
        shallow = [shallow]
    body["claims"] = {"nested": shallow}
    with pytest.raises(StatementError) as info:
        parse_statement(encode(body))
    assert info.value.code == "invalid_statement.bad_value"
    assert info.value.field == "claims.nested" + "[0]" * 32
