"""The canonical-leaf fast path of ``decode_leaf`` gives what the full decoder gives.

Leaves written by the ledger are read through one pattern (no JSON parse, no envelope
object walk); anything else goes to the full strict decoder. Here every leaf, and many
edits of it, is decoded both ways: the same leaf or the same error.
"""

from __future__ import annotations

import random

import pytest

from ledger import leaf as leaf_module
from ledger.envelope import sign_envelope
from ledger.errors import LeafError
from ledger.keys import PrivateKey
from ledger.leaf import LEAF_TEMPLATE, Leaf, decode_leaf, envelope_json


def _full(data: bytes, seq: int | None) -> Leaf | tuple[str, str, str | None]:
    original = leaf_module._decode_canonical
    leaf_module._decode_canonical = lambda data, seq: None  # type: ignore[assignment]
    try:
        return decode_leaf(data, seq)
    except LeafError as e:
        return (e.reason, e.why, e.prev)
    finally:
        leaf_module._decode_canonical = original


def _fast(data: bytes, seq: int | None) -> Leaf | tuple[str, str, str | None]:
    try:
        return decode_leaf(data, seq)
    except LeafError as e:
        return (e.reason, e.why, e.prev)


def _leaf(payload: bytes, signers: int, seq: int, when: bytes) -> bytes:
    env = sign_envelope(payload, [PrivateKey.generate() for _ in range(signers)])
    return LEAF_TEMPLATE % (envelope_json(env), b"ab" * 32, when, seq)


LEAVES = [
    _leaf(b'{"spec":"x"}', 1, 7, b"2026-01-01T00:00:00.000000Z"),
    _leaf(b"", 1, 0, b"2026-01-01T00:00:00.000000Z"),
    _leaf(b"x" * 1001, 2, 123456, b"2026-12-31T23:59:59.999999Z"),
    _leaf(b"\xff\x00 not json", 3, 1, b"2026-02-28T12:00:00.5Z"),
]


@pytest.mark.parametrize("data", LEAVES)
def test_a_canonical_leaf_decodes_alike_both_ways(data: bytes) -> None:
    assert leaf_module._decode_canonical(data, None) is not None
    seq = _fast(data, None)
    assert isinstance(seq, Leaf)
    for expected in (None, seq.seq, seq.seq + 1):
        assert _fast(data, expected) == _full(data, expected)


EDITS = [
    (b'"seq":7}', b'"seq":07}'),
    (b'"seq":7}', b'"seq":-7}'),
    (b'"seq":7}', b'"seq":7.0}'),
    (b'"seq":7}', b'"seq":7,"seq":7}'),
    (b'"prev":"abab', b'"prev":"ABab'),
    (b'"prev":"abab', b'"prev":"\\u0061bab'),
    (b"2026-01-01T00:00:00.000000Z", b"2026-13-01T00:00:00.000000Z"),
    (b"2026-01-01T00:00:00.000000Z", b"2026-01-01T00:00:00Z"),
    (b"2026-01-01T00:00:00.000000Z", b"2026-01-01T00:00:00+00:00"),
    (b'"payloadType":"application', b'"payloadType":"Application'),
    (b'{"envelope":{"payload":"', b'{"envelope":{"payload":"A'),
    (b'{"envelope":{"payload":"', b'{"envelope":{"payload":"AA=="'),
    (b'"sig":"', b'"sig":"=='),
    (b'"sig":"', b'"sig":"A'),
    (b'"sig":"', b'"sig":"-_'),
    (b'"keyid":"', b'"keyid":"0'),
    (b'"keyid":"', b'"keyid":"","k":"'),
    (b'"signatures":[', b'"signatures":[{"keyid":"' + b"0" * 64 + b'","sig":""},'),
    (b'"signatures":[', b'"signatures":[,'),
    (b"]},", b",]},"),
    (b"}]},", b"}{}]},"),
    (b'{"envelope"', b' {"envelope"'),
    (b'{"envelope"', b'\xef\xbb\xbf{"envelope"'),
    (b'"prev"', b'"prev":"' + b"0" * 64 + b'","prev"'),
]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_an_edited_leaf_decodes_alike_both_ways(old: bytes, new: bytes) -> None:
    data = LEAVES[0]
    assert old in data
    edited = data.replace(old, new, 1)
    for seq in (None, 7):
        assert _fast(edited, seq) == _full(edited, seq)


def test_random_byte_edits_decode_alike_both_ways() -> None:
    rng = random.Random(12)
    alphabet = b'{}[]",:0123456789abcdefAZaz+/=-_.\\ \x00\xff'
    for _ in range(3000):
        data = bytearray(rng.choice(LEAVES))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            what = rng.random()
            if what < 0.4:
                data[at] = rng.choice(alphabet)
            elif what < 0.7:
                del data[at]
            else:
                data.insert(at, rng.choice(alphabet))
        edited = bytes(data)
        for seq in (None, 7):
            assert _fast(edited, seq) == _full(edited, seq)
