"""Statement parsing (SPEC §3): good statements of every type, a table of bad ones."""

from __future__ import annotations

import base64
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
    MAX_PAYLOAD_BYTES,
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

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
DIGEST = "sha256:" + "ab" * 32
HEX = "cd" * 32


def common(kind: str, issuer: str = "gin.example") -> dict[str, Any]:
    return {
        "spec": "custody/1",
        "type": kind,
        "id": f"{issuer}/{kind}-1",
        "issuer": issuer,
        "time": "2026-03-01T10:00:00Z",
    }


GOOD: dict[str, dict[str, Any]] = {
    "party": {
        **common("party", "operator.example"),
        "party": {
            "id": "gin.example",
            "name": "Example Gin Co.",
            "country": "UZ",
            "subdivision": "UZ-BU",
            "address": "1 Cotton Road, Bukhara",
            "roles": ["supplier"],
            "identifiers": {"lei": "5493001KJTIIGC8Y1R12", "duns": "123456789"},
        },
        "keys": [KEY_A, KEY_B],
    },
    "key": {**common("key"), "party": "gin.example", "public_key": KEY_B},
    "revoke": {
        **common("revoke"),
        "party": "gin.example",
        "public_key": KEY_A,
        "reason": "compromised",
        "effective": "2026-02-28T00:00:00.5Z",
    },
    "origin": {
        **common("origin", "farm.example"),
        "lot": {"id": "farm/seed-1", "material": "cotton.seed", "quantity": 12000, "unit": "kg"},
        "site": {
            "name": "North field",
            "country": "UZ",
            "subdivision": "UZ-BU",
            "lat": Decimal("39.77"),
            "lon": Decimal("64.42"),
        },
    },
    "transform": {
        **common("transform"),
        "process": "ginning",
        "inputs": [{"lot": "farm/seed-1", "quantity": 12000, "unit": "kg"}],
        "external_inputs": [
            {
                "material": "packaging.bale_wrap",
                "quantity": 40,
                "unit": "pcs",
                "supplier": "Wraps Ltd",
                "country": "CN",
                "subdivision": "CN-JS",
                "mass_kg": Decimal("12.5"),
            }
        ],
        "outputs": [
            {"id": "gin/lint-1", "material": "cotton.lint", "quantity": 4200, "unit": "kg"},
            {
                "id": "gin/seed-1",
                "material": "cotton.seed",
                "quantity": Decimal("7.5"),
                "unit": "t",
                "mass_kg": 7500,
            },
        ],
        "site": {"name": "Gin 1", "country": "UZ"},
    },
    "dispatch": {
        **common("dispatch"),
        "lot": "gin/lint-1",
        "quantity": Decimal("4200.25"),
        "unit": "kg",
        "to": "spinner.example",
        "documents": [{"sha256": HEX, "kind": "bill_of_lading", "name": "BL-1.pdf"}],
    },
    "receipt": {
        **common("receipt", "spinner.example"),
        "dispatch": DIGEST,
        "quantity": Decimal("9259.7"),
        "unit": "lb",
    },
    "evidence": {
        **common("evidence", "lab.example"),
        "lots": ["gin/lint-1", "farm/seed-1"],
        "kind": "isotope_test",
        "document": {
            "sha256": HEX,
            "name": "report.pdf",
            "media_type": "application/pdf",
            "size": 1024,
        },
        "claims": {"origin_consistent_with": ["UZ"], "confidence": Decimal("0.95")},
    },
    "import": {
        **common("import", "importer.example"),
        "lot": "factory/shirts-1",
        "quantity": 5000,
        "unit": "pcs",
        "entry_number": "ABC-1234567-8",
        "hts": "6109.10.0012",
        "port": "2704",
        "country_of_origin": "BD",
    },
}


def encode(obj: dict[str, Any]) -> bytes:
    return encode_statement(obj)


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


# -- bad statements ----------------------------------------------------------------------

DELETE = object()


