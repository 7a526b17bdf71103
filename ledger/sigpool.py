"""Signature checks on worker processes: the pool factory, the shared pool, AutoVerifier.

Part of :mod:`ledger.sigcheck` (which re-exports every name here): the types a
batch verifier deals in (:data:`Triple`, :data:`BatchVerifier`,
:class:`PendingVerification`), :func:`worker_pool` (every worker pool of the
project starts there), :class:`ProcessVerifier`, the process-wide
:func:`shared_pool` and :class:`AutoVerifier`, which uses it for the bulk of a
large verification. :meth:`ProcessVerifier.run` runs any other module-level
function on the same workers.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ledger.sigworker import verify_serial

__all__ = [
    "PARALLEL_MIN",
    "READY_MIN",
    "SHARED_PRELOAD",
    "AutoVerifier",
    "BatchVerifier",
    "Done",
    "PendingVerification",
    "ProcessVerifier",
    "Triple",
    "feeding_workers",
    "shared_pool",
    "worker_pool",
]

T = TypeVar("T")

Triple = tuple[bytes, bytes, bytes]
"""``(public_key, signature, message)``."""

BatchVerifier = Callable[[list[Triple]], list[bool]]
"""Verifies many (public_key, signature, message) triples; may fan out to processes.

A verifier that also has ``submit(items)`` returning an object with
``result() -> list[bool]`` (like :class:`ProcessVerifier`) is used
asynchronously: the caller goes on while the checks run."""


class PendingVerification(Protocol):
    def result(self) -> list[bool]: ...


class Done:
    """A verification already finished."""

    def __init__(self, value: list[bool]) -> None:
        self.value = value

    def result(self) -> list[bool]:
        return self.value

    def done(self) -> bool:
        return True


class _Gathered:
    """Verification running in parts on worker processes; results in input order.

    :meth:`take_back` checks on this core the parts no worker has started yet."""

    def __init__(self, futures: list[Future[list[bool]]], parts: list[list[Triple]]) -> None:
        self.futures = futures
        self.parts = parts

    def take_back(self) -> bool:
        """Check here, last first, every part not done yet; whether all were done here.

        A part still queued for the workers is withdrawn (``Future.cancel``) and
        checked on this core; one a worker has taken is checked here too, from its
        end in pieces of :data:`TAKE_BACK_PIECE`, until the worker's verdicts come
        (then those are used). So a caller with nothing else to do shares the
        checks left instead of waiting for them. Verdicts are the same either way."""
        all_here = True
        for i in range(len(self.futures) - 1, -1, -1):
            f = self.futures[i]
            if f.done():
                all_here = False
                continue
            part = self.parts[i]
            if f.cancel():
                verdicts = verify_serial(part)
            else:
                pieces: list[list[bool]] = []
                end = len(part)
                while end > 0 and not f.done():
                    pieces.append(verify_serial(part[max(0, end - TAKE_BACK_PIECE) : end]))
                    end -= TAKE_BACK_PIECE
                if end > 0:  # the worker finished first
                    all_here = False
                    continue
                verdicts = [ok for piece in reversed(pieces) for ok in piece]
            here: Future[list[bool]] = Future()
            here.set_result(verdicts)
            self.futures[i] = here
        return all_here

    def result(self) -> list[bool]:
        out: list[bool] = []
        for f in self.futures:
            out.extend(f.result())
        return out

    def done(self) -> bool:
        return all(f.done() for f in self.futures)


TAKE_BACK_PIECE = 64
"""Checks :meth:`_Gathered.take_back` makes at a time on a part a worker is checking too."""


BULK_NICE = 5
"""Niceness of the worker processes of a bulk command (``custody submit``, ``custody
epcis import``): the appending process is the one sequential stage of those
pipelines, so when it and a worker both want a core, the appender gets it (blocks
it still has to append do not pile up, nor are many left at the end). A
moderate value: the workers also yield to other work on the machine (with a
busy-looping process beside it, a 100,000-envelope submit took 12.7 s at 0,
15.4 s at 5 and 16.2 s at 10; docs/benchmarks.md)."""


BULK_GC_THRESHOLD = 1_000_000
"""Objects left alive since the last young-generation collection that start the
next, in a bulk command's processes (700 by default). Their batches in flight
hold some 10^4 to 10^5 objects, freed by reference counting; a lower threshold
had the collector walk them again and again (a tenth of the appending process's
CPU, 8% of a worker's). It still runs should that many objects be left alive."""


def bulk_collector() -> None:
    """The cyclic collector of a bulk command's process: what exists now (the
    imports) out of every collection, the young generation at :data:`BULK_GC_THRESHOLD`."""
    gc.freeze()
    gc.set_threshold(BULK_GC_THRESHOLD)


def worker_pool(
    workers: int, preload: str | tuple[str, ...], *, bulk: bool = False
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started by ``forkserver`` with ``preload`` imported;
    with ``bulk``, the workers of a bulk command (:data:`BULK_NICE` below the caller's
    priority, :func:`bulk_collector`).

    ``forkserver`` (else ``spawn``): a threaded caller forks nothing it holds, workers
    start with ``preload`` (the work's module, or modules) loaded, and the caller's
    ``__main__`` is never run again. Every worker pool of the project starts here."""
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    context = mp.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([preload] if isinstance(preload, str) else list(preload))
    if bulk:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_bulk_worker)
    return ProcessPoolExecutor(workers, mp_context=context)


def _bulk_worker() -> None:
    """A bulk command's worker starts: below its parent's priority (where the OS
    allows it), its collector as :func:`bulk_collector` sets it."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(BULK_NICE)
    bulk_collector()


class ProcessVerifier:
    """A :data:`BatchVerifier` that fans out to worker processes.

    libsodium itself releases the GIL but the Python around each call does not,
    so threads gain little; processes scale with the cores. :meth:`submit`
    returns at once. The pool starts on first use (``forkserver``, so a
    multi-threaded server forks nothing it holds; the server preloads this module,
    not ``__main__``); :meth:`close` stops it.
    """

    def __init__(
        self,
        workers: int,
        *,
        min_parallel: int = 64,
        preload: tuple[str, ...] = (verify_serial.__module__,),
        bulk: bool = False,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.min_parallel = min_parallel
        self.preload = preload
        self.bulk = bulk
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # by default the worker's module only (the key code), not the statement models
                self._pool = worker_pool(self.workers, self.preload, bulk=self.bulk)
            return self._pool

    def run(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker (module-level ``fn``, picklable arguments)."""
        return self._executor().submit(fn, *args)

    def start(self, *, wait: bool = True) -> None:
        """Start every worker process now rather than during the first batches (and
        with ``wait``, return once they run)."""
        pool = self._executor()
        started = [pool.submit(verify_serial, []) for _ in range(self.workers)]
        if wait:
            for f in started:
                f.result()

    def submit(self, items: list[Triple]) -> PendingVerification:
        if len(items) < self.min_parallel:
            return Done(verify_serial(items))
        pool = self._executor()
        step = -(-len(items) // (2 * self.workers))  # two parts a worker: they share the cores
        parts = [items[i : i + step] for i in range(0, len(items), step)]
        return _Gathered([pool.submit(verify_serial, part) for part in parts], parts)

    def __call__(self, items: list[Triple]) -> list[bool]:
        return self.submit(items).result()

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers (after the work handed over, or with ``cancel`` after
        what they have started only); the next use starts them again."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(cancel_futures=cancel)


SHARED_PRELOAD = ("ledger.sigworker",)
"""What :func:`shared_pool`'s workers load before their first task (the signature check)."""

PARALLEL_MIN = 1024
"""Checks an :class:`AutoVerifier` runs on this core before it starts the shared pool."""


class _Shared:
    """The process-wide pool of :func:`shared_pool` and whether its workers are up."""

    pool: ProcessVerifier | None = None
    ready = threading.Event()
    lock = threading.Lock()


def shared_pool() -> ProcessVerifier | None:
    """The process-wide pool of one worker per core but this one; ``None`` until it is up.

    The first call starts it on a background thread (worker start-up is not paid by
    the caller) and returns ``None``; later calls return it once every worker runs.
    Its processes end with the interpreter. ``None`` on a single core and where
    workers would run the caller's script again (:func:`_main_is_guarded`).
    """
    cores = os.cpu_count() or 1
    if cores < 2 or not _main_is_guarded():
        return None
    with _Shared.lock:
        if _Shared.pool is None:
            _Shared.pool = ProcessVerifier(cores - 1, preload=SHARED_PRELOAD)
            threading.Thread(target=_start_shared, args=(_Shared.pool,), daemon=True).start()
    return _Shared.pool if _Shared.ready.is_set() else None


@cache
def _main_is_guarded() -> bool:
    """Whether worker processes can start here without running the caller's script again.

    A new worker imports ``__main__`` again from its file (multiprocessing's
    ``spawn`` and ``forkserver``): safe when there is no file (an interactive
    session) or the file guards its work with ``if __name__ == "__main__"`` (the
    ``custody`` command, pytest, the benchmarks); a script without the guard keeps
    every check on this core. Never inside a worker itself.
    """
    if mp.parent_process() is not None:
        return False
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if path is None:
        return True
    try:
        source = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return _GUARD.search(source) is not None


_GUARD = re.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.MULTILINE)


def _start_shared(pool: ProcessVerifier) -> None:
    try:
        pool.start()
    except Exception:  # noqa: BLE001 (no pool: every check stays on this core)
        return
    _Shared.ready.set()


READY_MIN = 256
"""A batch at least this large goes to :func:`shared_pool`'s workers when they are up already."""


class AutoVerifier:
    """A :data:`BatchVerifier` for one verification: this core first, worker processes
    for the bulk (see the module docstring).

    Up to :data:`PARALLEL_MIN` checks (a small trace) run here, as
    :func:`verify_serial` would; past that the checks go to :func:`shared_pool` as
    soon as its workers are up (until then, here). A batch of :data:`READY_MIN` or
    more goes to the workers at once when an earlier verification started them;
    ``expected``, the number of checks a verification will ask for, starts them at
    construction when it is over ``parallel_min``. Verdicts are the same either way.
    """

    def __init__(self, parallel_min: int = PARALLEL_MIN, *, expected: int = 0) -> None:
        self.parallel_min = parallel_min
        self.asked = 0
        if expected > parallel_min:  # a large verification: start the workers right away
            shared_pool()

    def submit(self, items: list[Triple]) -> PendingVerification:
        self.asked += len(items)
        if self.asked > self.parallel_min:
            pool = shared_pool()
        elif len(items) >= READY_MIN and _Shared.ready.is_set():
            pool = _Shared.pool  # workers already up: this core keeps its time for the rest
        else:
            pool = None
        if pool is None:
            return Done(verify_serial(items))
        return pool.submit(items)

    def __call__(self, items: list[Triple]) -> list[bool]:
        return self.submit(items).result()


HANDOFF_INTERVAL = 0.0005
"""The interpreter's thread switch interval (seconds) while :func:`feeding_workers`."""


class _Handoff:
    lock = threading.Lock()
    depth = 0
    saved = 0.0


@contextmanager
def feeding_workers() -> Iterator[None]:
    """Hand the interpreter lock over sooner while a busy thread feeds worker processes.

    A process pool is fed and drained by background threads (pickling the next
    batch, putting it on the workers' queue, taking results back) that need the
    interpreter lock, which a thread busy parsing and replaying keeps for the
    switch interval (5 ms by default) at a time; a worker then waits between its
    batches. For the span of the block (nested and concurrent uses: the first in
    sets it, the last out restores it) the interval is :data:`HANDOFF_INTERVAL`.
    """
    with _Handoff.lock:
        if _Handoff.depth == 0:
            _Handoff.saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_Handoff.saved, HANDOFF_INTERVAL))
        _Handoff.depth += 1
    try:
        yield
    finally:
        with _Handoff.lock:
            _Handoff.depth -= 1
            if _Handoff.depth == 0:
                sys.setswitchinterval(_Handoff.saved)
