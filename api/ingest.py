"""Group commit: one writer thread appends what concurrent requests submit.

Each request hands its envelopes (one, or a whole batch) to the
:class:`Committer` and awaits a future. The writer thread takes every job
waiting in the queue (up to ``max_items`` envelopes) as one group, appended
as one batch — one transaction, one checkpoint — and hands each job its own
results, in order. While jobs keep arriving, the groups go through
:meth:`ledger.log.Ledger.submit_stream`: the next groups are parsed and their
signature checks started (on worker processes with ``workers`` > 1) outside
the append lock while the current one commits. When the queue is empty the
stream ends, so a lone request never waits for a next one. A job's envelopes
stay contiguous and in order, and jobs are appended in arrival order, so the
outcome is the one the requests would have had one after another; concurrent
clients simply share transactions. A future is resolved only once its group
is committed (an acknowledged append is durable). Under load, the group that
starts a drain waits briefly (``gap`` between arrivals, ``max_wait`` in all)
for as many jobs as the last group held plus those that queued while it was
appended: the clients it answered come back together, and a group started on
the first of them would commit, and fsync, alone (with 16 clients the groups
alternated between 1 and 15 envelopes; now they hold 16, for a quarter less
server CPU per append). If a group fails unexpectedly, each of its jobs is
retried alone so that one bad job cannot fail its neighbours, and the groups
prepared behind it are appended afresh.

Several server processes each run one writer; the ledger's append lock
serialises them (SPEC §5).
(A writer in a child process of its own, so that appending would not compete
with the event loop for the interpreter lock, was tried and measured: on a
two-core machine it gained nothing for single submissions and halved the
batch rate, so the writer is a thread.)
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from ledger.envelope import Envelope
from ledger.errors import CustodyError
from ledger.log import Ledger, SubmitResult
from ledger.sigcheck import ProcessVerifier

log = logging.getLogger(__name__)

Item = Envelope | CustodyError


@dataclass
class _Job:
    items: Sequence[Item]
    future: Future[list[SubmitResult]] = field(default_factory=Future)


class Committer:
    """The group committer; ``workers`` > 1 checks signatures on that many processes."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        max_items: int = 2000,
        workers: int = 1,
        max_wait: float = 0.004,
        gap: float = 0.001,
    ) -> None:
        self.max_items = max_items
        self.max_wait = max_wait
        self.gap = gap
        self._expect = 1  # the clients that will be back (see _wait)
        self._verifier = ProcessVerifier(workers) if workers > 1 else None
        if self._verifier is not None:  # its own Ledger: the shared one keeps its verifier
            ledger = Ledger(ledger.store, ledger.operator_key, clock=ledger.clock,
                            verifier=self._verifier)  # fmt: skip
        self.ledger = ledger
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, items: Sequence[Item]) -> Future[list[SubmitResult]]:
        """Queue ``items`` for appending; the future resolves to one result each."""
        job = _Job(items)
        if not items:
            job.future.set_result([])
            return job.future
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="custody-committer", daemon=True
                )
                self._thread.start()
            self._queue.put(job)
        return job.future

    def close(self, timeout: float = 30.0) -> None:
        """Finish the queued jobs and stop the writer thread (a later submit starts
        a new one, so an app whose lifespan restarts keeps working)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
        thread.join(timeout)
        if self._verifier is not None:
            self._verifier.close()  # started again on first use

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._drain(job):
                break

    def _drain(self, first: _Job) -> bool:
        """Append ``first`` and the jobs queued behind it, group after group, until
        the queue is empty; whether the stop mark was met."""
        stop = False
        groups: deque[list[_Job]] = deque()  # handed to the pipeline, not committed yet
        carry: _Job | None = first  # taken from the queue to start the next group

        def feed() -> Iterator[list[Item]]:
            nonlocal stop, carry
            # Only the drain's first group waits for the clients of the last one
            # (the next groups are taken while one is appended: no one waits then).
            deadline = time.monotonic() + self.max_wait if self._expect > 1 else 0.0
            while carry is not None:
                jobs, count = [carry], len(carry.items)
                carry = None
                while not stop:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        try:
                            more = self._wait(deadline, len(jobs), count)
                        except queue.Empty:
                            break
                    if more is None:
                        stop = True
                    elif count + len(more.items) > self.max_items:
                        carry = more
                        break
                    else:
                        jobs.append(more)
                        count += len(more.items)
                deadline = 0.0
                self._expect = len(jobs)
                live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
                if live:
                    groups.append(live)
                    yield [item for j in live for item in j.items]

        started = time.perf_counter()
        try:
            for results in self.ledger.submit_stream(feed()):
                _hand_out(groups.popleft(), results)
                log.debug("appended a group of %d envelopes", len(results))
        except Exception as e:  # noqa: BLE001 (handed to the waiting requests)
            failed = groups.popleft() if groups else []
            if len(failed) == 1:
                failed[0].future.set_exception(e)
            else:
                log.warning("group commit of %d jobs failed (%r); retrying one by one",
                            len(failed), e)  # fmt: skip
                for j in failed:
                    self._commit([j])
            while groups:  # prepared behind the failed group, never appended
                self._commit(groups.popleft())
            if carry is not None and carry.future.set_running_or_notify_cancel():
                self._commit([carry])
        # Jobs already queued now came while the last group was appended: another
        # cohort of clients, besides the one just answered; the next group waits
        # for both, so that cohorts merge into one group (one commit) per cycle.
        self._expect += self._queue.qsize()
        log.debug("drained the queue in %.1f ms", (time.perf_counter() - started) * 1000)
        return stop

    def _wait(self, deadline: float, jobs: int, count: int) -> _Job | None:
        """The next job (or the stop mark) if it comes soon enough to join the group.

        Under load the clients answered by the last group come back together; a
        group started on the first of them would commit alone and the rest would
        wait for it. So while the group has fewer jobs than the last one held plus
        those that queued while it was appended, and fewer than ``max_items``
        envelopes, it waits for more: for at most ``gap`` seconds between arrivals
        and until ``deadline``. A lone client (last group of one job, nothing
        queued behind it) never waits. Raises :class:`queue.Empty` when nothing more is to come."""
        if jobs >= self._expect or count >= self.max_items:
            raise queue.Empty
        timeout = min(deadline - time.monotonic(), self.gap)
        if timeout <= 0:
            raise queue.Empty
        return self._queue.get(timeout=timeout)

    def _commit(self, jobs: list[_Job]) -> None:
        """Append ``jobs`` as one batch, then each alone if that fails."""
        try:
            results = self.ledger.submit([item for j in jobs for item in j.items])
        except Exception as e:  # noqa: BLE001 (handed to the waiting request)
            if len(jobs) == 1:
                jobs[0].future.set_exception(e)
                return
            for j in jobs:
                self._commit([j])
            return
        _hand_out(jobs, results)


def _hand_out(jobs: list[_Job], results: list[SubmitResult]) -> None:
    start = 0
    for j in jobs:
        end = start + len(j.items)
        j.future.set_result(results[start:end])
        start = end
