"""The canonical-envelope fast path of ``parse_envelope`` gives what the full reader gives.

A JSON line in the form ``Envelope.to_json`` writes is read by one pattern; anything
else goes through strict JSON and ``envelope_from_obj``. Here envelopes, and many
edits of them, are parsed both ways: the same envelope or the same error.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from ledger import envelope as envelope_module
from ledger.envelope import Envelope, parse_envelope, sign_envelope
from ledger.errors import EnvelopeError
from ledger.keys import PrivateKey

Outcome = tuple[Any, ...]


def _outcome(data: bytes | str) -> Outcome:
    try:
        return ("envelope", parse_envelope(data))
    except EnvelopeError as e:
        return ("error", type(e), e.code, e.message, e.details)


def _full(data: bytes | str) -> Outcome:
    original = envelope_module._canonical
    envelope_module._canonical = lambda data: None  # type: ignore[assignment]
    try:
        return _outcome(data)
    finally:
        envelope_module._canonical = original


def _same(data: bytes | str) -> Outcome:
    fast = _outcome(data)
    assert fast == _full(data), data
    return fast


_KEYS = [PrivateKey.generate() for _ in range(3)]
ENVELOPES = [
    sign_envelope(b'{"spec":"custody/1"}', _KEYS[:1]),
    sign_envelope(b"", _KEYS[:2]),
    sign_envelope(b"x" * 1001, _KEYS),
    sign_envelope(bytes(range(256)), _KEYS[1:]),
]
LINES = [e.to_json() for e in ENVELOPES]


@pytest.mark.parametrize("index", range(len(ENVELOPES)))
def test_a_canonical_line_reads_alike_both_ways_as_text_and_bytes(index: int) -> None:
    line = LINES[index]
    assert envelope_module._canonical(line) == ENVELOPES[index]
    assert _same(line) == ("envelope", ENVELOPES[index])
    assert _same(line.encode()) == ("envelope", ENVELOPES[index])


EDITS = [
    ('"payload":"', '"payload":"='),
    ('"payload":"', '"payload":"-_'),
    ("==", "="),
    ("==", ""),
    ('"sig":"', '"sig":"A'),
    ('"keyid":"', '"keyid":"A'),
    ('"keyid":"', '"keyid":"'),
    ("+json", "+xml"),
    ("},{", "},"),
    ("},{", ","),
    ("}]", "},]"),
    ('"signatures":[', '"signatures":[],"x":['),
    ('"payload":', '"extra":1,"payload":'),
    ('"payload":', '"payload":"YQ==","payload":'),
    (",", ", "),
    ("{", "{ "),
    ('"sig"', '"sig2"'),
    ('"keyid":"', '"keyid":null,"k":"'),
]


def test_targeted_edits_give_the_same_envelope_or_error() -> None:
    seen = 0
    for line in LINES:
        for old, new in EDITS:
            start = line.find(old)
            while start >= 0:
                edited = line[:start] + new + line[start + len(old) :]
                _same(edited)
                _same(edited.encode("utf-8"))
                seen += 1
                start = line.find(old, start + 1)
    assert seen > 40


_ALPHABET = [*'"\\{}[],: =+/-_aAzZ09', "\u00e9", "null"]


def test_random_edits_give_the_same_envelope_or_error() -> None:
    rng = random.Random(4)
    accepted = 0
    for line in LINES:
        for _ in range(400):
            at = rng.randrange(len(line))
            choice = rng.randrange(4)
            if choice == 0:
                edited = line[:at] + rng.choice(_ALPHABET) + line[at + 1 :]
            elif choice == 1:
                edited = line[:at] + rng.choice(_ALPHABET) + line[at:]
            elif choice == 2:
                edited = line[:at] + line[at + rng.randint(1, 4) :]
            else:
                end = min(len(line), at + rng.randint(1, 90))
                edited = line[:end] + line[at:end] + line[end:]
            outcome = _same(edited)
            accepted += outcome[0] == "envelope"
            raw = bytearray(edited.encode("utf-8"))
            raw[rng.randrange(len(raw))] = rng.randrange(256)
            _same(bytes(raw))
    assert accepted > 50


def test_other_inputs_take_the_full_path() -> None:
    assert envelope_module._canonical(bytearray(LINES[0].encode())) is None  # type: ignore[arg-type]
    envelope = parse_envelope(bytearray(LINES[0].encode()))  # type: ignore[arg-type]
    assert isinstance(envelope, Envelope)
    assert envelope == ENVELOPES[0]
