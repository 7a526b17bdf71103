"""The strict JSON reader refuses what other parsers disagree on, and deep input cleanly."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.strictjson import MAX_DEPTH, JsonError, depth_of, loads


def test_plain_values_parse() -> None:
    assert loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert loads('{"q": 1.10}', decimals=True) == {"q": Decimal("1.10")}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff{}", "encoding"),
        ("\ufeff{}".encode(), "encoding"),
        (b'{"a": 1', "syntax"),
        (b'{"a": 1} x', "syntax"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'{"a": NaN}', "constant"),
        (b"[Infinity]", "constant"),
        (b"[" * 100_000 + b"]" * 100_000, "depth"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "depth"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "depth"),
    ],
)
def test_refusals(raw: bytes, reason: str) -> None:
    with pytest.raises(JsonError) as info:
        loads(raw)
    assert info.value.reason == reason


def test_depth_limit_is_inclusive() -> None:
    ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert depth_of(loads(ok)) == MAX_DEPTH


@given(st.binary(max_size=200))
def test_only_json_errors(raw: bytes) -> None:
    with contextlib.suppress(JsonError):
        loads(raw)
