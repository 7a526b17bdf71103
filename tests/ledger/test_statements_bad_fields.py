"""A table of malformed statements (SPEC §3), part 1: quantities, units, times,
common fields, missing and unknown fields; and the size limit."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from ledger.errors import StatementError
from ledger.statements import (
    MAX_PAYLOAD_BYTES,
    parse_header,
    parse_statement,
)
from tests.ledger.statement_samples import (
    DELETE,
    GOOD,
    REQUIRED,
    encode,
    missing,
    mutated,
    raw,
)

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
    # digits are ASCII digits: other scripts' digits are not (int() would read them)
    (
        "time-full-width-digits",
        mutated("key", (("time",), "\uff12026-03-01T10:00:00.5Z")),
        "bad_time",
        "time",
    ),
    (
        "time-arabic-indic-digits",
        mutated("key", (("time",), "2026-03-01T10:00:\u0660\u0660Z")),
        "bad_time",
        "time",
    ),
    ("hts-full-width-digits", mutated("import", (("hts",), "\uff16109.10")), "bad_value", "hts"),
    (
        "duns-full-width-digits",
        mutated("party", (("party", "identifiers", "duns"), "12345678\uff19")),
        "bad_value",
        "party.identifiers.duns",
    ),
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
