"""The one memoised signature check (ledger.sigcheck): keyed by key, signature and message."""

import pytest

from ledger.keys import PrivateKey
from ledger.sigcheck import Batch, Memo, ProcessVerifier, verify_serial


def _signed(n: int) -> list[tuple[bytes, bytes, bytes]]:
    key = PrivateKey(bytes(range(32)))
    return [(key.public_key, key.sign(b"m%d" % i), b"m%d" % i) for i in range(n)]


def test_a_signature_copied_onto_other_bytes_does_not_borrow_its_verdict():
    """Regression: the memo was once keyed by (key, signature) only."""
    ((pk, sig, msg),) = _signed(1)
    batch = Batch(verify_serial)
    batch.add(pk, sig, msg)
    memo = batch.memo()
    assert memo(pk, sig, msg) is True
    assert memo(pk, sig, b"other bytes") is False
    assert memo.known[(pk, sig, b"other bytes")] is False


def test_memo_checks_what_was_not_checked_ahead_once():
    calls: list[bytes] = []

    def check(pk: bytes, sig: bytes, msg: bytes) -> bool:
        calls.append(msg)
        return True

    memo = Memo(check=check)
    assert memo(b"k", b"s", b"m")
    assert memo(b"k", b"s", b"m")
    assert calls == [b"m"]


@pytest.mark.parametrize("chunk", [None, 1, 3], ids=["one send", "chunk 1", "chunk 3"])
def test_batch_in_chunks_gives_every_verdict(chunk: int | None):
    triples = _signed(7)
    bad = (triples[2][0], triples[3][1], triples[2][2])
    batch = Batch(verify_serial, chunk)
    for t in [*triples, bad]:
        batch.add(*t)
    memo = batch.memo(check=lambda *_: pytest.fail("everything was checked ahead"))
    assert [memo(*t) for t in triples] == [True] * 7
    assert memo(*bad) is False


def test_process_verifier_agrees_with_serial():
    triples = _signed(10)
    triples.append((triples[0][0], triples[1][1], triples[0][2]))
    pool = ProcessVerifier(2, min_parallel=1)
    try:
        batch = Batch(pool)
        for t in triples:
            batch.add(*t)
        memo = batch.memo()
        assert [memo(*t) for t in triples] == verify_serial(triples) == [True] * 10 + [False]
    finally:
        pool.close()


def test_checks_no_worker_has_started_are_checked_here_while_waiting():
    """Batch.memo checks on this core, last first, the parts a busy worker has not
    done (withdrawn while queued, checked here too once handed to the worker); the
    verdicts (a bad signature last) are the same."""
    import time

    triples = _signed(40)
    triples.append((triples[0][0], triples[1][1], triples[0][2]))
    pool = ProcessVerifier(1, min_parallel=1)
    try:
        pool.start()
        busy = pool.run(time.sleep, 3.0)  # the worker's task; the first part is handed over next
        batch = Batch(pool, chunk=10)
        for t in triples:
            batch.add(*t)
        memo = batch.memo(check=lambda *_: pytest.fail("everything was checked ahead"))
        assert not busy.done(), "the checks waited for the worker"
        assert [memo(*t) for t in triples] == verify_serial(triples) == [True] * 40 + [False]
    finally:
        pool.close()


def test_preverified_learns_keys_from_the_evidence_and_keys_by_message(world):
    """Signatures by keys the evidence registers are checked ahead, each with its own
    bytes: one copied onto other bytes is checked ahead too, and fails."""
    from dataclasses import replace

    from ledger.keys import kid_of
    from ledger.leaf import decode_leaf
    from ledger.sigcheck import preverify
    from tests.support import q, site

    farm = world.party("farm")
    farm.submit(
        "origin",
        lot={"id": "L1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"},
        site=site(),
    )
    entries = [decode_leaf(world.ledger.leaf(s)).entry for s in range(world.ledger.size())]
    forged = replace(entries[-1], seq=len(entries), pae=b"other bytes")
    pre = preverify(reversed([*entries, forged]), verify_serial)
    assert pre.keys[farm.key.kid] == farm.key.public_key
    assert kid_of(world.operator.key.public_key) in pre.keys
    memo = pre.result(check=lambda *_: pytest.fail("everything was checked ahead"))
    (kid, sig), pk = entries[-1].signatures[0], farm.key.public_key
    assert kid == farm.key.kid
    assert memo(pk, sig, entries[-1].pae) is True
    assert memo(pk, sig, b"other bytes") is False


def test_feeding_workers_lowers_the_switch_interval_and_restores_it():
    import sys

    from ledger.sigpool import HANDOFF_INTERVAL, feeding_workers

    before = sys.getswitchinterval()
    with feeding_workers():
        assert sys.getswitchinterval() == min(before, HANDOFF_INTERVAL)
        with feeding_workers():  # nested: the outermost restores
            pass
        assert sys.getswitchinterval() == min(before, HANDOFF_INTERVAL)
    assert sys.getswitchinterval() == before


def test_bulk_workers_yield_the_core_to_the_appender():
    """Workers of a bulk command run ``BULK_NICE`` steps below their parent's priority,
    their collector at ``BULK_GC_THRESHOLD``."""
    import gc
    import os

    from ledger.sigcheck import BULK_GC_THRESHOLD, BULK_NICE, ProcessVerifier

    pool = ProcessVerifier(1, bulk=True)
    try:
        assert pool.run(os.nice, 0).result() == min(os.nice(0) + BULK_NICE, 19)
        assert pool.run(gc.get_threshold).result()[0] == BULK_GC_THRESHOLD
    finally:
        pool.close()
