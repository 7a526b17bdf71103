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
* :class:`Guess`: a check that does not wait for the batch: what is not known
  yet counts as valid and is written down; :meth:`Guess.confirm` waits and says
  whether every guess held (else the work that relied on them is done again with
  the :class:`Memo`), so a verification replays custody while its signatures
  are still being checked elsewhere.
* :class:`Preverified`: a :class:`Batch` fed with the entries of some evidence
  in seq order, learning the parties' keys from their ``party`` and ``key``
  statements as it goes (verification of a trace, :mod:`provenance.replay`).
* :class:`AutoVerifier` (:mod:`ledger.sigpool`, with the pools): checks on this
  core, and once a verification has asked for more than :data:`PARALLEL_MIN`
  checks, also on :func:`shared_pool`'s worker processes (started in the
  background, used once they are up), so that the checks of a large trace run on
  the other cores while this one parses.

Every check ends in :func:`ledger.keys.is_valid_signature` (libsodium).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from ledger.keys import is_valid_signature, kid_of
from ledger.sigpool import (
    BULK_GC_THRESHOLD,
    BULK_NICE,
    PARALLEL_MIN,
    READY_MIN,
    AutoVerifier,
    BatchVerifier,
    Done,
    PendingVerification,
    ProcessVerifier,
    Triple,
    bulk_collector,
    shared_pool,
    worker_pool,
)
from ledger.sigworker import verify_serial
from ledger.statements import Key, Party, Statement

__all__ = [
    "BULK_GC_THRESHOLD",
    "BULK_NICE",
    "PARALLEL_MIN",
    "READY_MIN",
    "AutoVerifier",
    "Batch",
    "BatchVerifier",
    "Guess",
    "Memo",
    "PendingVerification",
    "Preverified",
    "ProcessVerifier",
    "SignedEntry",
    "Triple",
    "bulk_collector",
    "preverify",
    "shared_pool",
    "start",
    "verify_serial",
    "worker_pool",
]


def start(verifier: BatchVerifier, items: list[Triple]) -> PendingVerification:
    """Start checking ``items``: in the background if ``verifier`` has ``submit``."""
    if not items:
        return Done([])
    submit = getattr(verifier, "submit", None)
    if callable(submit):
        pending: PendingVerification = submit(items)
        return pending
    return Done(verifier(items))


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
        self.known: dict[Triple, bool] = {}
        """Verdicts settled elsewhere (:meth:`Preverified.settle`), part of the memo."""
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
        """Wait for every check sent (sending the rest first); ``check`` judges the others.

        Parts not done yet on worker processes are checked here meanwhile, last
        first (``take_back``, :class:`ledger.sigpool.ProcessVerifier`): this core
        shares the checks left rather than waiting for them."""
        self.send()
        for _, pending in reversed(self._parts):
            take_back = getattr(pending, "take_back", None)
            if callable(take_back):
                take_back()
        known = dict(self.known)
        for items, pending in self._parts:
            known.update(zip(items, pending.result(), strict=True))
        return Memo(known, check)

    def guess(self, check: Callable[[bytes, bytes, bytes], bool] = is_valid_signature) -> Guess:
        """A :class:`Guess` over what is settled now (sending the rest first; no waiting)."""
        self.send()
        return Guess(self, check)

    def settled(self) -> dict[Triple, bool]:
        """The verdicts known without waiting: settled ones, and every part already done."""
        known = dict(self.known)
        for items, pending in self._parts:
            done = getattr(pending, "done", None)
            if callable(done) and done():
                known.update(zip(items, pending.result(), strict=True))
        return known


class Guess:
    """A signature check that does not wait for the checks of a :class:`Batch` still running.

    Called like a :class:`Memo`: a verdict already known is returned; any other
    triple counts as valid and is written down. :meth:`confirm` then waits for the
    batch and checks every guess (a triple nobody checked ahead is checked on the
    spot, as the :class:`Memo` would): ``None`` when every guess held, so that what
    was computed with the guesses is what the :class:`Memo` gives; else that
    :class:`Memo`, to compute it again.
    """

    __slots__ = ("batch", "check", "guessed", "known")

    def __init__(self, batch: Batch, check: Callable[[bytes, bytes, bytes], bool]) -> None:
        self.batch = batch
        self.check = check
        self.known = batch.settled()
        self.guessed: list[Triple] = []

    def __call__(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        triple = (public_key, signature, message)
        ok = self.known.get(triple)
        if ok is None:
            self.guessed.append(triple)
            return True
        return ok

    def confirm(self) -> Memo | None:
        """Wait for the batch; ``None`` if every guess held, else the :class:`Memo`."""
        memo = self.batch.memo(self.check)
        for triple in self.guessed:
            if not memo(*triple):
                return memo
        return None


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

    def __init__(self, verifier: BatchVerifier, keys: Mapping[str, bytes] | None = None) -> None:
        self.verifier = verifier
        self.keys: dict[str, bytes] = dict(keys or {})
        """Public keys by keyid; ``keys`` seeds them (keys the evidence registers)."""
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

    def guess(self, check: Callable[[bytes, bytes, bytes], bool] = is_valid_signature) -> Guess:
        """:meth:`result` without waiting (a :class:`Guess`)."""
        return self._batch.guess(check)


def preverify(entries: Iterable[SignedEntry], verifier: BatchVerifier) -> Preverified:
    """Start checking every signature by a key that the evidence registers (in seq order)."""
    pre = Preverified(verifier)
    for e in sorted(entries, key=lambda e: e.seq):
        pre.add(e)
    return pre
