"""The fast paths of the strict readers refuse and accept exactly what the slow ones do.

``strictjson.loads`` skips the walk of the tree when the text has too few brackets
to be nested too deep; an envelope's base64 is decoded in strict standard mode
first and falls back to the full check (URL-safe alphabet, canonical form); a
statement time without a fraction is read by the C parser once the pattern matched.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from ledger.envelope import envelope_from_obj, parse_envelope, sign_envelope
from ledger.errors import EnvelopeError, StatementError
from ledger.keys import PrivateKey
from ledger.statements import parse_time
from ledger.strictjson import MAX_DEPTH, JsonError, loads


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH])
def test_values_up_to_the_limit_parse_whatever_brackets_their_strings_hold(depth: int) -> None:
    text = _nested(depth)[:-1] + ',"b":"' + "[{" * MAX_DEPTH + '"}'
    assert loads(text)["b"] == "[{" * MAX_DEPTH


def test_one_level_too_deep_is_refused_with_brackets_in_strings_too() -> None:
    for text in (_nested(MAX_DEPTH + 1), _nested(MAX_DEPTH + 1)[:-1] + ',"b":"]]"}'):
        with pytest.raises(JsonError) as e:
            loads(text)
        assert e.value.reason == "depth"


def test_a_shallow_text_is_still_checked_for_duplicates_and_the_first_repeat_is_named() -> None:
    with pytest.raises(JsonError) as e:
        loads('{"a":1,"b":2,"b":3,"a":4}')
    assert (e.value.reason, e.value.message) == ("duplicate_key", "duplicate key 'b'")
    with pytest.raises(JsonError):
        loads('[{"x":{"y":1,"y":1}}]')
    assert loads('{"a":{"a":1},"b":[{"a":2}]}') == {"a": {"a": 1}, "b": [{"a": 2}]}


@pytest.fixture
def signed() -> dict[str, object]:
    obj: dict[str, object] = sign_envelope(b'{"k":"v"}', [PrivateKey.generate()]).to_json_obj()
    return obj


def test_standard_and_url_safe_base64_give_the_same_envelope(signed: dict[str, object]) -> None:
    standard = envelope_from_obj(signed)
    payload = base64.urlsafe_b64encode(standard.payload).decode()
    foreign = dict(signed, payload=payload)
    assert envelope_from_obj(foreign).payload == standard.payload == b'{"k":"v"}'
    assert envelope_from_obj(signed, stored=True) == standard


@pytest.mark.parametrize(
    "payload",
    [
        "YWI",  # b"ab" without its padding
        "YWI\u00e9",  # not ASCII
        "YW I=",  # a space
        "+-==",  # two alphabets
    ],
)
def test_bad_base64_is_refused_as_before(signed: dict[str, object], payload: str) -> None:
    with pytest.raises(EnvelopeError) as e:
        parse_envelope(json.dumps(dict(signed, payload=payload)))
    assert e.value.code == "invalid_envelope.base64"


def test_a_stored_envelope_must_be_canonical(signed: dict[str, object]) -> None:
    # "eQ==" is b"y"; "eR==" decodes to the same byte with non-zero padding bits
    assert envelope_from_obj(dict(signed, payload="eR==")).payload == b"y"
    for payload in ("eR==", base64.urlsafe_b64encode(b"\xfb\xff").decode()):
        with pytest.raises(EnvelopeError) as e:
            envelope_from_obj(dict(signed, payload=payload), stored=True)
        assert e.value.code == "invalid_envelope.base64"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("2026-03-01T10:00:00.5Z", datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T10:00:00.1234567Z", datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_statement_times_parse_to_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T10:00:00Z",
        "2026-03-01T10:00:60Z",
        "2026-03-01T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-03-01t10:00:00Z",
        "2026-03-01T10:00:00+00:00",
        "2026-03-01 10:00:00Z",
        "20260301T100000Z",
    ],
)
def test_impossible_or_foreign_times_are_refused(text: str) -> None:
    with pytest.raises(StatementError) as e:
        parse_time(text)
    assert e.value.code == "invalid_statement.bad_time"
