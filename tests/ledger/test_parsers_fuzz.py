"""Fuzzing the envelope and statement parsers (issue 10): arbitrary bytes, arbitrary
JSON, and mutated genuine envelopes and statements may raise only custody's own
errors (``ledger.errors.CustodyError``), never anything else."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.envelope import envelope_from_obj, parse_envelope, parse_envelopes, sign_envelope
from ledger.errors import CustodyError, EnvelopeError, StatementError
from ledger.keys import PrivateKey
from ledger.statements import parse_header, parse_statement
from tests.ledger.statement_samples import GOOD, encode

KEY = PrivateKey.generate()
GENUINE = {kind: sign_envelope(encode(obj), [KEY]) for kind, obj in GOOD.items()}
GENUINE_TEXT = {kind: env.to_json() for kind, env in GENUINE.items()}
LOOKUP = {KEY.kid: KEY.public_key}.get

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda d: float(d) if isinstance(d, Decimal) else str(d))


def _only_custody_errors(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except CustodyError:
        return None


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (position, delete-count, insert) edits, positions taken modulo the length."""
    out = bytearray(data)
    for position, delete, insert in edits:
        at = position % (len(out) + 1)
        out[at : at + delete] = insert
    return bytes(out)


edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=3),
        st.binary(max_size=4)
        | st.sampled_from(
            [
                b'"',
                b"{",
                b"[",
                b"]",
                b"}",
                b",",
                b":",
                b"=",
                b"-",
                b"_",
                b"\\u0000",
                b"NaN",
                b"1e999999",
            ]
        ),
    ),
    min_size=1,
    max_size=4,
)


def _whole_envelope(data: bytes) -> None:
    env = _only_custody_errors(parse_envelope, data)
    if env is not None:
        _only_custody_errors(env.verify_with, LOOKUP)
        _only_custody_errors(parse_statement, env.payload)
    text = data.decode("utf-8", errors="replace")
    for item in _only_custody_errors(parse_envelopes, text) or []:
        assert isinstance(item, CustodyError) or item.payload is not None


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    _whole_envelope(data)
    _only_custody_errors(parse_statement, data)
    _only_custody_errors(parse_header, data)


@FUZZ
@given(json_values)
def test_arbitrary_json_values(value: Any) -> None:
    text = _dumps(value)
    _whole_envelope(text.encode())
    for stored in (False, True):
        _only_custody_errors(envelope_from_obj, value, stored=stored)
    _only_custody_errors(parse_statement, text.encode())


@FUZZ
@given(st.sampled_from(sorted(GENUINE_TEXT)), edits)
def test_mutated_genuine_envelopes(kind: str, changes: list[tuple[int, int, bytes]]) -> None:
    _whole_envelope(_mutate(GENUINE_TEXT[kind].encode(), changes))


@FUZZ
@given(
    st.sampled_from(sorted(GENUINE)),
    st.sampled_from(["payload", "payloadType", "signatures", "keyid", "sig", "extra"]),
    json_values,
)
def test_genuine_envelopes_with_a_field_replaced(kind: str, where: str, value: Any) -> None:
    obj = GENUINE[kind].to_json_obj()
    if where in ("keyid", "sig"):
        obj["signatures"][0][where] = value
    else:
        obj[where] = value
    for stored in (False, True):
        env = _only_custody_errors(envelope_from_obj, obj, stored=stored)
        if env is not None:
            _only_custody_errors(env.verify_with, LOOKUP)
    _whole_envelope(_dumps(obj).encode())


@FUZZ
@given(st.sampled_from(sorted(GOOD)), edits)
def test_mutated_genuine_statements(kind: str, changes: list[tuple[int, int, bytes]]) -> None:
    payload = _mutate(encode(GOOD[kind]), changes)
    _only_custody_errors(parse_statement, payload)
    _only_custody_errors(parse_header, payload)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    stack = [(value, prefix)]
    while stack:
        node, path = stack.pop()
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in children:
            out.append((*path, key))
            stack.append((child, (*path, key)))
    return out


@FUZZ
@given(st.sampled_from(sorted(GOOD)), st.data(), json_values)
def test_genuine_statements_with_a_value_replaced(
    kind: str, data: st.DataObject, value: Any
) -> None:
    obj = json.loads(encode(GOOD[kind]), parse_float=Decimal)
    path = data.draw(st.sampled_from(_paths(obj)[1:]))
    target = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _only_custody_errors(parse_statement, _dumps(obj).encode())


def test_deep_nesting_is_a_clean_error_of_each_parser() -> None:
    for depth in (100, 30_000, 100_000):
        for deep in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
            with pytest.raises(EnvelopeError) as info:
                parse_envelope(deep)
            assert info.value.code in ("invalid_envelope.json", "invalid_envelope.size")
            (item,) = parse_envelopes(deep.decode())
            assert isinstance(item, EnvelopeError)
            with pytest.raises(StatementError) as bad:
                parse_statement(deep)
            assert bad.value.code in ("invalid_statement.bad_json", "invalid_statement.too_large")
    # unknown fields are ignored, but still read by the strict reader within its depth limit
    obj = GENUINE["evidence"].to_json_obj()
    obj["extra"] = json.loads("[" * 60 + "]" * 60)
    assert parse_envelope(json.dumps(obj)) == GENUINE["evidence"]
    obj["extra"] = json.loads("[" * 70 + "]" * 70)
    with pytest.raises(EnvelopeError):
        parse_envelope(json.dumps(obj))
