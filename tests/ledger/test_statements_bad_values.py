"""A table of malformed statements (SPEC §3), part 2: countries, JSON level, ids and
digests, parties and keys, transform structure, evidence and import."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from ledger.errors import StatementError
from ledger.statements import (
    Transform,
    parse_statement,
)
from tests.ledger.statement_samples import (
    BIG,
    GOOD,
    HEX,
    KEY_A,
    encode,
    mutated,
    raw,
)

BAD: list[tuple[str, bytes, str, str | None]] = [
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


def test_an_output_that_is_also_an_input_parses():
    """Well-formed: the custody rules refuse it (``rejected.self_transform``, see
    ``tests/ledger/test_custody_rules.py``), not the parser."""
    stmt = parse_statement(mutated("transform", (("outputs", 0, "id"), "farm/seed-1")))
    assert isinstance(stmt, Transform)
    assert stmt.outputs[0].id == stmt.inputs[0].lot == "farm/seed-1"
