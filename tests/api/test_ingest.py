"""The API's group committer (``api.ingest.Committer``) over a real SQLite ledger.

Concurrent jobs (single envelopes and batches) go through the pipelined path
(``Ledger.submit_stream``) in groups: each job gets its own results in order,
a batch stays contiguous, everything acknowledged is in the ledger and the
audit is clean; a group that fails is retried job by job, so one bad job
fails alone; signatures checked on worker processes give the same verdicts.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from api.ingest import Committer
from ledger.audit import audit
from ledger.envelope import Envelope
from ledger.errors import CustodyError, EnvelopeError
from ledger.keys import PrivateKey
from ledger.log import Ledger, SubmitResult
from ledger.statements import statement_digest
from tests.support import Actor, World, q, site

Item = Envelope | CustodyError


def _origin(actor: Actor, lot: str, *, signers: list[PrivateKey] | None = None) -> Envelope:
    return actor.envelope(
        "origin",
        id=f"o/{lot}",
        signers=signers,
        lot={"id": lot, "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "home")
    yield w
    w.close()


def _check_acknowledged(ledger: Ledger, jobs: list[tuple[list[Item], list[SubmitResult]]]) -> None:
    """One result per item; a job's appended envelopes contiguous; each in its leaf."""
    seqs: list[int] = []
    for items, results in jobs:
        assert len(results) == len(items)
        fresh = [r.seq for r in results if r.error is None and r.seq is not None]
        assert fresh == list(range(fresh[0], fresh[0] + len(fresh))) if fresh else True
        for item, r in zip(items, results, strict=True):
            if isinstance(item, CustodyError):
                assert r.error is item
            elif r.error is None:
                assert r.seq is not None
                assert not r.duplicate
                seqs.append(r.seq)
                assert r.digest is not None
                assert statement_digest(item.payload) == r.digest
                assert base64.b64encode(item.payload) in ledger.leaf(r.seq)
    assert len(set(seqs)) == len(seqs)
    report = audit(ledger.store)
    assert report.ok, report


@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_jobs_are_appended_in_order(world: World, workers: int) -> None:
    farm = world.party("farm")
    stranger = PrivateKey.generate()
    size = world.ledger.size()
    committer = Committer(world.ledger, max_items=50, workers=workers)
    jobs: list[tuple[list[Item], Future[list[SubmitResult]]]] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        for i in range(12):
            items: list[Item]
            if i % 4 == 3:  # a batch, with a bad envelope and a forged signature inside
                items = [_origin(farm, f"farm/c{c}-b{i}-{k}") for k in range(30)]
                items[3] = EnvelopeError("not an envelope", code="invalid_envelope.json")
                items[7] = _origin(farm, f"farm/c{c}-forged-{i}", signers=[stranger])
            else:
                items = [_origin(farm, f"farm/c{c}-{i}")]
            with lock:
                jobs.append((items, committer.submit(items)))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [(items, f.result(timeout=120)) for items, f in jobs]
    committer.close()
    _check_acknowledged(world.ledger, done)
    codes = {r.error.code for _, rs in done for r in rs if r.error is not None}
    assert "invalid_envelope.json" in codes
    assert len(codes) == 2  # and the forged signature's
    appended = sum(1 for _, rs in done for r in rs if r.error is None)
    assert appended == 8 * (9 + 3 * 28)
    assert world.ledger.size() == size + appended


class _Faulty(Ledger):
    """A ledger whose append fails for any batch holding the statement ``o/farm/poison``,
    and that waits on ``gate`` before appending ``o/farm/gate``."""

    gate = threading.Event()

    def _finish(self, batch: Any, during_commit: Callable[[], None] | None = None) -> Any:
        ids = {p.statement.id for p in batch.parsed}
        if "o/farm/gate" in ids:
            assert self.gate.wait(60)
        if "o/farm/poison" in ids:
            raise RuntimeError("disk on fire")
        return super()._finish(batch, during_commit)


def test_a_failed_group_is_retried_job_by_job(world: World) -> None:
    farm = world.party("farm")
    faulty = _Faulty(world.ledger.store, world.ledger.operator_key)
    committer = Committer(faulty, max_items=1000)
    first = committer.submit([_origin(farm, "farm/gate")])
    # queued while the writer waits: one group, poisoned by one of its jobs
    names = ["a", "b", "poison", "c", "d"]
    envs = {n: _origin(farm, f"farm/{n}") for n in names}
    futures = {n: committer.submit([envs[n]]) for n in names}
    _Faulty.gate.set()
    assert first.result(timeout=60)[0].error is None
    with pytest.raises(RuntimeError, match="disk on fire"):
        futures.pop("poison").result(timeout=60)
    results = {n: f.result(timeout=60)[0] for n, f in futures.items()}
    committer.close()
    assert all(r.error is None for r in results.values())
    seqs = [results[n].seq or 0 for n in ["a", "b", "c", "d"]]
    assert seqs == sorted(seqs)
    _check_acknowledged(faulty, [([envs[n]], [results[n]]) for n in results])


def test_a_lone_job_does_not_wait_for_company(world: World) -> None:
    farm = world.party("farm")
    committer = Committer(world.ledger)
    for i in range(3):  # each resolves with nothing queued behind it
        (r,) = committer.submit([_origin(farm, f"farm/alone-{i}")]).result(timeout=30)
        assert r.error is None
    committer.close()


