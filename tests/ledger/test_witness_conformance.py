"""The witness against the text of c2sp.org/tlog-witness and tlog-cosignature: the
spec's example request body, the order of the checks (404, 403, 400, 409, 422),
size 0, unknown signatures ignored, the answer's line format and key ID, and the
exact ``Content-Type: text/x.tlog.size`` of a 409 over HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from pathlib import Path

import httpx
import pytest

from api.witness.app import create_witness_app
from ledger import merkle
from ledger.checkpoint import Checkpoint, sign_note, split_note, verifier_key
from ledger.cosignature import count_cosigners
from ledger.keys import PrivateKey
from ledger.note import NoteSignature
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import SIZE_TYPE, add_checkpoint, format_request, parse_request
from tests.ledger.test_witness_protocol import ORIGIN, Log, leaves

# c2sp.org/tlog-witness, "add-checkpoint": the example request body, verbatim
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks"
    "+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
# … and its example response body
SPEC_RESPONSE = (
    "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQ"
    "Lrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO"
    "+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7"
    "nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
)


@pytest.fixture
def witness(tmp_path: Path):  # type: ignore[no-untyped-def]
    wh = WitnessHome(tmp_path / "witness")
    cosigner = wh.init("witness.test/w1")
    op = PrivateKey(bytes([5]) * 32)
    state = wh.state()
    state.add_log(ORIGIN, verifier_key(ORIGIN, op.public_key))
    yield wh, cosigner, state, op
    state.close()


def test_the_spec_example_request_parses() -> None:
    req = parse_request(SPEC_REQUEST.encode())
    assert req.old == 20852014
    assert len(req.proof) == 4
    assert all(len(h) == 32 for h in req.proof)
    assert req.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    body, sigs = split_note(req.note)
    assert body == (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert [s.name for s in sigs] == ["example.com/behind-the-sofa"] * 2  # several signatures
    # and what a log sends is the same bytes for the same parts
    assert format_request(req.old, req.proof, req.note) == SPEC_REQUEST.encode()


def test_the_spec_example_response_parses_as_cosignatures() -> None:
    # "the client MAY concatenate it to the checkpoint" and parse a note
    note = SPEC_REQUEST.split("\n\n", 1)[1].split("\n\n", maxsplit=1)[0] + "\n\n" + SPEC_RESPONSE
    _, sigs = split_note(note)
    assert [s.name for s in sigs] == [
        "witness.example/w1",
        "witness.example/w1",
        "witness.example/w2",
    ]
    # the example's bytes are illustrative (not a valid timestamp), but each line has
    # the cosignature/v1 shape: 4-byte key ID, then 8-byte timestamp + 64-byte signature
    assert all(len(s.key_hash) == 4 and len(s.signature) == 8 + 64 for s in sigs)


def test_the_answer_is_a_cosignature_line_per_the_spec(witness) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = witness
    log = Log(op, leaves("a", 3))
    answer = add_checkpoint(
        state, cosigner, format_request(0, [], log.note()), now=lambda: 1679315147.9
    )
    assert answer.status == 200
    assert answer.body.startswith("— witness.test/w1 ")
    assert answer.body.endswith("\n")
    assert answer.body.count("\n") == 1
    raw = base64.b64decode(answer.body.split(" ")[2])
    pk = cosigner.key.public_key
    assert raw[:4] == hashlib.sha256(b"witness.test/w1\n\x04" + pk).digest()[:4]
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147  # POSIX seconds
    msg = b"cosignature/v1\ntime 1679315147\n" + split_note(log.note())[0].encode()
    assert cosigner.verifier.verifier.is_valid(raw[12:], msg)
    assert count_cosigners(log.note() + answer.body, [cosigner.verifier]).count == 1


def test_the_checks_come_in_the_spec_order(witness) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = witness
    log = Log(op, leaves("a", 10))
    stranger = Log(PrivateKey(bytes([6]) * 32), leaves("a", 10))
    # unknown origin before anything else, even with old > size
    other = Checkpoint("other.test/log", 1, bytes(32)).body()
    other_note = sign_note(other, "other.test/log", op.sign, op.public_key)
    assert add_checkpoint(state, cosigner, format_request(5, [], other_note)).status == 404
    # a bad signature before the old size is looked at
    assert add_checkpoint(state, cosigner, format_request(50, [], stranger.note())).status == 403
    assert add_checkpoint(state, cosigner, format_request(50, [], log.note())).status == 400
    # nothing cosigned yet: the witness holds 0, so old 3 is a 409 with body "0\n"
    stale = add_checkpoint(state, cosigner, format_request(3, log.proof(3), log.note()))
    assert (stale.status, stale.body, stale.content_type) == (409, "0\n", SIZE_TYPE)
    # "the proof MUST be empty if the old size is zero": otherwise it does not verify
    extra = add_checkpoint(state, cosigner, format_request(0, [bytes(32)], log.note()))
    assert extra.status == 422
    assert add_checkpoint(state, cosigner, format_request(0, [], log.note(4))).status == 200
    # a stale old size is a 409 even when the proof is also wrong
    assert add_checkpoint(state, cosigner, format_request(0, [bytes(32)], log.note())).status == 409
    # equal sizes, another root: 409 (not 422)
    fork = Log(op, leaves("f", 4))
    assert add_checkpoint(state, cosigner, format_request(4, [], fork.note())).status == 409
    assert state.latest(ORIGIN).size == 4  # type: ignore[union-attr]


def test_size_zero(witness) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = witness
    empty = Log(op, [])
    bogus = sign_note(Checkpoint(ORIGIN, 0, bytes(32)).body(), ORIGIN, op.sign, op.public_key)
    assert add_checkpoint(state, cosigner, format_request(0, [], bogus)).status == 422
    assert state.latest(ORIGIN) is None
    assert add_checkpoint(state, cosigner, format_request(0, [], empty.note())).status == 200
    assert state.latest(ORIGIN).root == merkle.EMPTY_ROOT  # type: ignore[union-attr]
    grown = Log(op, leaves("a", 7))
    assert add_checkpoint(state, cosigner, format_request(0, [], grown.note())).status == 200
    assert state.evidence() == []


def test_unknown_signatures_are_ignored(witness) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = witness
    log = Log(op, leaves("a", 2))
    other = PrivateKey(bytes([9]) * 32)
    note = log.note()
    extra = NoteSignature("someone.else/key", b"\x01\x02\x03\x04", other.sign(b"x"))
    assert add_checkpoint(state, cosigner, format_request(0, [], note + extra.line())).status == 200


def test_over_http_the_409_has_exactly_the_spec_content_type(witness) -> None:  # type: ignore[no-untyped-def]
    wh, _, _, op = witness
    log = Log(op, leaves("a", 3))

    async def run() -> None:
        transport = httpx.ASGITransport(app=create_witness_app(wh))
        async with httpx.AsyncClient(transport=transport, base_url="http://w.test") as http:
            ok = await http.post("/add-checkpoint", content=format_request(0, [], log.note()))
            assert ok.status_code == 200
            assert ok.text.startswith("— witness.test/w1 ")
            stale = await http.post("/add-checkpoint", content=format_request(0, [], log.note()))
            assert stale.status_code == 409
            assert stale.headers["content-type"] == "text/x.tlog.size"
            assert stale.text == "3\n"
            assert (await http.get("/add-checkpoint")).status_code == 405  # POST only
            assert (await http.post("/add-checkpoint", content=b"old 0\n")).status_code == 400

    asyncio.run(run())
