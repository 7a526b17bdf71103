"""The log asks its witnesses: a background task of ``custody serve``.

Every :attr:`Witnessing.interval` seconds the task reads the latest stored
checkpoint and, for each witness of the home's ``witnesses.json``
(:mod:`ledger.witness.config`) that has not cosigned it yet and is not backing
off, sends ``add-checkpoint`` (c2sp.org/tlog-witness) with a consistency proof
from the size that witness last cosigned (:func:`ledger.proofs.consistency`).
Many appends between two rounds are one request per witness (batched); appends
never wait for witnesses: the task only reads the store and writes the
``cosignatures`` table (:mod:`ledger.store.cosignatures`).

* 200: every cosignature line is checked against the witness's configured key
  over the checkpoint's body before it is stored; an answer that does not
  verify is a failure.
* 409 (``text/x.tlog.size``): the witness holds another size; the request is
  repeated once from that size. A witness that holds a size larger than the
  log's, or refuses the same size, sees another history: that is logged as an
  error (it is what a rolled-back or forked log looks like).
* Anything else, a timeout or a refused connection: the failure is counted and
  logged, and the witness is retried after an exponential back-off
  (:attr:`Witnessing.base_backoff` doubling up to :attr:`Witnessing.max_backoff`).

``witnesses.json`` is re-read when it changes (its mtime, size or inode, looked
at before every round): a witness added with ``custody witness add`` is asked
from the next round, a removed one no longer, without restarting the server. A
file that no longer parses is logged as an error and the witnesses in use are
kept until it is fixed.

:meth:`Witnessing.status` is what ``GET /v1/witnesses`` and the health check
report: per witness ``status`` (``ok``/``failing``), ``reason`` of the last
failure (``unreachable``: down or timed out; ``refused``: an HTTP error status,
e.g. 403 when it does not trust the log's key, 422 for a proof; ``bad_cosignature``:
a 200 whose lines do not verify under its key; ``conflict``: it holds another
history) and ``last_error``, the same text as the warning in the server log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from anyio import to_thread

from ledger import proofs
from ledger.cosignature import count_cosigners
from ledger.errors import CustodyError
from ledger.note import split_note
from ledger.store import Store
from ledger.store.cosignatures import ensure_table, latest_by_witness, store_cosignature
from ledger.witness.config import WITNESSES_FILE, WitnessEndpoint, load_witnesses
from ledger.witness.protocol import SIZE_TYPE, format_request

__all__ = ["WitnessState", "Witnessing"]

log = logging.getLogger("custody.witnessing")


@dataclass
class WitnessState:
    """What the log knows of one witness."""

    endpoint: WitnessEndpoint
    cosigned_size: int = 0
    """The largest checkpoint size this witness cosigned (0: none yet)."""
    last_success: float | None = None
    last_error: str | None = None
    reason: str | None = None
    """Kind of the last failure: unreachable, refused, bad_cosignature, conflict."""
    last_error_at: float | None = None
    failures: int = 0
    """Consecutive failures (0 after a success)."""
    next_attempt: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            **self.endpoint.to_json(),
            "cosigned_size": self.cosigned_size,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "reason": self.reason if self.failures else None,
            "last_error_at": self.last_error_at,
            "consecutive_failures": self.failures,
            "status": "ok" if self.failures == 0 else "failing",
        }


class _WitnessError(Exception):
    def __init__(self, message: str, reason: str = "refused") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Witnessing:
    """The background task that submits checkpoints to the configured witnesses."""

    store: Store
    witnesses: list[WitnessEndpoint]
    interval: float = 0.5
    timeout: float = 10.0
    base_backoff: float = 1.0
    max_backoff: float = 60.0
    transport: httpx.AsyncBaseTransport | None = None
    """How requests reach the witnesses (default: the network)."""
    home: Path | None = None
    """The ledger home whose ``witnesses.json`` is re-read when it changes (None:
    ``witnesses`` is fixed)."""
    states: dict[str, WitnessState] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _client: httpx.AsyncClient | None = None
    _stop: asyncio.Event | None = None
    _stamp: tuple[int, int, int] | None = None

    async def start(self) -> None:
        if not self.witnesses and self.home is None:
            return
        self._stamp = self._config_stamp()
        await self._apply(self.witnesses)
        self._client = httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        )
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="witnessing")
        log.info("asking %d witness(es) to cosign checkpoints", len(self.witnesses))

    # ------------------------------------------------------ witnesses.json

    def _config_stamp(self) -> tuple[int, int, int] | None:
        if self.home is None:
            return None
        try:
            st = (self.home / WITNESSES_FILE).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    async def reload(self) -> bool:
        """Re-read ``witnesses.json`` if it changed since last read; True if it did."""
        stamp = self._config_stamp()
        if self.home is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            found = await to_thread.run_sync(load_witnesses, self.home)
        except CustodyError as e:
            log.error(  # noqa: TRY400 (a bad file, not a bug: no traceback)
                "%s changed but cannot be read (%s); still asking the %d witness(es) in use",
                WITNESSES_FILE,
                e.message,
                len(self.witnesses),
            )
            return False
        await self._apply(found)
        return True

    async def _apply(self, found: list[WitnessEndpoint]) -> None:
        """Make ``found`` the witnesses asked: new ones start from the size they
        cosigned per the ``cosignatures`` table; removed ones are forgotten."""
        wanted = {w.vkey: w for w in found}
        for vkey in [k for k in self.states if k not in wanted]:
            gone = self.states.pop(vkey)
            log.info("witness %s (%s) removed", gone.endpoint.name, gone.endpoint.url)
        new = [w for w in found if w.vkey not in self.states]
        if new:
            await to_thread.run_sync(ensure_table, self.store)
            known = await to_thread.run_sync(self._known_sizes)
            for w in new:
                self.states[w.vkey] = WitnessState(w, cosigned_size=known.get(w.vkey, 0))
                if self._task is not None:
                    log.info("witness %s (%s) added", w.name, w.url)
        for w in found:
            state = self.states[w.vkey]
            if state.endpoint.url != w.url:  # re-pointed: ask the new address at once
                log.info("witness %s now at %s", w.name, w.url)
                state.endpoint, state.next_attempt = w, 0.0
        self.witnesses = list(found)

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def status(self) -> list[dict[str, object]]:
        return [s.to_json() for s in self.states.values()]

    # ------------------------------------------------------------------ loop

    def _known_sizes(self) -> dict[str, int]:
        with self.store.read() as r:
            return latest_by_witness(r)

    def _latest(self) -> tuple[int, str] | None:
        with self.store.read() as r:
            return r.latest_checkpoint()

    async def _run(self) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            try:
                await self.reload()
                await self.round()
            except Exception:  # the task must outlive any one round's surprise
                log.exception("witnessing round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def round(self) -> None:
        """Submit the latest checkpoint to every witness that is behind and due."""
        now = time.monotonic()
        ready = [s for s in self.states.values() if s.next_attempt <= now]
        if not ready:
            return
        olds = sorted({s.cosigned_size for s in ready})
        snapshot = await to_thread.run_sync(self._snapshot, olds)
        if snapshot is None:
            return
        size, note, known = snapshot
        due = [s for s in ready if s.cosigned_size < size]
        if due:
            await asyncio.gather(*(self._submit(s, size, note, known) for s in due))

    def _snapshot(self, olds: list[int]) -> tuple[int, str, dict[int, list[bytes]]] | None:
        """The latest checkpoint and, from the same read, the consistency proofs to it
        from each size in ``olds`` (witnesses at one size share one proof)."""
        with self.store.read() as r:
            latest = r.latest_checkpoint()
            if latest is None:
                return None
            size, note = latest
            found: dict[int, list[bytes]] = {0: []}
            try:
                for old in olds:
                    if 0 < old < size:
                        found[old] = list(proofs.consistency(r, old, size).proof)
            except CustodyError:  # asked again, one by one, in _ask
                found = {0: []}
        return size, note, found

    async def _submit(
        self, state: WitnessState, size: int, note: str, known: dict[int, list[bytes]]
    ) -> None:
        try:
            await self._ask(state, size, note, known)
        except (_WitnessError, httpx.HTTPError, CustodyError) as e:
            if isinstance(e, _WitnessError):
                reason, message = e.reason, str(e)
            elif isinstance(e, httpx.HTTPError):
                reason = "unreachable"
                message = f"unreachable: {type(e).__name__} {e!s}".rstrip()
            else:
                reason, message = "refused", e.message
            state.failures += 1
            state.reason = reason
            state.last_error, state.last_error_at = message, time.time()
            delay = min(self.max_backoff, self.base_backoff * 2 ** (state.failures - 1))
            state.next_attempt = time.monotonic() + delay
            log.warning(
                "witness %s (%s) did not cosign size %d: %s; retrying in %.0fs",
                state.endpoint.name,
                state.endpoint.url,
                size,
                message,
                delay,
            )
        else:
            state.failures, state.next_attempt = 0, 0.0
            state.last_success = time.time()

    async def _ask(
        self, state: WitnessState, size: int, note: str, known: dict[int, list[bytes]]
    ) -> None:
        assert self._client is not None
        w = state.endpoint
        old = state.cosigned_size
        for _ in range(2):
            if old > size:
                newest = await to_thread.run_sync(self._latest)
                if newest is not None and newest[0] >= old:
                    # another worker of this server got it there first: not a conflict
                    state.cosigned_size = max(state.cosigned_size, old)
                    return
                raise _WitnessError(
                    f"the witness holds size {old}, larger than the log's {size}: it has "
                    "seen another history of this log (split view or rollback)",
                    "conflict",
                )
            proof = known.get(old)
            if proof is None:
                proof = await to_thread.run_sync(self._proof, old, size)
            body = format_request(old, proof, note)
            resp = await self._client.post(f"{w.url}/add-checkpoint", content=body)
            if resp.status_code == 200:
                await self._keep(state, size, note, resp.text)
                return
            if resp.status_code == 409 and resp.headers.get("content-type", "").startswith(
                SIZE_TYPE
            ):
                held = _size(resp.text)
                if held == old:
                    raise _WitnessError(
                        f"the witness refuses size {size} with the root it holds for size {held}: "
                        "it has seen another history of this log (split view)",
                        "conflict",
                    )
                old = held
                continue
            raise _WitnessError(
                f"refused with HTTP {resp.status_code}: {resp.text.strip()[:300]}", "refused"
            )
        raise _WitnessError(f"the witness keeps answering 409 (it holds size {old})")

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0:
            return []
        with self.store.read() as r:
            return list(proofs.consistency(r, old, size).proof)

    async def _keep(self, state: WitnessState, size: int, note: str, answer: str) -> None:
        w = state.endpoint
        lines = [line + "\n" for line in answer.split("\n") if line]
        text, _ = split_note(note)
        valid: tuple[str, int] | None = None
        for line in lines:
            try:
                counted = count_cosigners(text + "\n" + line, [w.verifier])
            except CustodyError:
                continue
            if counted.valid:
                valid = (line, counted.valid[0][1])
                break
        if valid is None:
            raise _WitnessError(
                "bad cosignature: the answer holds no cosignature line that verifies under "
                "the witness's configured key",
                "bad_cosignature",
            )
        await to_thread.run_sync(store_cosignature, self.store, size, w.vkey, valid[0], valid[1])
        state.cosigned_size = size
        log.info("witness %s cosigned size %d", w.name, size)


def _size(text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise _WitnessError(f"409 with a body that is not a tree size: {value[:40]!r}")
    return int(value)
