"""``--json`` text (:mod:`cli.jsontext`) is byte for byte what ``json.dumps(obj,
indent=2, default=str)`` writes: on arbitrary trees of every value JSON and the
commands' reports hold (non-ASCII and control characters, NaN and infinities,
keys that are numbers, booleans or null, Decimals and dates through ``default``,
str and int subclasses), nested under an outer indent too."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.jsontext import dumps_indented


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.just(datetime(2026, 3, 1, 10, tzinfo=UTC))
    | st.just(Colour.RED)
    | st.just(Level.HIGH)
)
_KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_TREES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_TREES)
def test_the_text_of_json_dumps(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, default=str)


@given(_TREES)
def test_nested_under_an_outer_indent(value: Any) -> None:
    expected = json.dumps(value, indent=2, default=str).replace("\n", "\n  ")
    assert dumps_indented(value, level="  ") == expected


def test_keys_json_cannot_write_are_refused_as_json_refuses_them() -> None:
    with pytest.raises(TypeError):
        json.dumps({(1, 2): 1}, indent=2)
    with pytest.raises(TypeError, match="keys must be"):
        dumps_indented({(1, 2): 1})