def test_a_failed_group_loses_no_job_queued_behind_it(world: World) -> None:
    """Groups of two: when a group fails, the job already taken from the queue to
    start the group after those in flight is still appended."""
    farm = world.party("farm")
    faulty = _Faulty(world.ledger.store, world.ledger.operator_key)
    committer = Committer(faulty, max_items=2)
    _Faulty.gate.clear()
    first = committer.submit([_origin(farm, "farm/gate")])
    names = ["a", "b", "poison", "c", "d", "e", "f", "g", "h"]
    envs = {n: _origin(farm, f"farm/{n}") for n in names}
    futures = {n: committer.submit([envs[n]]) for n in names}
    _Faulty.gate.set()
    assert first.result(timeout=60)[0].error is None
    with pytest.raises(RuntimeError, match="disk on fire"):
        futures.pop("poison").result(timeout=60)
    results = {n: f.result(timeout=60)[0] for n, f in futures.items()}
    committer.close()
    assert all(r.error is None for r in results.values())
    _check_acknowledged(faulty, [([envs[n]], [results[n]]) for n in results])


class _Counting(Ledger):
    """A ledger that records the size of every group it appends, and waits on
    ``hold`` before appending ``o/farm/hold``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sizes: list[int] = []
        self.hold = threading.Event()
        self.holding = threading.Event()

    def _finish(self, batch: Any, during_commit: Callable[[], None] | None = None) -> Any:
        if "o/farm/hold" in {p.statement.id for p in batch.parsed}:
            self.holding.set()
            assert self.hold.wait(60)
        self.sizes.append(len(batch.parsed))
        return super()._finish(batch, during_commit)

    def queue_behind_held(self, committer: Committer, farm: Any, names: list[str]) -> list[Any]:
        """Submit ``o/farm/hold`` and, while its group is held, ``names``; release the
        hold and return the futures of ``names`` (the held one appended alone)."""
        held = committer.submit([_origin(farm, "farm/hold")])
        assert self.holding.wait(60)  # alone: nothing was queued
        queued = [committer.submit([_origin(farm, f"farm/{n}")]) for n in names]
        self.hold.set()
        assert held.result(timeout=60)[0].error is None
        return queued


def test_a_group_waits_for_the_clients_of_the_last_one(world: World) -> None:
    """Under load (the last group held several jobs) the next group waits, between
    arrivals at most ``gap`` and in all at most ``max_wait``, for as many jobs: the
    clients the last group answered come back together and commit together."""
    farm = world.party("farm")
    ledger = _Counting(world.ledger.store, world.ledger.operator_key)
    committer = Committer(ledger, max_wait=30.0, gap=0.5)
    four = ledger.queue_behind_held(committer, farm, [f"four-{i}" for i in range(4)])
    assert all(f.result(timeout=60)[0].error is None for f in four)
    assert ledger.sizes[-1] == 4  # queued behind the held one (the held client did not come back)

    # the four clients come back one by one: one group again
    envs = [_origin(farm, f"farm/back-{i}") for i in range(4)]
    futures = [committer.submit([envs[0]])]

    def later() -> None:
        for env in envs[1:]:
            threading.Event().wait(0.05)
            futures.append(committer.submit([env]))

    t = threading.Thread(target=later)
    t.start()
    t.join()
    results = [f.result(timeout=60)[0] for f in futures]
    assert all(r.error is None for r in results)
    assert ledger.sizes[-1] == 4
    committer.close()
    _check_acknowledged(ledger, [([e], [r]) for e, r in zip(envs, results, strict=True)])


def test_the_wait_for_company_is_bounded(world: World) -> None:
    """A group waits at most ``max_wait`` for clients that do not come back, and
    then expects only as many as came."""
    farm = world.party("farm")
    ledger = _Counting(world.ledger.store, world.ledger.operator_key)
    committer = Committer(ledger, max_wait=0.2, gap=0.2)
    three = ledger.queue_behind_held(committer, farm, [f"three-{i}" for i in range(3)])
    assert all(f.result(timeout=60)[0].error is None for f in three)
    for i in range(3):  # one client left: each waits 0.2 s at most, then alone
        (r,) = committer.submit([_origin(farm, f"farm/left-{i}")]).result(timeout=30)
        assert r.error is None
    assert ledger.sizes[-3:] == [1, 1, 1]
    committer.close()


def test_cohorts_of_clients_merge_into_one_group(world: World) -> None:
    """Jobs that queued while a group was appended are another cohort of clients:
    the next group waits for them and for the clients just answered, so that the
    two cohorts share one commit instead of alternating."""
    farm = world.party("farm")
    ledger = _Counting(world.ledger.store, world.ledger.operator_key)
    committer = Committer(ledger, max_wait=30.0, gap=5.0)
    cohort = ledger.queue_behind_held(committer, farm, [f"cohort-{i}" for i in range(2)])
    threading.Event().wait(0.05)
    back = committer.submit([_origin(farm, "farm/back")])  # the held client comes back
    assert all(f.result(timeout=60)[0].error is None for f in [*cohort, back])
    assert ledger.sizes[-2:] == [1, 3]
    committer.close()
