"""The one memoised Ed25519 signature check, and verification fanned out to processes.

Checking signatures is the expensive part of appending and of verifying a
trace, so both start the checks early, in batches, and look the verdicts up
later. The verdict is a pure function of the whole triple ``(public key,
signature, message)``: a :class:`Memo` is keyed by all three, so a signature
copied onto other bytes never borrows the verdict of the envelope it was taken
from (an earlier copy of this code keyed it without the message).

* :data:`BatchVerifier`: checks many triples at once; :func:`verify_serial`
  (:mod:`ledger.sigworker`, what worker processes run) does so on this core,
  :class:`ProcessVerifier` on worker processes.
* :class:`Batch`: triples queued, sent to a verifier in chunks (asynchronously
  when it has ``submit``), then gathered into a :class:`Memo`.
* :class:`Memo`: the :data:`ledger.custody.SigCheck` the state machine calls;
  a triple nobody checked ahead is checked on the spot and remembered.
* :class:`Preverified`: a :class:`Batch` fed with the entries of some evidence
  in seq order, learning the parties' keys from their ``party`` and ``key``
  statements as it goes (verification of a trace, :mod:`provenance.replay`).
* :class:`AutoVerifier`: checks on this core, and once a verification has asked
  for more than :data:`PARALLEL_MIN` checks, also on :func:`shared_pool`'s worker
  processes (started in the background, used once they are up), so that the
  checks of a large trace run on the other cores while this one parses.

Every check ends in :func:`ledger.keys.is_valid_signature` (libsodium).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Protocol

from ledger.keys import is_valid_signature, kid_of
from ledger.sigworker import verify_serial
from ledger.statements import Key, Party, Statement

__all__ = [
    "PARALLEL_MIN",
    "READY_MIN",
    "AutoVerifier",
    "Batch",
    "BatchVerifier",
    "Memo",
    "PendingVerification",
    "Preverified",
    "ProcessVerifier",
    "SignedEntry",
    "Triple",
    "preverify",
    "shared_pool",
    "start",
    "verify_serial",
]

Triple = tuple[bytes, bytes, bytes]
"""``(public_key, signature, message)``."""

BatchVerifier = Callable[[list[Triple]], list[bool]]
"""Verifies many (public_key, signature, message) triples; may fan out to processes.

A verifier that also has ``submit(items)`` returning an object with
``result() -> list[bool]`` (like :class:`ProcessVerifier`) is used
asynchronously: the caller goes on while the checks run."""


class PendingVerification(Protocol):
    def result(self) -> list[bool]: ...


class _Done:
    """A verification already finished."""

    def __init__(self, value: list[bool]) -> None:
        self.value = value

    def result(self) -> list[bool]:
        return self.value


class _Gathered:
    """Verification running in parts on worker processes; results in input order."""

    def __init__(self, futures: list[Future[list[bool]]]) -> None:
        self.futures = futures

    def result(self) -> list[bool]:
        out: list[bool] = []
        for f in self.futures:
            out.extend(f.result())
        return out


def start(verifier: BatchVerifier, items: list[Triple]) -> PendingVerification:
    """Start checking ``items``: in the background if ``verifier`` has ``submit``."""
    if not items:
        return _Done([])
    submit = getattr(verifier, "submit", None)
    if callable(submit):
        pending: PendingVerification = submit(items)
        return pending
    return _Done(verifier(items))


def worker_pool(workers: int, preload: str) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started by ``forkserver`` with ``preload`` imported.

    ``forkserver`` (else ``spawn``): a threaded caller forks nothing it holds, workers
    start with ``preload`` (the work's module) loaded, and the caller's ``__main__``
    is never run again. Every worker pool of the project starts here."""
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    context = mp.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([preload])
    return ProcessPoolExecutor(workers, mp_context=context)


