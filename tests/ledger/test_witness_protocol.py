"""The tlog-witness ``add-checkpoint`` decision (c2sp.org/tlog-witness) over a real
state database: every status the spec names, the compare-and-swap under
concurrent requests, a forked log's evidence, and a restart in the middle."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from ledger import merkle
from ledger.checkpoint import Checkpoint, sign_note, split_note, verifier_key
from ledger.cosignature import count_cosigners
from ledger.keys import PrivateKey
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import SIZE_TYPE, add_checkpoint, format_request

ORIGIN = "custody.test/ledger"


class Log:
    """An RFC 6962 tree of synthetic leaves, signed by an operator key."""

    def __init__(self, key: PrivateKey, leaves: list[bytes]) -> None:
        self.key = key
        self.hashes = [merkle.leaf_hash(x) for x in leaves]

    def append(self, *leaves: bytes) -> Log:
        return Log.__new__(Log)._init(self.key, [*self.hashes, *map(merkle.leaf_hash, leaves)])

    def _init(self, key: PrivateKey, hashes: list[bytes]) -> Log:
        self.key, self.hashes = key, hashes
        return self

    def note(self, size: int | None = None) -> str:
        size = len(self.hashes) if size is None else size
        body = Checkpoint(ORIGIN, size, merkle.root(self.hashes[:size])).body()
        return sign_note(body, ORIGIN, self.key.sign, self.key.public_key)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.hashes) if new is None else new
        if old in (0, new):
            return []

        def get(level: int, index: int) -> bytes:
            return merkle.root(self.hashes[index << level : (index + 1) << level])

        return merkle.consistency_proof(old, new, get)


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    wh = WitnessHome(tmp_path / "witness")
    cosigner = wh.init("witness.test/w1")
    op = PrivateKey(bytes([5]) * 32)
    state = wh.state()
    state.add_log(ORIGIN, verifier_key(ORIGIN, op.public_key))
    yield wh, cosigner, state, op
    state.close()


def leaves(prefix: str, n: int, start: int = 0) -> list[bytes]:
    return [f"{prefix}{i}".encode() for i in range(start, start + n)]


def test_statuses(setup) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = setup
    log = Log(op, leaves("a", 10))
    first = add_checkpoint(state, cosigner, format_request(0, [], log.note()))
    assert first.status == 200
    cosigned = log.note() + first.body
    assert count_cosigners(cosigned, [cosigner.verifier]).count == 1
    assert state.latest(ORIGIN).size == 10  # type: ignore[union-attr]

    grown = log.append(*leaves("a", 5, 10))
    # stale old size: 409 with the size the witness holds, as text/x.tlog.size
    stale = add_checkpoint(state, cosigner, format_request(3, grown.proof(3), grown.note()))
    assert (stale.status, stale.body, stale.content_type) == (409, "10\n", SIZE_TYPE)
    # a proof that does not verify: 422
    bad = add_checkpoint(state, cosigner, format_request(10, grown.proof(9), grown.note()))
    assert bad.status == 422
    # old above the checkpoint size: 400
    assert add_checkpoint(state, cosigner, format_request(20, [], grown.note())).status == 400
    # malformed bodies: 400
    for raw in (b"old 01\n\n" + grown.note().encode(), b"nonsense", b"old 10\nxx\n\n", b"\xff"):
        assert add_checkpoint(state, cosigner, raw).status == 400
    # unknown origin: 404
    other = Checkpoint("other.test/log", 1, bytes(32)).body()
    other_note = sign_note(other, "other.test/log", op.sign, op.public_key)
    assert add_checkpoint(state, cosigner, format_request(0, [], other_note)).status == 404
    # signed by another key under the log's name: 403
    stranger = Log(PrivateKey(bytes([6]) * 32), leaves("a", 15))
    forged = add_checkpoint(state, cosigner, format_request(10, grown.proof(10), stranger.note()))
    assert forged.status == 403
    # the good one
    ok = add_checkpoint(state, cosigner, format_request(10, grown.proof(10), grown.note()))
    assert ok.status == 200
    assert state.latest(ORIGIN).size == 15  # type: ignore[union-attr]
    # the same checkpoint again (a log that lost the answer): cosigned again
    again = add_checkpoint(state, cosigner, format_request(15, [], grown.note()))
    assert again.status == 200
    # only the operator-signed checkpoint with a failing proof is kept (it may be a
    # fork, or a log bug: `inconsistent` until the log shows a proof); the rest were not
    assert [(e.kind, e.held_size, e.offered_size) for e in state.evidence()] == [
        ("inconsistent", 10, 15)
    ]


def test_split_view_is_refused_and_kept_as_evidence(setup) -> None:  # type: ignore[no-untyped-def]
    _, cosigner, state, op = setup
    common = leaves("c", 8)
    honest = Log(op, [*common, *leaves("h", 4)])
    fork = Log(op, [*common, *leaves("f", 4)])
    assert add_checkpoint(state, cosigner, format_request(0, [], honest.note())).status == 200
    # the fork at the same size: 409, and two operator-signed roots for one size kept
    same = add_checkpoint(state, cosigner, format_request(12, [], fork.note()))
    assert same.status == 409
    # the fork grown, with its own (valid for the fork) consistency proof: 422
    grown = fork.append(b"f12", b"f13")
    inconsistent = add_checkpoint(
        state, cosigner, format_request(12, grown.proof(12), grown.note())
    )
    assert inconsistent.status == 422
    kinds = [(e.kind, e.held_size, e.offered_size) for e in state.evidence()]
    assert kinds == [("same_size", 12, 12), ("inconsistent", 12, 14)]
    held = state.evidence()[0]
    assert held.held_note == honest.note()
    assert held.offered_note == fork.note()
    # the witness still holds the honest tree and keeps cosigning it
    honest2 = honest.append(b"h12")
    assert (
        add_checkpoint(
            state, cosigner, format_request(12, honest2.proof(12), honest2.note())
        ).status
        == 200
    )


def test_compare_and_swap_under_concurrent_requests(setup) -> None:  # type: ignore[no-untyped-def]
    wh, cosigner, _, op = setup
    log = Log(op, leaves("a", 40))
    first = add_checkpoint(wh.state(), cosigner, format_request(0, [], log.note(10)))
    assert first.status == 200
    results: dict[int, int] = {}

    def submit(size: int) -> None:
        st = wh.state()  # one connection per thread, as separate server workers would
        try:
            raw = format_request(10, log.proof(10, size), log.note(size))
            results[size] = add_checkpoint(st, cosigner, raw).status
        finally:
            st.close()

    threads = [threading.Thread(target=submit, args=(s,)) for s in range(11, 31)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # exactly one request from size 10 wins; every other sees 409, never a rollback
    assert sorted(results.values()).count(200) == 1
    winner = next(s for s, status in results.items() if status == 200)
    assert wh.state().latest(ORIGIN).size == winner  # type: ignore[union-attr]


def test_restart_keeps_the_state(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wh, cosigner, state, op = setup
    log = Log(op, leaves("a", 5))
    assert add_checkpoint(state, cosigner, format_request(0, [], log.note())).status == 200
    state.close()
    # a new process: same key (same cosigner), same latest size
    again = WitnessHome(wh.path)
    st = again.state()
    assert st.latest(ORIGIN).size == 5  # type: ignore[union-attr]
    body = split_note(log.note())[0]
    line = add_checkpoint(st, again.cosigner(), format_request(5, [], log.note())).body
    assert count_cosigners(log.note() + line, [cosigner.verifier]).count == 1
    assert hashlib.sha256(body.encode()).digest()  # body is what was cosigned
    st.close()