def mutated(kind: str, *changes: tuple[tuple[Any, ...], Any]) -> bytes:
    obj = copy.deepcopy(GOOD[kind])
    for path, value in changes:
        target: Any = obj
        for step in path[:-1]:
            target = target[step]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return encode(obj)


def raw(kind: str, old: str, new: str) -> bytes:
    text = encode(GOOD[kind]).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def missing(kind: str, *path: Any) -> tuple[bytes, str, str | None]:
    field = ".".join(str(p) for p in path).replace(".0", "[0]").replace(".1", "[1]")
    return mutated(kind, (path, DELETE)), "missing_field", field


REQUIRED = {
    "party": ["party", "keys"],
    "key": ["party", "public_key"],
    "revoke": ["party", "public_key", "reason"],
    "origin": ["lot", "site"],
    "transform": ["process", "inputs", "outputs", "site"],
    "dispatch": ["lot", "quantity", "unit", "to"],
    "receipt": ["dispatch", "quantity", "unit"],
    "evidence": ["lots", "kind", "document"],
    "import": ["lot", "quantity", "unit", "entry_number"],
}

BIG = encode(GOOD["key"])[:-1] + b',"pad":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}'

BAD: list[tuple[str, bytes, str, str | None]] = [
    # quantities
    ("negative-quantity", mutated("dispatch", (("quantity",), -5)), "bad_quantity", "quantity"),
    ("zero-quantity", mutated("dispatch", (("quantity",), 0)), "bad_quantity", "quantity"),
    (
        "zero-decimal-quantity",
        mutated("dispatch", (("quantity",), Decimal("0.000"))),
        "bad_quantity",
        "quantity",
    ),
    ("string-quantity", mutated("dispatch", (("quantity",), "12")), "bad_quantity", "quantity"),
    ("bool-quantity", mutated("dispatch", (("quantity",), True)), "bad_quantity", "quantity"),
    ("null-quantity", mutated("dispatch", (("quantity",), None)), "bad_quantity", "quantity"),
    (
        "input-string-quantity",
        mutated("transform", (("inputs", 0, "quantity"), "12")),
        "bad_quantity",
        "inputs[0].quantity",
    ),
    (
        "output-negative-quantity",
        mutated("transform", (("outputs", 1, "quantity"), Decimal("-1.5"))),
        "bad_quantity",
        "outputs[1].quantity",
    ),
    (
        "origin-zero-quantity",
        mutated("origin", (("lot", "quantity"), 0)),
        "bad_quantity",
        "lot.quantity",
    ),
    ("huge-quantity", mutated("dispatch", (("quantity",), 10**15)), "bad_quantity", "quantity"),
    (
        "too-many-decimals",
        mutated("dispatch", (("quantity",), Decimal("1e-19"))),
        "bad_quantity",
        "quantity",
    ),
    (
        "zero-mass-kg",
        mutated("transform", (("outputs", 1, "mass_kg"), 0)),
        "bad_quantity",
        "outputs[1].mass_kg",
    ),
    (
        "contradictory-mass-kg",
        mutated("transform", (("outputs", 1, "mass_kg"), 7000)),
        "bad_quantity",
        "outputs[1].mass_kg",
    ),
    (
        "many-decimals-many-digits",
        raw("dispatch", "4200.25", "1.0000000000000000000000000000001"),
        "bad_quantity",
        "quantity",
    ),
    (
        "exponent-out-of-range",
        raw("dispatch", "4200.25", "1e-99999999999999999999"),
        "bad_json",
        None,
    ),
    ("nan-quantity", raw("dispatch", "4200.25", "NaN"), "bad_json", None),
    ("infinity-quantity", raw("dispatch", "4200.25", "Infinity"), "bad_json", None),
    # units
    ("unknown-unit", mutated("dispatch", (("unit",), "oz")), "unknown_unit", "unit"),
    ("upper-case-unit", mutated("receipt", (("unit",), "KG")), "unknown_unit", "unit"),
    (
        "input-unknown-unit",
        mutated("transform", (("inputs", 0, "unit"), "bales")),
        "unknown_unit",
        "inputs[0].unit",
    ),
    ("unit-not-string", mutated("dispatch", (("unit",), 1)), "wrong_type", "unit"),
    # times
    ("time-without-z", mutated("key", (("time",), "2026-03-01T10:00:00")), "bad_time", "time"),
    ("time-not-a-date", mutated("key", (("time",), "yesterday")), "bad_time", "time"),
    ("time-offset", mutated("key", (("time",), "2026-03-01T10:00:00+01:00")), "bad_time", "time"),
    ("time-bad-day", mutated("key", (("time",), "2026-02-30T10:00:00Z")), "bad_time", "time"),
    ("time-lower-z", mutated("key", (("time",), "2026-03-01T10:00:00z")), "bad_time", "time"),
    ("time-date-only", mutated("key", (("time",), "2026-03-01")), "bad_time", "time"),
    ("time-number", mutated("key", (("time",), 1772359200)), "wrong_type", "time"),
    ("bad-effective", mutated("revoke", (("effective",), "soon")), "bad_time", "effective"),
    # common fields
    ("missing-spec", mutated("key", (("spec",), DELETE)), "missing_field", "spec"),
    ("missing-type", mutated("key", (("type",), DELETE)), "missing_field", "type"),
    ("missing-id", mutated("key", (("id",), DELETE)), "missing_field", "id"),
    ("missing-issuer", mutated("key", (("issuer",), DELETE)), "missing_field", "issuer"),
    ("missing-time", mutated("key", (("time",), DELETE)), "missing_field", "time"),
    ("wrong-spec", mutated("key", (("spec",), "custody/2")), "bad_spec", "spec"),
    ("unknown-type", mutated("key", (("type",), "transfer")), "unknown_type", "type"),
    ("type-not-string", mutated("key", (("type",), 3)), "wrong_type", "type"),
    ("bad-statement-id", mutated("key", (("id",), "has space")), "bad_id", "id"),
    ("long-statement-id", mutated("key", (("id",), "x" * 129)), "bad_id", "id"),
    ("bad-issuer", mutated("key", (("issuer",), "Gin Example")), "bad_party_id", "issuer"),
    ("short-issuer", mutated("key", (("issuer",), "g")), "bad_party_id", "issuer"),
    ("issuer-trailing-newline", mutated("key", (("issuer",), "gin\n")), "bad_party_id", "issuer"),
    # missing type-specific fields, every type
    *[
        (f"missing-{kind}-{name}", *missing(kind, name))
        for kind, names in REQUIRED.items()
        for name in names
    ],
    ("missing-party-id", *missing("party", "party", "id")),
    ("missing-party-roles", *missing("party", "party", "roles")),
    ("missing-lot-material", *missing("origin", "lot", "material")),
    ("missing-site-country", *missing("origin", "site", "country")),
    ("missing-input-unit", *missing("transform", "inputs", 0, "unit")),
    ("missing-external-country", *missing("transform", "external_inputs", 0, "country")),
    ("missing-output-id", *missing("transform", "outputs", 1, "id")),
    ("missing-document-size", *missing("evidence", "document", "size")),
    ("missing-documents-kind", *missing("dispatch", "documents", 0, "kind")),
    # extra fields (strict schemas)
    ("extra-field", mutated("key", (("note",), "hi")), "unknown_field", "note"),
    (
        "extra-site-field",
        mutated("origin", (("site", "altitude"), 100)),
        "unknown_field",
        "site.altitude",
    ),
    (
        "extra-input-field",
        mutated("transform", (("inputs", 0, "grade"), "A")),
        "unknown_field",
        "inputs[0].grade",
    ),
    (
        "unknown-identifier",
        mutated("party", (("party", "identifiers", "vat"), "X")),
        "unknown_field",
        "party.identifiers.vat",
    ),
    (
        "effective-on-key",
        mutated("key", (("effective",), "2026-03-01T10:00:00Z")),
        "unknown_field",
        "effective",
    ),
    # subdivisions and countries
    (
        "subdivision-no-country",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "XJ")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "subdivision-empty-part",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "CN-")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "subdivision-other-country",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "US-XJ")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "subdivision-of-other-country",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "US-CA")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "subdivision-unknown",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "CN-ZZ")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "subdivision-lower-case",
        mutated("origin", (("site", "country"), "CN"), (("site", "subdivision"), "cn-xj")),
        "bad_subdivision",
        "site.subdivision",
    ),
    (
        "external-subdivision-mismatch",
        mutated("transform", (("external_inputs", 0, "subdivision"), "UZ-BU")),
        "bad_subdivision",
        "external_inputs[0].subdivision",
    ),
    (
        "party-subdivision-mismatch",
        mutated("party", (("party", "subdivision"), "CN-XJ")),
        "bad_subdivision",
        "party.subdivision",
    ),
    ("bad-country", mutated("origin", (("site", "country"), "XX")), "bad_country", "site.country"),
    (
        "alpha-3-country",
        mutated("origin", (("site", "country"), "CHN")),
        "bad_country",
        "site.country",
    ),
    (
        "lower-case-country",
        mutated("party", (("party", "country"), "uz")),
        "bad_country",
        "party.country",
    ),
    (
        "bad-country-of-origin",
        mutated("import", (("country_of_origin",), "ZZ")),
        "bad_country",
        "country_of_origin",
    ),
    (
        "bad-external-country",
        mutated("transform", (("external_inputs", 0, "country"), "Q1")),
        "bad_country",
        "external_inputs[0].country",
    ),
    (
        "latitude-out-of-range",
        mutated("origin", (("site", "lat"), 91)),
        "bad_coordinate",
        "site.lat",
    ),
    (
        "longitude-out-of-range",
        mutated("origin", (("site", "lon"), Decimal("-180.5"))),
        "bad_coordinate",
        "site.lon",
    ),
    ("latitude-string", mutated("origin", (("site", "lat"), "39")), "wrong_type", "site.lat"),
    # JSON level
    (
        "duplicate-key",
        raw("key", '"party":"gin.example"', '"party":"gin.example","party":"x"'),
        "duplicate_key",
        "party",
    ),
    (
        "nested-duplicate-key",
        raw("origin", '"unit":"kg"', '"unit":"kg","unit":"t"'),
        "duplicate_key",
        "lot.unit",
    ),
    (
        "duplicate-in-list",
        raw("transform", '"unit":"kg"}]', '"unit":"kg","lot":"x"}]'),
        "duplicate_key",
        "inputs[0].lot",
    ),
    ("oversize", BIG, "too_large", None),
    ("bad-json", b'{"spec":"custody/1",', "bad_json", None),
    ("trailing-garbage", encode(GOOD["key"]) + b"x", "bad_json", None),
    ("not-an-object", b'["custody/1"]', "bad_json", None),
    ("empty", b"", "bad_json", None),
    ("deep-nesting", b"[" * 30000 + b"]" * 30000, "bad_json", None),
    ("deeply-nested-object", b'{"a":' * 5000 + b"1" + b"}" * 5000, "bad_json", None),
    ("non-utf8", encode(GOOD["key"]).replace(b"key-1", b"key-\xff"), "bad_encoding", None),
    ("utf8-bom", b"\xef\xbb\xbf" + encode(GOOD["key"]), "bad_json", None),
    # ids and digests
    ("bad-lot-id", mutated("dispatch", (("lot",), "gin lint 1")), "bad_lot_id", "lot"),
    ("long-lot-id", mutated("dispatch", (("lot",), "x" * 201)), "bad_lot_id", "lot"),
    (
        "bad-input-lot",
        mutated("transform", (("inputs", 0, "lot"), "")),
        "bad_lot_id",
        "inputs[0].lot",
    ),
    (
        "bad-output-id",
        mutated("transform", (("outputs", 0, "id"), "lint#1")),
        "bad_lot_id",
        "outputs[0].id",
    ),
    ("bad-evidence-lot", mutated("evidence", (("lots", 1), "a b")), "bad_lot_id", "lots[1]"),
    (
        "bad-digest-prefix",
        mutated("receipt", (("dispatch",), "sha512:" + "ab" * 32)),
        "bad_digest",
        "dispatch",
    ),
    (
        "bad-digest-upper",
        mutated("receipt", (("dispatch",), "sha256:" + "AB" * 32)),
        "bad_digest",
        "dispatch",
    ),
    (
        "bad-digest-short",
        mutated("receipt", (("dispatch",), "sha256:abc")),
        "bad_digest",
        "dispatch",
    ),
    (
        "bad-document-hash",
        mutated("dispatch", (("documents", 0, "sha256"), "sha256:" + HEX)),
        "bad_digest",
        "documents[0].sha256",
    ),
    (
        "bad-evidence-hash",
        mutated("evidence", (("document", "sha256"), "xyz")),
        "bad_digest",
        "document.sha256",
    ),
    # parties, keys, roles
    ("bad-to", mutated("dispatch", (("to",), "Spinner")), "bad_party_id", "to"),
    ("dispatch-to-self", mutated("dispatch", (("to",), "gin.example")), "bad_value", "to"),
    ("bad-party-id", mutated("party", (("party", "id"), "-gin")), "bad_party_id", "party.id"),
    ("bad-key-party", mutated("key", (("party",), "GIN")), "bad_party_id", "party"),
    (
        "short-public-key",
        mutated("key", (("public_key",), base64.b64encode(b"x" * 31).decode())),
        "bad_public_key",
        "public_key",
    ),
    (
        "urlsafe-public-key",
        mutated("key", (("public_key",), base64.urlsafe_b64encode(b"\xff" * 32).decode())),
        "bad_public_key",
        "public_key",
    ),
    (
        "non-canonical-public-key",
        mutated("key", (("public_key",), KEY_A[:-2] + "9=")),
        "bad_public_key",
        "public_key",
    ),
    ("bad-party-key", mutated("party", (("keys", 1), "abc")), "bad_public_key", "keys[1]"),
    ("no-keys", mutated("party", (("keys",), [])), "empty_list", "keys"),
    ("repeated-key", mutated("party", (("keys", 1), KEY_A)), "duplicate_value", "keys[1]"),
    (
        "unknown-role",
        mutated("party", (("party", "roles"), ["supplier", "broker"])),
        "unknown_role",
        "party.roles[1]",
    ),
    ("no-roles", mutated("party", (("party", "roles"), [])), "empty_list", "party.roles"),
    (
        "repeated-role",
        mutated("party", (("party", "roles"), ["lab", "lab"])),
        "duplicate_value",
        "party.roles[1]",
    ),
    (
        "bad-lei",
        mutated("party", (("party", "identifiers", "lei"), "123")),
        "bad_value",
        "party.identifiers.lei",
    ),
    ("blank-name", mutated("party", (("party", "name"), "  ")), "bad_value", "party.name"),
    ("control-char-name", mutated("origin", (("site", "name"), "a\nb")), "bad_value", "site.name"),
    ("bad-reason", mutated("revoke", (("reason",), "lost")), "bad_reason", "reason"),
    # transform structure
    (
        "bad-material",
        mutated("origin", (("lot", "material"), "Cotton Seed")),
        "bad_material",
        "lot.material",
    ),
    (
        "bad-output-material",
        mutated("transform", (("outputs", 0, "material"), "cotton..lint")),
        "bad_material",
        "outputs[0].material",
    ),
    ("bad-process", mutated("transform", (("process",), "Ginning!")), "bad_value", "process"),
    ("no-outputs", mutated("transform", (("outputs",), [])), "empty_list", "outputs"),
    (
        "no-inputs-at-all",
        mutated("transform", (("inputs",), []), (("external_inputs",), [])),
        "empty_list",
        "inputs",
    ),
    (
        "repeated-output",
        mutated("transform", (("outputs", 1, "id"), "gin/lint-1")),
        "duplicate_value",
        "outputs[1]",
    ),
    (
        "output-is-input",
        mutated("transform", (("outputs", 0, "id"), "farm/seed-1")),
        "duplicate_value",
        "outputs[0].id",
    ),
    ("inputs-not-list", mutated("transform", (("inputs",), {"lot": "x"})), "wrong_type", "inputs"),
    (
        "input-not-object",
        mutated("transform", (("inputs", 0), "farm/seed-1")),
        "wrong_type",
        "inputs[0]",
    ),
    ("site-not-object", mutated("transform", (("site",), "Gin 1")), "wrong_type", "site"),
    # evidence and import
    ("no-evidence-lots", mutated("evidence", (("lots",), [])), "empty_list", "lots"),
    (
        "negative-size",
        mutated("evidence", (("document", "size"), -1)),
        "bad_value",
        "document.size",
    ),
    (
        "fractional-size",
        mutated("evidence", (("document", "size"), Decimal("1.5"))),
        "wrong_type",
        "document.size",
    ),
    (
        "bad-media-type",
        mutated("evidence", (("document", "media_type"), "pdf")),
        "bad_value",
        "document.media_type",
    ),
    ("claims-not-object", mutated("evidence", (("claims",), [1])), "wrong_type", "claims"),
    (
        "bad-document-kind",
        mutated("dispatch", (("documents", 0, "kind"), "Bill of lading")),
        "bad_value",
        "documents[0].kind",
    ),
    (
        "bad-entry-number",
        mutated("import", (("entry_number",), "ABC 123")),
        "bad_value",
        "entry_number",
    ),
    ("bad-hts", mutated("import", (("hts",), "61")), "bad_value", "hts"),
]


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_statement(payload, code, field):
    with pytest.raises(StatementError) as info:
        parse_statement(payload)
    error = info.value
    assert error.code == f"invalid_statement.{code}", error.message
    assert error.field == field, error.message
    if field is not None:
        assert error.message.startswith(f"{field}: ")
        assert error.details["field"] == field
    assert error.to_dict()["code"] == error.code