class ProcessVerifier:
    """A :data:`BatchVerifier` that fans out to worker processes.

    libsodium itself releases the GIL but the Python around each call does not,
    so threads gain little; processes scale with the cores. :meth:`submit`
    returns at once. The pool starts on first use (``forkserver``, so a
    multi-threaded server forks nothing it holds; the server preloads this module,
    not ``__main__``); :meth:`close` stops it.
    """

    def __init__(self, workers: int, *, min_parallel: int = 64) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.min_parallel = min_parallel
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # the worker's module only (the key code), not the statement models
                self._pool = worker_pool(self.workers, verify_serial.__module__)
            return self._pool

    def start(self) -> None:
        """Start every worker process now rather than during the first batches."""
        pool = self._executor()
        for f in [pool.submit(verify_serial, []) for _ in range(self.workers)]:
            f.result()

    def submit(self, items: list[Triple]) -> PendingVerification:
        if len(items) < self.min_parallel:
            return _Done(verify_serial(items))
        pool = self._executor()
        step = -(-len(items) // (2 * self.workers))  # two parts a worker: they share the cores
        return _Gathered(
            [pool.submit(verify_serial, items[i : i + step]) for i in range(0, len(items), step)]
        )

    def __call__(self, items: list[Triple]) -> list[bool]:
        return self.submit(items).result()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()


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
            _Shared.pool = ProcessVerifier(cores - 1)
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
            return _Done(verify_serial(items))
        return pool.submit(items)

    def __call__(self, items: list[Triple]) -> list[bool]:
        return self.submit(items).result()


class Memo:
    """A memoised signature check keyed by the whole ``(public key, signature, message)``.

    Called as ``memo(public_key, signature, message) -> bool`` (a
    :data:`ledger.custody.SigCheck`); a triple not known yet is checked with
    ``check`` and remembered.
    """

    __slots__ = ("check", "known")

    def __init__(
        self,
        known: dict[Triple, bool] | None = None,
        check: Callable[[bytes, bytes, bytes], bool] = is_valid_signature,
    ) -> None:
        self.known: dict[Triple, bool] = {} if known is None else known
        self.check = check

    def __call__(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        triple = (public_key, signature, message)
        ok = self.known.get(triple)
        if ok is None:
            ok = self.check(public_key, signature, message)
            self.known[triple] = ok
        return ok


class Batch:
    """Signature checks started ahead; :meth:`memo` waits for them and returns a :class:`Memo`.

    :meth:`add` queues a triple; every ``chunk`` triples (or at :meth:`send`)
    the queue goes to ``verifier``, which works in other processes meanwhile
    if it has ``submit``. Without ``chunk``, everything goes at :meth:`send`.
    """

    def __init__(self, verifier: BatchVerifier, chunk: int | None = None) -> None:
        self.verifier = verifier
        self.chunk = chunk
        self._queue: list[Triple] = []
        self._parts: list[tuple[list[Triple], PendingVerification]] = []

    def add(self, public_key: bytes, signature: bytes, message: bytes) -> None:
        self._queue.append((public_key, signature, message))
        if self.chunk is not None and len(self._queue) >= self.chunk:
            self.send()

    def send(self) -> None:
        """Start checking what is queued."""
        items, self._queue = self._queue, []
        if items:
            self._parts.append((items, start(self.verifier, items)))

    def memo(self, check: Callable[[bytes, bytes, bytes], bool] = is_valid_signature) -> Memo:
        """Wait for every check sent (sending the rest first); ``check`` judges the others."""
        self.send()
        known: dict[Triple, bool] = {}
        for items, pending in self._parts:
            known.update(zip(items, pending.result(), strict=True))
        return Memo(known, check)


class SignedEntry(Protocol):
    """An entry of some evidence: its seq, statement, ``(keyid, sig)`` pairs and signed bytes."""

    @property
    def seq(self) -> int: ...

    @property
    def statement(self) -> Statement: ...

    @property
    def signatures(self) -> tuple[tuple[str, bytes], ...]: ...

    @property
    def pae(self) -> bytes: ...


PREVERIFY_CHUNK = 1024
"""Signatures sent to the verifier at a time while the evidence is read."""


class Preverified:
    """Signature checks of some evidence started ahead; :meth:`result` waits for them.

    Feed it entries in seq order (:meth:`add`): it learns each party's keys from
    the ``party`` and ``key`` statements as they come and queues every
    signature by a key already seen (a key is registered before it signs).
    Every :data:`PREVERIFY_CHUNK` signatures go to ``verifier`` (through a
    :class:`Batch`): one with ``submit(items)`` (:class:`ProcessVerifier`)
    works in other processes while the caller goes on reading; a plain
    callable runs at once. The result only memoises the pure function (key,
    signature, message) → valid; which key counts at which point is still
    judged by whoever replays the evidence.
    """

    def __init__(self, verifier: BatchVerifier) -> None:
        self.verifier = verifier
        self.keys: dict[str, bytes] = {}
        self._batch = Batch(verifier, PREVERIFY_CHUNK)

    def add(self, e: SignedEntry) -> None:
        st = e.statement
        if isinstance(st, Party):
            for pk in st.public_keys:
                self.keys.setdefault(kid_of(pk), pk)
        elif isinstance(st, Key):
            pk = st.public_key_bytes
            self.keys.setdefault(kid_of(pk), pk)
        for kid, sig in e.signatures:
            key = self.keys.get(kid)
            if key is not None:
                self._batch.add(key, sig, e.pae)

    def result(self, check: Callable[[bytes, bytes, bytes], bool] = is_valid_signature) -> Memo:
        """The memoised check: the verdicts started ahead; ``check`` judges any other."""
        return self._batch.memo(check)


def preverify(entries: Iterable[SignedEntry], verifier: BatchVerifier) -> Preverified:
    """Start checking every signature by a key that the evidence registers (in seq order)."""
    pre = Preverified(verifier)
    for e in sorted(entries, key=lambda e: e.seq):
        pre.add(e)
    return pre
