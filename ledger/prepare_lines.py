"""Steps 1 and 2 of the append pipeline for JSON lines, on worker processes (bulk ingest).

:class:`LinePreparer` hands blocks of JSON lines (raw UTF-8 bytes, whole lines)
to worker processes. Each worker parses the envelopes and statements, names
missing or foreign DSSE keyids, checks every signature whose key is already
registered (it reads the keys from the same database) and sends back only what
the appending process needs, packed by :func:`_pack` (through
:mod:`ledger.packing`) so that unpacking costs a fraction of parsing again: per
statement the parsed model, the envelope as the leaf holds it, the signed bytes
and the ``(keyid, sig)`` pairs; the verdicts; and what the batch will read from
the state. :func:`unpack` turns that back
into the :class:`ledger.prepare.Prepared` that :meth:`ledger.log.Ledger._finish`
appends, so the outcome is the one :func:`ledger.prepare.prepare` gives for the
same envelopes (a signature by a key that earlier batches in flight register
is checked under the lock, as there).

A line is an item as :func:`ledger.envelope.parse_envelopes` reads JSON lines:
blank lines are skipped, a line that is no envelope is that line's error.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from ledger.envelope import parse_envelope
from ledger.errors import EnvelopeError
from ledger.packing import dumps, loads
from ledger.prepare import Item, Known, Parsed, Prepared, prepare
from ledger.sigcheck import Memo, ProcessVerifier, Triple, verify_serial
from ledger.store import Store

__all__ = ["LinePreparer", "parse_lines", "unpack"]


def parse_lines(block: bytes) -> list[Item]:
    """The items of a block of whole JSON lines (blank lines skipped)."""
    out: list[Item] = []
    for text in block.decode("utf-8").splitlines():
        if text.strip():
            try:
                out.append(parse_envelope(text))
            except EnvelopeError as e:
                out.append(e)
    return out


class LinePreparer:
    """Worker processes preparing blocks of JSON lines for the ledger at ``url``.

    :meth:`submit` returns at once; :func:`unpack` the future's result. The
    pool starts on first use (``forkserver``, this module preloaded); :meth:`close`
    stops it.
    """

    def __init__(self, url: str, workers: int) -> None:
        self.url = url
        self.workers = workers
        self._pool = ProcessVerifier(workers, preload=(__name__,))

    def submit(self, block: bytes) -> Future[bytes]:
        """Start preparing ``block`` (whole UTF-8 JSON lines) on a worker."""
        return self._pool.run(_prepare_block, self.url, block)

    def close(self) -> None:
        self._pool.close(cancel=True)


# ---------------------------------------------------------------- in the worker

_STORES: dict[str, Store] = {}


def _prepare_block(url: str, block: bytes) -> bytes:
    store = _STORES.get(url)
    if store is None:
        store = _STORES[url] = Store(url)
    prepared = prepare(store, verify_serial, parse_lines(block))
    memo = prepared.signatures.memo()
    return _pack(prepared, memo)


_Record = tuple[int, Any, bytes, tuple[tuple[str, bytes], ...], bytes]
"""``(index, statement, envelope_json, signatures, pae)`` of one parsed statement."""


def _pack(prepared: Prepared, memo: Memo) -> bytes:
    position = {p.pae: i for i, p in enumerate(prepared.parsed)}
    verdicts = [(pk, sig, position[msg], ok) for (pk, sig, msg), ok in memo.known.items()]
    records: list[_Record] = [
        (p.index, p.statement, p.envelope_json, p.signatures, p.pae) for p in prepared.parsed
    ]
    return dumps((prepared.results, records, verdicts, prepared.needs))


# ---------------------------------------------------------------- in the appender


def unpack(data: bytes) -> Prepared:
    """The :class:`~ledger.prepare.Prepared` a worker packed (see the module docstring)."""
    results, records, verdicts, needs = loads(data)
    parsed = [
        Parsed(index, None, statement, envelope_json, signatures, pae)
        for index, statement, envelope_json, signatures, pae in records
    ]
    known: dict[Triple, bool] = {(pk, sig, parsed[i].pae): ok for pk, sig, i, ok in verdicts}
    return Prepared(results, parsed, Known(known), needs)
