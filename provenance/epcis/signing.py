"""Building and signing the statements of an import, on worker processes for large documents.

Mapping an event needs the ledger (parties, dispatches, what was imported
before) and stays on the importing process; building the statement
(:func:`ledger.statements.build_statement`: canonical encoding and strict
validation) and signing it need only the statement and the key, and are the
larger part of the work per event. :class:`Signer` does them for one chunk at a
time, in order: on the calling process, or split over a process pool
(``forkserver``, one worker per core) so that the next chunks are mapped and
earlier ones appended meanwhile. The results come back in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from ledger.envelope import PAYLOAD_TYPE, Envelope, EnvelopeSignature, pae
from ledger.errors import CustodyError
from ledger.keys import PrivateKey
from ledger.sigcheck import worker_pool
from ledger.statements import build_statement, statement_digest

__all__ = ["Built", "Failed", "Pending", "Signer", "build_and_sign"]

#: ``(type, id, issuer, time, body)`` of one statement
Item = tuple[str, str, str, str, dict[str, Any]]
_PARTS: Final = 2  # parts of a chunk per worker: they share the cores with the ledger


@dataclass(frozen=True, slots=True)
class Built:
    """A statement built and signed."""

    payload: bytes
    signature: bytes
    digest: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A statement that :func:`build_statement` refused."""

    code: str
    message: str
    field: str | None


def build_and_sign(seed: bytes, items: Sequence[Item]) -> list[Built | Failed]:
    """Build and sign ``items`` with the key of ``seed`` (a worker's job)."""
    key = PrivateKey(seed)
    out: list[Built | Failed] = []
    for kind, sid, issuer, time, body in items:
        try:
            payload = build_statement(kind, sid, issuer, time, **body)
        except CustodyError as error:
            field = error.details.get("field")
            out.append(Failed(error.code, error.message, None if field is None else str(field)))
            continue
        signature = key.sign(pae(PAYLOAD_TYPE, payload))
        out.append(Built(payload, signature, statement_digest(payload)))
    return out


class Pending:
    """The results of one chunk, being computed (or computed already)."""

    def __init__(
        self,
        done: list[Built | Failed] | None = None,
        parts: list[Future[list[Built | Failed]]] | None = None,
    ) -> None:
        self._done = done or []
        self._parts = parts or []

    def result(self) -> list[Built | Failed]:
        return self._done + [r for part in self._parts for r in part.result()]


class Signer:
    """Builds and signs chunks of statements with one key (module docstring)."""

    def __init__(self, key: PrivateKey, workers: int = 0, *, bulk: bool = False) -> None:
        """``workers`` = 0: on this process; else a pool of that many processes
        (a bulk command's workers with ``bulk``: :func:`ledger.sigcheck.worker_pool`)."""
        self.key = key
        self.kid = key.kid
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            self._pool = worker_pool(workers, __name__, bulk=bulk)
            self.workers = workers

    def start(self) -> None:
        """Start the worker processes now (without waiting for them), so that they
        boot while the caller reads the document."""
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.submit(build_and_sign, self.key.seed, [])

    def submit(self, items: list[Item]) -> Pending:
        if self._pool is None or len(items) < 64:
            return Pending(done=build_and_sign(self.key.seed, items))
        step = -(-len(items) // (_PARTS * self.workers))
        seed = self.key.seed
        return Pending(
            parts=[
                self._pool.submit(build_and_sign, seed, items[i : i + step])
                for i in range(0, len(items), step)
            ]
        )

    def envelope(self, built: Built) -> Envelope:
        return Envelope(
            PAYLOAD_TYPE, built.payload, (EnvelopeSignature(self.kid, built.signature),)
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
