"""The fast path of ``parse_statement`` gives what the full strict path gives.

Payloads in the encoders' form are read by one pattern per statement type
(``ledger.statements.fast``); anything else, and every error, goes through strict
JSON and the per-field validators. Here valid statements of every type, and
thousands of targeted and random edits of them, are parsed both ways: the same
model (equal, with the same ``repr``: the same Decimal exponents, units, times)
or the same error (type, code, field, message, details).
"""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import StatementError
from ledger.statements import encode_statement, parse_statement
from ledger.statements.decode import parse_statement_strict
from ledger.statements.fast import fast_statement
from tests.ledger.statement_samples import DIGEST, GOOD, HEX, KEY_A, KEY_B, common

Outcome = tuple[str, object, object, object, object]


def _outcome(parse: Any, payload: bytes) -> Outcome:
    try:
        statement = parse(payload)
    except StatementError as e:
        return ("error", e.code, e.field, e.message, e.details)
    return ("model", type(statement).__name__, repr(statement), statement.payload, statement)


def _same(payload: bytes) -> Outcome:
    fast = _outcome(parse_statement, payload)
    full = _outcome(parse_statement_strict, payload)
    assert fast == full, payload
    return fast


def _with(kind: str, **changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(GOOD[kind])
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


_SITE = {"name": "Gin 1", "country": "UZ"}
_TRANSFORM = _with("transform", external_inputs=None)
VALID: list[dict[str, Any]] = [
    _with("key"),
    _with("revoke"),
    _with("revoke", effective=None, reason="superseded"),
    _with("revoke", effective="2026-02-28T00:00:00Z", public_key=KEY_B),
    _with("origin"),
    _with("origin", site=_SITE, replaces=DIGEST),
    _with(
        "origin", site={"name": "Çiftlik · 北", "country": "TR", "lat": -1, "lon": Decimal("-0.0")}
    ),
    _with(
        "origin",
        lot={"id": "a:b/c.d-e_f", "material": "cotton", "quantity": Decimal("0.5"), "unit": "lb"},
        site={"name": "x", "country": "US", "subdivision": "US-TX", "lat": 90, "lon": -180},
    ),
    _TRANSFORM,
    dict(_TRANSFORM, replaces=DIGEST, time="2026-03-01T10:00:00.123456789Z"),
    dict(
        _TRANSFORM,
        inputs=[
            {"lot": "a", "quantity": 3, "unit": "t", "mass_kg": 3000},
            {"lot": "b", "quantity": Decimal("1.50"), "unit": "pcs", "mass_kg": Decimal("2.25")},
            {"lot": "c", "quantity": Decimal("999999999999999.999999999999999999"), "unit": "KGM"},
        ],
        site={"name": "Mill", "country": "CN", "subdivision": "CN-JS"},
    ),
    GOOD["transform"],  # external inputs: the full path only
    _with("dispatch"),
    _with("dispatch", documents=None, replaces=DIGEST),
    _with("dispatch", documents=[]),
    _with(
        "dispatch",
        documents=[
            {"sha256": HEX, "kind": "invoice", "name": "a"},
            {"sha256": "0" * 64, "kind": "packing.list_2", "name": " b "},
        ],
        quantity=7,
        unit="DZN",
    ),
    _with("receipt"),
    _with("receipt", replaces=DIGEST, quantity=Decimal("0.000000000000000001"), unit="g"),
    _with("import"),
    _with("import", hts=None, port=None, country_of_origin=None, replaces=DIGEST),
    _with("import", hts="6109", port="Los Angeles – LAX"),
    {**common("retract"), "statement": DIGEST, "reason": "entered twice"},
    _with("party"),  # the full path only
    _with("evidence"),  # the full path only
]
PAYLOADS = [encode_statement(obj) for obj in VALID]
FAST_TYPES = {"key", "revoke", "origin", "transform", "dispatch", "receipt", "import", "retract"}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_valid_statements_parse_alike_both_ways(payload: bytes) -> None:
    outcome = _same(payload)
    assert outcome[0] == "model"
    statement = outcome[4]
    covered = statement.type in FAST_TYPES and b"external_inputs" not in payload  # type: ignore[attr-defined]
    assert (fast_statement(payload) is not None) == covered


# edits of the text: each is applied at every place it fits, one at a time
EDITS = [
    ('"kg"', '"kgs"'),
    ('"kg"', '"KG"'),
    ('"kg"', "1"),
    ("12000", "0"),
    ("12000", "-12000"),
    ("12000", "12000.0"),
    ("12000", "1.2e4"),
    ("12000", "1E+4"),
    ("12000", "012000"),
    ("12000", "1000000000000000"),
    ("12000", "999999999999999"),
    ("12000", "0.0000000000000000001"),
    ("12000", "0.000"),
    ("12000", '"12000"'),
    ("12000", "true"),
    ("12000", "null"),
    ("12000", "NaN"),
    ("12000", "Infinity"),
    ("4200", "4200.00000000000000000000"),
    ('"UZ"', '"XX"'),
    ('"UZ"', '"uz"'),
    ('"UZ-BU"', '"US-TX"'),
    ('"UZ-BU"', '"UZ-XX"'),
    ('"US"', '"MX"'),
    ("39.77", "91"),
    ("64.42", "-180.0000001"),
    ("64.42", "-0"),
    ("64.42", "1e1"),
    ("T10:00:00Z", "T10:00:00+00:00"),
    ("T10:00:00Z", "t10:00:00Z"),
    ("T10:00:00Z", "T24:00:00Z"),
    ("T10:00:00Z", "T10:00:60Z"),
    ("T10:00:00Z", "T10:00:00.Z"),
    ("2026-03-01", "2026-02-30"),
    ("2026-03-01", "２026-03-01"),
    ('"spec":"custody/1"', '"spec":"custody/2"'),
    ('"type":"', '"type":"x'),
    ('"id":"', '"id":"\\u0041'),
    ('"id":"', '"id":" '),
    ('"issuer":"', '"issuer":"A'),
    ('"issuer":"', '"issuer":"-'),
    ('"lot":"', '"lot":"é'),
    ('"name":"', '"name":"\\t'),
    ('"name":"', '"name":"\x7f'),
    ('"name":"', '"name":" \\u00a0'),
    ('"reason":"', '"reason":" "," x":"'),
    ('"name":"Gin 1"', '"name":"   "'),
    ('"name":"a"', '"name":"\u3000"'),
    ('"reason":"entered twice"', '"reason":"\u2028"'),
    ('"port":"2704"', '"port":" "'),
    ('"to":"spinner.example"', '"to":"gin.example"'),
    ('"material":"', '"material":"Cotton'),
    ('"process":"', '"process":"."'),
    ("sha256:", "sha256:A"),
    ("sha256:", "sha512:"),
    ('"sha256":"', '"sha256":"g'),
    ('"mass_kg":7500', '"mass_kg":7501'),
    ('"mass_kg":3000', '"mass_kg":3000.000'),
    ('"mass_kg":', '"mass_kg":-'),
    ('"unit":"t"', '"unit":"pcs"'),
    ('"lot":"b"', '"lot":"a"'),
    ('"id":"gin/seed-1"', '"id":"gin/lint-1"'),
    ("[{", "[]"),
    ("[{", "[{},{"),
    ("}]", "},null]"),
    ('"inputs":[', '"inputs":[],"x":['),
    (KEY_A[:10], KEY_A[:10] + "="),
    (KEY_B[-2:], "B="),
    (KEY_B[-2:], "=="),
    ('"effective":"', '"effective":"x'),
    ('"reason":"compromised"', '"reason":"lost"'),
    ('"entry_number":"', '"entry_number":"-'),
    ('"hts":"6109', '"hts":"610'),
    ('"port":"', '"port":"\\n'),
    ('"replaces":"', '"replaces":"x'),
    ("{", '{"extra":1,'),
    ("{", "{ "),
    ("{", '{"id":"dup",'),
    (",", ", "),
    (",", " ,"),
    (",", ",,"),
    (":", " :"),
    (":", "::"),
    ('"', "'"),
    ('"', '\\"'),
    ("}", "}}"),
    ("}", ""),
]


def _apply_everywhere(payload: bytes, old: str, new: str) -> list[bytes]:
    text = payload.decode("utf-8")
    out = []
    start = text.find(old)
    while start >= 0:
        out.append((text[:start] + new + text[start + len(old) :]).encode("utf-8"))
        start = text.find(old, start + 1)
    return out


def test_targeted_edits_give_the_same_model_or_error() -> None:
    seen = accepted = 0
    for payload in PAYLOADS:
        for old, new in EDITS:
            for edited in _apply_everywhere(payload, old, new):
                seen += 1
                accepted += _same(edited)[0] == "model"
    assert seen > 500
    assert accepted > 50


# values put in place of every leaf of a valid statement, then encoded as the encoders do
_LEAVES: list[Any] = [
    "",
    " ",
    "\u3000",
    "a" * 1025,
    "a" * 201,
    "A",
    "a\x7f",
    "é",
    "sha256:" + "0" * 64,
    "2026-01-01T00:00:00Z",
    "US",
    "US-TX",
    "XX",
    "US-ZZ9",
    "kg",
    0,
    -1,
    7,
    Decimal("0.0"),
    Decimal("-0"),
    Decimal("1E+3"),
    Decimal("1e-19"),
    10**15,
    True,
    None,
    [],
    {},
]


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _leaf_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _leaf_paths(item, (*path, i))]
    return [path]


