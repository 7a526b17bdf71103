"""The ledger writer process: group commit on a core of its own.

Appending is CPU work in Python (parsing, signature checks, the custody state
machine, SQL) plus an fsync. In the server process it would compete for the
interpreter lock with the event loop that parses requests; in a child process
it runs in parallel. :class:`ProcessCommitter` has the interface of
:class:`api.ingest.Committer`: requests hand it envelopes and await their own
results.

Protocol over one duplex pipe (pickled tuples):

* parent → child: ``(job_id, [(payload_type, payload, ((keyid, sig), ...)), ...])``,
  or ``None`` to stop;
* child → parent: ``(job_id, [result, ...])`` where a result is
  ``(digest, seq, duplicate, error)`` and ``error`` is ``None`` or
  ``(class name, message, code, details)`` of a :mod:`ledger.errors` class;
  or ``(job_id, ("failed", class name, message))`` when the append itself
  failed (database unavailable, ...).

The child takes every job waiting in the pipe (up to ``max_items``
envelopes), appends them with one :meth:`ledger.log.Ledger.submit` and answers
each job in order; a combined append that fails is retried job by job. The
child exits when the pipe closes, so it never outlives its server process.
This module imports only the ledger (the child starts fast).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future, InvalidStateError
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ledger import errors as ledger_errors
from ledger.envelope import Envelope, EnvelopeSignature
from ledger.errors import ConfigError, CustodyError
from ledger.log import SubmitResult

log = logging.getLogger(__name__)

Wire = tuple[str, bytes, tuple[tuple[str, bytes], ...]]
WireResult = tuple[str | None, int | None, bool, tuple[str, str, str, dict[str, Any]] | None]


def _to_wire(env: Envelope) -> Wire:
    return (env.payload_type, env.payload, tuple((s.keyid, s.sig) for s in env.signatures))


def _from_wire(w: Wire) -> Envelope:
    return Envelope(w[0], w[1], tuple(EnvelopeSignature(k, s) for k, s in w[2]))


def _result_to_wire(r: SubmitResult) -> WireResult:
    err = None
    if r.error is not None:
        e = r.error
        err = (type(e).__name__, e.message, e.code, dict(e.details))
    return (r.digest, r.seq, r.duplicate, err)


def _error_class(name: str) -> type[CustodyError]:
    cls = getattr(ledger_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, CustodyError):
        return cls
    return ledger_errors.InputError


def _result_from_wire(w: WireResult) -> SubmitResult:
    digest, seq, duplicate, err = w
    if err is None:
        return SubmitResult(digest, seq, duplicate=duplicate)
    name, message, code, details = err
    return SubmitResult(digest, error=_error_class(name)(message, code=code, details=details))


# ---------------------------------------------------------------- the child


def writer_main(conn: Connection, home: str, db_url: str, max_items: int) -> None:
    """The child process: append what arrives, answer in order, until the pipe closes."""
    from ledger.home import Home
    from ledger.log import Ledger
    from ledger.store import Store

    ledger = Ledger(Store(db_url), Home(Path(home)).operator_key())
    try:
        stop = False
        while not stop:
            try:
                first = conn.recv()
            except EOFError:
                break
            if first is None:
                break
            jobs = [first]
            count = len(first[1])
            while count < max_items and conn.poll():
                more = conn.recv()
                if more is None:
                    stop = True
                    break
                jobs.append(more)
                count += len(more[1])
            for answer in _append(ledger, jobs):
                conn.send(answer)
    except (EOFError, OSError):
        pass
    finally:
        ledger.store.close()


def _append(ledger: Any, jobs: list[tuple[int, list[Wire]]]) -> list[tuple[int, Any]]:
    try:
        results = ledger.submit([_from_wire(w) for _, envs in jobs for w in envs])
    except Exception as e:  # noqa: BLE001 (reported to the waiting requests)
        if len(jobs) == 1:
            return [(jobs[0][0], ("failed", type(e).__name__, str(e)))]
        return [answer for job in jobs for answer in _append(ledger, [job])]
    out: list[tuple[int, Any]] = []
    start = 0
    for job_id, envs in jobs:
        out.append((job_id, [_result_to_wire(r) for r in results[start : start + len(envs)]]))
        start += len(envs)
    return out


# ---------------------------------------------------------------- the parent


class WriterFailedError(ConfigError):
    """The writer process could not append (database unavailable, ...)."""

    code = "unavailable.writer"


class _Session:
    """One child process, its pipe, the jobs sent to it and the threads serving it."""

    def __init__(self, home: Path, db_url: str, max_items: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=writer_main,
            args=(child, str(home), db_url, max_items),
            name="custody-writer",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        self.lock = threading.Lock()
        self.pending: dict[int, Future[list[SubmitResult]]] = {}
        self.outbox: queue.SimpleQueue[tuple[int, list[Wire]] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._send, name="custody-writer-send", daemon=True),
            threading.Thread(target=self._receive, name="custody-writer-receive", daemon=True),
        ]
        for t in self.threads:
            t.start()

    def alive(self) -> bool:
        return self.process.is_alive()

    def put(self, job_id: int, envs: list[Wire], future: Future[list[SubmitResult]]) -> None:
        with self.lock:
            self.pending[job_id] = future
        self.outbox.put((job_id, envs))

    def _send(self) -> None:
        while True:
            job = self.outbox.get()
            try:
                self.conn.send(job)
            except (OSError, ValueError):
                return
            if job is None:
                return

    def _receive(self) -> None:
        while True:
            try:
                job_id, answer = self.conn.recv()
            except (EOFError, OSError):
                break
            with self.lock:
                future = self.pending.pop(job_id, None)
            if future is None:
                continue
            if isinstance(answer, tuple) and answer and answer[0] == "failed":
                log.warning("the writer could not append: %s: %s", answer[1], answer[2])
                future.set_exception(
                    WriterFailedError("the ledger could not append now; retry shortly")
                )
            else:
                future.set_result([_result_from_wire(w) for w in answer])
        with self.lock:
            orphans = list(self.pending.values())
            self.pending.clear()
        for future in orphans:
            future.set_exception(WriterFailedError("the ledger writer stopped; retry shortly"))
        self.outbox.put(None)  # release the sender

    def close(self, timeout: float) -> None:
        self.outbox.put(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        for t in self.threads:
            t.join(5)
        self.conn.close()


class ProcessCommitter:
    """Appends in a child process; the interface of :class:`api.ingest.Committer`."""

    def __init__(self, home: Path, db_url: str, *, max_items: int = 2000) -> None:
        self.home = home
        self.db_url = db_url
        self.max_items = max_items
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._session: _Session | None = None

    def start(self) -> None:
        """Start the child now (otherwise the first submit does)."""
        with self._lock:
            self._current()

    def _current(self) -> _Session:
        if self._session is None or not self._session.alive():
            self._session = _Session(self.home, self.db_url, self.max_items)
        return self._session

    def submit(self, items: Sequence[Envelope | CustodyError]) -> Future[list[SubmitResult]]:
        """Queue ``items``; the future resolves to one result each, in order."""
        future: Future[list[SubmitResult]] = Future()
        envs = [_to_wire(i) for i in items if isinstance(i, Envelope)]
        local = [SubmitResult(None, error=i) for i in items if isinstance(i, CustodyError)]
        if not envs:
            future.set_result(local)
            return future
        inner: Future[list[SubmitResult]] = Future()
        with self._lock:
            session = self._current()
            job_id = next(self._ids)
        session.put(job_id, envs, inner)

        def merge(done: Future[list[SubmitResult]]) -> None:
            error = done.exception()
            try:
                if error is not None:
                    future.set_exception(error)
                    return
                appended = iter(done.result())
                future.set_result(
                    [
                        next(appended) if isinstance(i, Envelope) else SubmitResult(None, error=i)
                        for i in items
                    ]
                )
            except InvalidStateError:  # the request gave up (cancelled) meanwhile
                pass

        inner.add_done_callback(merge)
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is queued and stop the child (a later submit starts a new one)."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close(timeout)
