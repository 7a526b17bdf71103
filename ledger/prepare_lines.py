"""Steps 1 and 2 of the append pipeline for JSON lines, on worker processes (bulk ingest).

:class:`LinePreparer` hands blocks of JSON lines (raw UTF-8 bytes, whole lines)
to worker processes. Each worker parses the envelopes, names missing or
foreign DSSE keyids (parsing the statement only for those), checks every
signature whose key is already registered (it reads the keys from the same
database) and sends back plain bytes and tuples: per envelope the envelope as
the leaf holds it, the ``(keyid, sig)`` pairs and the signed bytes; the
verdicts; the lines that are no envelope. :func:`unpack`, in the appending
process, parses each statement from the signed bytes and returns the
:class:`ledger.prepare.Prepared` that :meth:`ledger.log.Ledger._finish` appends,
so the outcome is the one :func:`ledger.prepare.prepare` gives for the same
envelopes (a signature by a key that earlier batches in flight register is
checked under the lock, as there).

The statements are parsed where they are used: parsing one with the fast path
(:mod:`ledger.statements.fast`) costs about what unpickling the parsed models
did, and the worker no longer parses and pickles them, which measured an
eighth of the whole ``custody submit``'s CPU (docs/benchmarks.md).

A line is an item as :func:`ledger.envelope.parse_envelopes` reads JSON lines:
blank lines are skipped, a line that is no envelope is that line's error.
"""

from __future__ import annotations

import pickle
from concurrent.futures import Future

from ledger.custody import KeyRecord, prefetch_needs
from ledger.envelope import Envelope, parse_envelope
from ledger.errors import CustodyError, EnvelopeError, InputError
from ledger.keys import is_valid_signature
from ledger.leaf import envelope_json
from ledger.prepare import Item, Known, Parsed, Prepared, SubmitResult, name_keys
from ledger.sigcheck import ProcessVerifier, Triple
from ledger.statements import parse_statement, statement_digest
from ledger.store import ReadTx, Store

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
        self._pool = ProcessVerifier(workers, preload=(__name__,), bulk=True)

    def submit(self, block: bytes) -> Future[bytes]:
        """Start preparing ``block`` (whole UTF-8 JSON lines) on a worker."""
        return self._pool.run(_prepare_block, self.url, block)

    def close(self) -> None:
        self._pool.close(cancel=True)


# ---------------------------------------------------------------- in the worker

_STORES: dict[str, Store] = {}

_Record = tuple[int, bytes, tuple[tuple[str, bytes], ...], bytes, int]
"""``(index, envelope_json, signatures, pae, payload offset in pae)`` of one envelope."""


def _prepare_block(url: str, block: bytes) -> bytes:
    store = _STORES.get(url)
    if store is None:
        store = _STORES[url] = Store(url)
    items = parse_lines(block)
    errors: list[tuple[int, CustodyError]] = []
    envelopes: list[tuple[int, Envelope]] = []
    for i, item in enumerate(items):
        if isinstance(item, Envelope):
            envelopes.append((i, item))
        else:
            errors.append((i, item))
    records: list[_Record] = []
    verdicts: list[tuple[bytes, bytes, int, bool]] = []
    if envelopes:
        with store.read() as r:
            keys = r.keys_by_kid(s.keyid for _, e in envelopes for s in e.signatures)
            for i, env in envelopes:
                if any(s.keyid not in keys for s in env.signatures):
                    env = _named(env, r, keys)
                message = env.pae
                position = len(records)
                for s in env.signatures:
                    rec = keys.get(s.keyid)
                    if rec is not None:
                        ok = is_valid_signature(rec.public_key, s.sig, message)
                        verdicts.append((rec.public_key, s.sig, position, ok))
                sigs = tuple((s.keyid, s.sig) for s in env.signatures)
                offset = len(message) - len(env.payload)
                records.append((i, envelope_json(env), sigs, message, offset))
    return pickle.dumps((len(items), errors, records, verdicts), pickle.HIGHEST_PROTOCOL)


def _named(env: Envelope, r: ReadTx, keys: dict[str, KeyRecord]) -> Envelope:
    """:func:`ledger.prepare.name_keys` of ``env``, whose statement is parsed for it;
    ``env`` itself when the statement does not parse (the appender reports that)."""
    try:
        stmt = parse_statement(env.payload)
    except InputError:
        return env
    return name_keys(env, stmt, r, keys)


# ---------------------------------------------------------------- in the appender


def unpack(data: bytes) -> Prepared:
    """The :class:`~ledger.prepare.Prepared` of a block a worker prepared: each
    statement parsed here, from the signed bytes (see the module docstring)."""
    count, errors, records, verdicts = pickle.loads(data)  # noqa: S301 (our own worker)
    results: list[SubmitResult | None] = [None] * count
    for i, error in errors:
        results[i] = SubmitResult(None, error=error)
    parsed: list[Parsed] = []
    at: list[int] = []  # record -> its position in `parsed`, or -1
    for index, env_json, signatures, message, offset in records:
        payload = message[offset:]
        try:
            stmt = parse_statement(payload)
        except InputError as e:
            results[index] = SubmitResult(statement_digest(payload), error=e)
            at.append(-1)
            continue
        at.append(len(parsed))
        parsed.append(Parsed(index, None, stmt, env_json, signatures, message))
    known: dict[Triple, bool] = {
        (pk, sig, parsed[at[i]].pae): ok for pk, sig, i, ok in verdicts if at[i] >= 0
    }
    keyids = (kid for p in parsed for kid, _ in p.signatures)
    needs = prefetch_needs([p.statement for p in parsed], keyids)
    return Prepared(results, parsed, Known(known), needs)
