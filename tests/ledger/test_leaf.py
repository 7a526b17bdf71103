"""The one leaf codec (ledger.leaf): encode, strict decode with integrity reasons, chain link,
ledger time."""

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger import merkle
from ledger.envelope import Envelope, EnvelopeSignature, sign_envelope
from ledger.errors import IntegrityError
from ledger.keys import PrivateKey
from ledger.leaf import (
    LEAF_TEMPLATE,
    ZERO_HASH,
    LeafError,
    decode_leaf,
    envelope_json,
    format_received_at,
    leaf_bytes,
    links,
    parse_received_at,
    prev_of,
)
from provenance.verify import verify_entries
from tests.support import World, q, site

DEEP = (
    b'{"seq":0,"prev":"'
    + b"0" * 64
    + b'","received_at":"x","envelope":'
    + (b"[" * 100_000 + b"]" * 100_000)
    + b"}"
)


@pytest.mark.parametrize(
    "leaf",
    [
        b"{",
        b"[]",
        b'{"seq": 0}',
        b'{"seq": "0", "prev": "", "received_at": "", "envelope": {}}',
        b'{"seq": 0, "prev": "", "received_at": "", "envelope": {"payload": 1}}',
    ],
    ids=["not json", "array", "missing keys", "wrong types", "bad envelope"],
)
def test_decode_leaf_turns_garbage_into_integrity_errors(leaf):
    with pytest.raises(IntegrityError) as e:
        decode_leaf(leaf)
    assert e.value.code == "integrity.leaf"


def test_decode_leaf_round_trips_a_stored_leaf(world: World):
    leaf = decode_leaf(world.ledger.leaf(0))
    assert leaf.seq == 0
    assert leaf.prev == "0" * 64
    assert leaf.statement.type == "party"
    assert leaf.entry.seq == 0


def _genuine(world: World) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(world.ledger.leaf(0))
    return obj


def _bytes(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda o: b"\xff" + _bytes(o), "integrity.leaf_json"),
        (lambda o: b'{"seq":0,"seq":0}', "integrity.leaf_json"),
        (lambda o: DEEP, "integrity.leaf_json"),
        (lambda o: _bytes({**o, "extra": 1}), "integrity.leaf_shape"),
        (lambda o: _bytes({**o, "seq": 3}), "integrity.leaf_seq"),
        (lambda o: _bytes({**o, "seq": True}), "integrity.leaf_seq"),
        (lambda o: _bytes({**o, "prev": "AB" * 32}), "integrity.leaf_prev"),
        (lambda o: _bytes({**o, "prev": "ab" * 31}), "integrity.leaf_prev"),
        (
            lambda o: _bytes({**o, "received_at": "yesterday"}),
            "integrity.invalid_statement.bad_time",
        ),
        (lambda o: _bytes({**o, "received_at": 5}), "integrity.invalid_statement.wrong_type"),
        (lambda o: _bytes({**o, "envelope": []}), "integrity.invalid_envelope"),
    ],
    ids=[
        "not utf-8",
        "duplicate key",
        "100000 deep",
        "extra key",
        "other seq",
        "boolean seq",
        "upper-case prev",
        "short prev",
        "bad time",
        "time not a string",
        "envelope not an object",
    ],
)
def test_decode_leaf_gives_the_reason_verification_reports(world: World, edit, reason):
    data = edit(_genuine(world))
    with pytest.raises(LeafError) as e:
        decode_leaf(data, 0)
    assert e.value.code == "integrity.leaf"
    assert e.value.reason.startswith(reason)
    assert e.value.message == f"stored leaf is not a ledger leaf: {e.value.why}"
    # offline verification reports the same reason as its finding code
    report = verify_entries([(0, data)], "x")
    codes = {f.details.get("code") for f in report.findings if f.rule == "INTEGRITY"}
    assert e.value.reason in codes
    assert report.verdict == "fail"


def test_a_leaf_whose_statement_does_not_parse_names_its_digest(world: World):
    from ledger.envelope import sign_envelope

    actor = world.operator
    env = sign_envelope(b'{"spec":"custody/1"}', [actor.key]).to_json_obj()
    obj = {**_genuine(world), "envelope": env}
    leaf = decode_leaf(_bytes(obj), 0)
    with pytest.raises(LeafError) as e:
        leaf.parse_statement()
    assert e.value.reason.startswith("integrity.invalid_statement.")
    assert e.value.digest is not None
    assert e.value.prev == obj["prev"]


def test_leaf_bytes_round_trip_and_chain_link(world: World):
    farm = world.party("farm")
    farm.submit(
        "origin",
        lot={"id": "L1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"},
        site=site(),
    )
    previous: bytes | None = None
    for seq in range(world.ledger.size()):
        raw = world.ledger.leaf(seq)
        leaf = decode_leaf(raw, seq)
        assert leaf.to_bytes() == raw
        assert leaf_bytes(seq, leaf.prev, leaf.received_at, leaf.envelope.to_json_obj()) == raw
        assert links(leaf.prev, previous)
        assert not links(leaf.prev, b"\x01" * 32)
        previous = merkle.leaf_hash(raw)
    assert prev_of(None) == ZERO_HASH


def test_received_at_is_written_with_six_digits_and_compared_as_time():
    t = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert format_received_at(t) == "2026-03-01T10:00:00.000000Z"
    assert parse_received_at("2026-03-01T10:00:00.000000Z") == t
    assert parse_received_at("2026-03-01T10:00:00Z") == t
    assert parse_received_at("2026-03-01T10:00:00.5Z") > parse_received_at("2026-03-01T10:00:00Z")


def test_envelope_json_is_the_leaf_encoding():
    key = PrivateKey.generate()
    envs = [
        sign_envelope(b'{"a":1}', [key]),
        sign_envelope(os.urandom(300), [key, PrivateKey.generate()]),
        Envelope('we"ird/\u00fc\n\x00', b"", (EnvelopeSignature("k\u2603\\", b"\x00" * 3),)),
        Envelope("t", b"x", ()),
    ]
    for env in envs:
        expected = json.dumps(
            env.to_json_obj(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")
        assert envelope_json(env) == expected
        full = leaf_bytes(7, "ab" * 32, "2026-06-01T12:00:00.000000Z", env.to_json_obj())
        assert full.startswith(b'{"envelope":' + expected + b',"prev":')


def test_the_append_path_template_writes_leaf_bytes():
    key = PrivateKey.generate()
    env = sign_envelope(b'{"a":1}', [key])
    prev, received = "ab" * 32, "2026-06-01T12:00:00.000000Z"
    fast = LEAF_TEMPLATE % (envelope_json(env), prev.encode(), received.encode(), 7)
    assert fast == leaf_bytes(7, prev, received, env.to_json_obj())
    assert decode_leaf(fast, 7).to_bytes() == fast
