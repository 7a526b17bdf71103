"""Steps 1 and 2 of the append pipeline (:mod:`ledger.log`), outside the append lock.

Every envelope and statement is parsed; a signature whose DSSE ``keyid`` (only a
hint) is missing or foreign is named by the key that verifies it; every signature
whose key is already registered starts verifying (possibly on worker processes,
:mod:`ledger.sigcheck`). The result, :class:`Prepared`, waits for the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.custody import KeyRecord, Needs, name_signing_keys, prefetch_needs
from ledger.envelope import Envelope, envelope_json
from ledger.errors import CustodyError, InputError
from ledger.sigcheck import Batch, BatchVerifier, Memo, Triple
from ledger.statements import Statement, parse_statement, statement_digest
from ledger.store import ReadTx, Store


@dataclass(frozen=True)
class SubmitResult:
    """One envelope's outcome, in input order."""

    digest: str | None
    seq: int | None = None
    error: CustodyError | None = None
    duplicate: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"digest": self.digest, "error": self.error.to_dict()}
        out: dict[str, Any] = {"digest": self.digest, "seq": self.seq}
        if self.duplicate:
            out["duplicate"] = True
        return out


@dataclass(slots=True)
class Parsed:
    index: int
    envelope: Envelope | None  # while preparing (None once prepared on a worker)
    statement: Statement
    envelope_json: bytes  # the envelope as it is written into the leaf
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, sig), as the state machine takes them
    pae: bytes  # the signed bytes (DSSE pre-authentication encoding)


class Verdicts(Protocol):
    """Signature checks started ahead (:class:`ledger.sigcheck.Batch`, or :class:`Known`)."""

    def memo(self) -> Memo: ...


class Known:
    """Verdicts gathered already (on a worker process, :mod:`ledger.prepare_lines`)."""

    def __init__(self, known: dict[Triple, bool]) -> None:
        self.known = known

    def memo(self) -> Memo:
        return Memo(self.known)


@dataclass
class Prepared:
    """A batch parsed, with its signature checks started, waiting for the append lock."""

    results: list[SubmitResult | None]
    parsed: list[Parsed]
    signatures: Verdicts  # checks of signatures by registered keys, running
    needs: Needs  # what the batch reads from the state (prefetched under the lock)


Item = Envelope | CustodyError


def merged(batches: Sequence[Prepared]) -> Prepared:
    """``batches``, prepared one after the other, as one :class:`Prepared` appended in
    one transaction (the results in order; each batch's verdicts waited for)."""
    if len(batches) == 1:
        return batches[0]
    results: list[SubmitResult | None] = []
    parsed: list[Parsed] = []
    known: dict[Triple, bool] = {}
    parties: set[str] = set()
    kids: set[str] = set()
    lots: set[str] = set()
    holdings: set[tuple[str, str]] = set()
    dispatches: dict[str, set[str]] = {}
    for b in batches:
        for p in b.parsed:
            p.index += len(results)
        results += b.results
        parsed += b.parsed
        known.update(b.signatures.memo().known)
        parties |= b.needs[0]
        kids |= b.needs[1]
        lots |= b.needs[2]
        holdings |= b.needs[3]
        for digest, issuers in b.needs[4].items():
            dispatches.setdefault(digest, set()).update(issuers)
    needs = (parties, kids, lots, holdings, dispatches)
    return Prepared(results, parsed, Known(known), needs)


def name_keys(
    envelope: Envelope, stmt: Statement, r: ReadTx, keys: dict[str, KeyRecord]
) -> Envelope:
    """``envelope`` with missing or foreign keyids named by the key that verifies
    (:func:`ledger.custody.name_signing_keys`; itself when none changes), and the
    keys it names added to ``keys`` (every registered kid among its keyids)."""
    named = name_signing_keys(envelope, stmt, r, known=keys)
    if named is not envelope:
        keys |= r.keys_by_kid(s.keyid for s in named.signatures if s.keyid not in keys)
    return named


def prepare(store: Store, verifier: BatchVerifier, items: Sequence[Item]) -> Prepared:
    """Steps 1 and 2, outside the lock: parse, then start verifying every
    signature whose key is already registered."""
    results: list[SubmitResult | None] = [None] * len(items)
    parsed: list[Parsed] = []
    for i, item in enumerate(items):
        if isinstance(item, CustodyError):
            results[i] = SubmitResult(None, error=item)
            continue
        try:
            stmt = parse_statement(item.payload)
        except InputError as e:
            results[i] = SubmitResult(statement_digest(item.payload), error=e)
            continue
        sigs = tuple((s.keyid, s.sig) for s in item.signatures)
        parsed.append(Parsed(i, item, stmt, envelope_json(item), sigs, item.pae))
    batch = Batch(verifier)
    if parsed:
        kids = {kid for p in parsed for kid, _ in p.signatures}
        with store.read() as r:
            keys = r.keys_by_kid(kids)
            for p in parsed:  # DSSE keyids are hints: name missing or foreign ones by key
                if p.envelope is None:
                    continue
                named = name_keys(p.envelope, p.statement, r, keys)
                if named is not p.envelope:
                    p.envelope, p.envelope_json = named, envelope_json(named)
                    p.signatures = tuple((s.keyid, s.sig) for s in named.signatures)
        for p in parsed:
            for kid, sig in p.signatures:
                rec = keys.get(kid)
                if rec is not None:
                    batch.add(rec.public_key, sig, p.pae)
        batch.send()
    keyids = (kid for p in parsed for kid, _ in p.signatures)
    needs = prefetch_needs([p.statement for p in parsed], keyids)
    return Prepared(results, parsed, batch, needs)
