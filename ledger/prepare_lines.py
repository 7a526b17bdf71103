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

The worker's side imports only the envelope, key and leaf code: the public keys
are read without SQLAlchemy (:func:`ledger.store.peek.public_keys`: ``sqlite3``,
or psycopg on PostgreSQL), and the statement models and the
:class:`~ledger.store.Store` are loaded only for a keyid that is not registered. The fork server
preloads this module, so a worker's first signature check no longer waits for
a third of a second of imports that compete with the appender's own for the
cores (:func:`preload`).
"""

from __future__ import annotations

import pickle
from concurrent.futures import Future
from typing import TYPE_CHECKING

from ledger.envelope import Envelope, envelope_json, parse_envelope
from ledger.errors import CustodyError, EnvelopeError, InputError
from ledger.keys import is_valid_signature
from ledger.sigpool import ProcessVerifier, Triple
from ledger.store import peek

if TYPE_CHECKING:
    from ledger.prepare import Item, Prepared
    from ledger.store import Store

__all__ = ["LinePreparer", "parse_lines", "preload", "unpack"]


def preload(url: str) -> tuple[str, ...]:
    """The modules the fork server of workers preparing for the ledger at ``url``
    imports: this one, and the driver its keys are read with on PostgreSQL."""
    if url.startswith(peek.POSTGRESQL_PREFIXES):
        return (__name__, "psycopg")
    return (__name__,)


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
        self._pool = ProcessVerifier(workers, preload=preload(url), bulk=True)

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
        keys = _public_keys(url, {s.keyid for _, e in envelopes for s in e.signatures})
        _name_keys(url, envelopes, keys)
        for i, env in envelopes:
            message = env.pae
            position = len(records)
            for s in env.signatures:
                pk = keys.get(s.keyid)
                if pk is not None:
                    verdicts.append((pk, s.sig, position, is_valid_signature(pk, s.sig, message)))
            sigs = tuple((s.keyid, s.sig) for s in env.signatures)
            offset = len(message) - len(env.payload)
            records.append((i, envelope_json(env), sigs, message, offset))
    return pickle.dumps((len(items), errors, records, verdicts), pickle.HIGHEST_PROTOCOL)


def _store(url: str) -> Store:
    store = _STORES.get(url)
    if store is None:
        from ledger.store import Store

        store = _STORES[url] = Store(url)
    return store


def _public_keys(url: str, kids: set[str]) -> dict[str, bytes]:
    """The registered public key of each of ``kids``: without SQLAlchemy
    (:func:`ledger.store.peek.public_keys`) where it can, else through the Store.
    Any snapshot will do: a verdict is a function of the key, signature and bytes
    alone, and the appender judges every signature again under the lock."""
    keys = peek.public_keys(url, kids)
    if keys is None:
        with _store(url).read() as r:
            keys = {kid: rec.public_key for kid, rec in r.keys_by_kid(kids).items()}
    return keys


def _name_keys(url: str, envelopes: list[tuple[int, Envelope]], keys: dict[str, bytes]) -> None:
    """Each envelope with a keyid ``keys`` lacks replaced by :func:`ledger.prepare.name_keys`
    of it (its statement parsed for that; left as it is when the statement does not
    parse: the appender reports that), all in one read transaction, and the keys
    named added to ``keys``."""
    unnamed = [
        k for k, (_, e) in enumerate(envelopes) if any(s.keyid not in keys for s in e.signatures)
    ]
    if not unnamed:
        return
    from ledger.prepare import name_keys
    from ledger.statements import parse_statement

    with _store(url).read() as r:
        known = r.keys_by_kid(s.keyid for k in unnamed for s in envelopes[k][1].signatures)
        for k in unnamed:
            index, env = envelopes[k]
            try:
                stmt = parse_statement(env.payload)
            except InputError:
                continue
            envelopes[k] = (index, name_keys(env, stmt, r, known))
    keys.update((kid, rec.public_key) for kid, rec in known.items())


# ---------------------------------------------------------------- in the appender


def unpack(data: bytes) -> Prepared:
    """The :class:`~ledger.prepare.Prepared` of a block a worker prepared: each
    statement parsed here, from the signed bytes (see the module docstring)."""
    from ledger.custody import prefetch_needs
    from ledger.prepare import Known, Parsed, Prepared, SubmitResult
    from ledger.statements import parse_statement, statement_digest

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
