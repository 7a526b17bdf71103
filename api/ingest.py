"""Group commit: one writer thread appends what concurrent requests submit.

Each request hands its envelopes (one, or a whole batch) to the
:class:`Committer` and awaits a future. The writer thread takes every job
waiting in the queue (up to ``max_items`` envelopes), appends them with one
:meth:`ledger.log.Ledger.submit` call — one transaction, one checkpoint — and
hands each job its own results, in order. A job's envelopes stay contiguous
and in order, and jobs are appended in arrival order, so the outcome is the
one the requests would have had one after another; concurrent clients simply
share transactions. If a combined call fails unexpectedly, each job is retried
alone so that one bad job cannot fail its neighbours.

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
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from ledger.envelope import Envelope
from ledger.errors import CustodyError
from ledger.log import Ledger, SubmitResult

log = logging.getLogger(__name__)

Item = Envelope | CustodyError


@dataclass
class _Job:
    items: Sequence[Item]
    future: Future[list[SubmitResult]] = field(default_factory=Future)


class Committer:
    def __init__(self, ledger: Ledger, *, max_items: int = 2000) -> None:
        self.ledger = ledger
        self.max_items = max_items
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

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._queue.get()
            if job is None:
                break
            jobs = [job]
            count = len(job.items)
            while count < self.max_items:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
                count += len(more.items)
            self._commit(jobs)

    def _commit(self, jobs: list[_Job]) -> None:
        live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
        if not live:
            return
        started = time.perf_counter()
        try:
            results = self.ledger.submit([item for j in live for item in j.items])
        except Exception as e:  # noqa: BLE001 (handed to the waiting request)
            if len(live) == 1:
                live[0].future.set_exception(e)
                return
            log.warning("group commit of %d jobs failed (%r); retrying one by one", len(live), e)
            for j in live:
                try:
                    j.future.set_result(self.ledger.submit(j.items))
                except Exception as e1:  # noqa: BLE001 (handed to the waiting request)
                    j.future.set_exception(e1)
            return
        log.debug(
            "appended %d envelopes of %d requests in %.1f ms",
            len(results),
            len(live),
            (time.perf_counter() - started) * 1000,
        )
        start = 0
        for j in live:
            end = start + len(j.items)
            j.future.set_result(results[start:end])
            start = end