def test_bad_case_ids_are_unique():
    names = [case[0] for case in BAD]
    assert len(names) == len(set(names))


def test_message_quotes_the_offending_value():
    with pytest.raises(StatementError) as info:
        parse_statement(mutated("transform", (("inputs", 0, "quantity"), "12")))
    assert info.value.message == 'inputs[0].quantity: must be a number greater than 0, got "12"'


def test_header_checks_common_fields_only():
    payload = mutated("dispatch", (("quantity",), -1))
    assert parse_header(payload).type == "dispatch"
    with pytest.raises(StatementError) as info:
        parse_header(mutated("dispatch", (("time",), "2026-03-01")))
    assert info.value.code == "invalid_statement.bad_time"
    with pytest.raises(StatementError) as info:
        parse_header(raw("key", '"party":"gin.example"', '"party":"a","party":"b"'))
    assert info.value.code == "invalid_statement.duplicate_key"


def test_exactly_max_size_is_accepted():
    base = encode(GOOD["evidence"])
    pad = MAX_PAYLOAD_BYTES - len(base) - len(',"note":""')
    obj = copy.deepcopy(GOOD["evidence"])
    obj["claims"]["note"] = "x" * pad
    payload = encode(obj)
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert parse_statement(payload).payload == payload
    obj["claims"]["note"] += "x"
    with pytest.raises(StatementError) as info:
        parse_statement(encode(obj))
    assert info.value.code == "invalid_statement.too_large"