def test_every_leaf_replaced_gives_the_same_model_or_error() -> None:
    seen = accepted = 0
    for obj in VALID:
        for path in _leaf_paths(obj):
            for value in _LEAVES:
                edited = copy.deepcopy(obj)
                target = edited
                for step in path[:-1]:
                    target = target[step]
                target[path[-1]] = value
                seen += 1
                accepted += _same(encode_statement(edited))[0] == "model"
    assert seen > 3000
    assert accepted > 100


_ALPHABET = [*'"\\{}[],: .-_/0123456789eE+aAzZT\x00\x7f\u00e9\u2028', "null", "true"]


def _random_edit(rng: random.Random, payload: bytes) -> bytes:
    text = payload.decode("utf-8")
    at = rng.randrange(len(text))
    choice = rng.randrange(5)
    if choice == 0:  # replace one character
        return (text[:at] + rng.choice(_ALPHABET) + text[at + 1 :]).encode("utf-8")
    if choice == 1:  # insert one
        return (text[:at] + rng.choice(_ALPHABET) + text[at:]).encode("utf-8")
    if choice == 2:  # delete a few
        return (text[:at] + text[at + rng.randint(1, 3) :]).encode("utf-8")
    if choice == 3:  # repeat a slice (duplicate keys, repeated items)
        end = min(len(text), at + rng.randint(1, 60))
        return (text[:end] + text[at:end] + text[end:]).encode("utf-8")
    raw = bytearray(payload)  # one raw byte: broken UTF-8 too
    raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)


def test_random_edits_give_the_same_model_or_error() -> None:
    rng = random.Random(12)
    accepted = 0
    for payload in PAYLOADS:
        for _ in range(150):
            accepted += _same(_random_edit(rng, payload))[0] == "model"
    assert accepted > 100


def test_oversized_and_non_bytes_payloads_take_the_full_path() -> None:
    big = PAYLOADS[0][:-1] + b',"pad":"' + b"x" * 70000 + b'"}'
    assert fast_statement(big) is None
    _same(big)
    assert fast_statement(bytearray(PAYLOADS[0])) is None  # type: ignore[arg-type]
    assert parse_statement(bytearray(PAYLOADS[0])) == parse_statement(PAYLOADS[0])  # type: ignore[arg-type]
