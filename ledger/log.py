"""The append pipeline and read side of the ledger (SPEC §5).

Append, for a batch of envelopes:

1. parse every envelope and statement (no lock held); a signature whose DSSE
   ``keyid`` (only a hint) is missing or foreign is named by the key that verifies it;
2. verify every signature whose key is already registered (no lock held;
   this is the expensive part, and it may run on several processes, see
   :mod:`ledger.sigcheck`, whose memo the state machine then consults);
3. take the append lock (one write transaction), read the head, the Merkle
   frontier and the custody state the batch touches (a fixed number of bulk
   reads, whatever the batch holds);
4. for each statement in order: idempotency by (issuer, id), then the pure
   custody state machine; a rejected statement is reported and skipped,
   the rest of the batch goes on (a later statement that depended on it is
   judged without it, so it is rejected too);
5. build each leaf (``seq``, ``prev``, ``received_at``, ``envelope``; the
   codec is :mod:`ledger.leaf`), hash chain and Merkle nodes, sign a
   checkpoint for the new size, and write it all in the same transaction;
   commit is the acknowledgement.

:meth:`Ledger.submit` runs the steps for one batch. :meth:`Ledger.submit_stream`
runs them pipelined (:mod:`ledger.pipeline`): steps 1-2 of later batches overlap
steps 3-5 of the current one. The read side opens one read transaction per call.
"""

from __future__ import annotations

import logging
from binascii import hexlify
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from ledger import merkle, proofs
from ledger.checkpoint import Checkpoint, sign_note, verifier_key
from ledger.custody import EntryRef, MemoryState, Needs, apply, check_signatures
from ledger.errors import ConfigError, ConflictError, InputError, NotFoundError
from ledger.keys import PrivateKey, kid_of
from ledger.leaf import LEAF_TEMPLATE, format_received_at, parse_received_at, prev_of
from ledger.pipeline import pipelined
from ledger.prepare import Item, Parsed, Prepared, SubmitResult, prepare
from ledger.proofs import ConsistencyProof, InclusionProof
from ledger.rotation import is_rotation
from ledger.sigcheck import BatchVerifier, Memo, ProcessVerifier, verify_serial
from ledger.statements import Key
from ledger.store import EntryTuple, Head, Store, index_rows, node_id

__all__ = ["Item", "Ledger", "SubmitResult", "utcnow"]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """A custody ledger over a :class:`Store`, signing checkpoints with the operator key.

    ``workers`` > 1 verifies signatures on that many processes (see
    :class:`ProcessVerifier`); :meth:`close` stops them.
    """

    def __init__(
        self,
        store: Store,
        operator_key: PrivateKey | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        verifier: BatchVerifier = verify_serial,
        workers: int = 1,
    ) -> None:
        self.store = store
        self.operator_key = operator_key
        self.clock = clock
        self._own_verifier: ProcessVerifier | None = None
        if workers > 1 and verifier is verify_serial:
            self._own_verifier = ProcessVerifier(workers)
            verifier = self._own_verifier
        self.verifier = verifier
        self._origin: str | None = None

    def close(self) -> None:
        """Stop the verification processes this ledger started (the store stays open)."""
        if self._own_verifier is not None:
            self._own_verifier.close()

    # ------------------------------------------------------------ identity

    @property
    def origin(self) -> str:
        if self._origin is None:
            with self.store.read() as r:
                origin = r.meta("origin")
            if origin is None:
                raise ConfigError("the ledger is not initialised (run `custody init`)")
            self._origin = origin
        return self._origin

    def operator_public_key(self) -> bytes:
        with self.store.read() as r:
            value = r.meta("operator_public_key")
        if value is None:
            raise ConfigError("the ledger is not initialised (run `custody init`)")
        return bytes.fromhex(value)

    def verifier_key(self) -> str:
        return verifier_key(self.origin, self.operator_public_key())

    def initialise(self, origin: str) -> None:
        """Record the log's origin and operator key (before entry 0 is appended)."""
        if self.operator_key is None:
            raise ConfigError("initialising a ledger needs the operator key")
        self.store.create_schema()
        with self.store.write() as w:
            if w.meta("origin") is not None:
                raise ConfigError("this database already holds a ledger; refusing to overwrite")
            w.set_meta("origin", origin)
            w.set_meta("operator_public_key", self.operator_key.public_key.hex())
        self._origin = origin

    # ------------------------------------------------------------ append

    def submit(self, items: Sequence[Item]) -> list[SubmitResult]:
        """Append a batch; one result per item, in order (see module docstring)."""
        return self._finish(self._prepare(items))

    def submit_stream(self, batches: Iterable[Sequence[Item]]) -> Iterator[list[SubmitResult]]:
        """Append batches one after the other, yielding each batch's results in turn.

        The outcome is that of :meth:`submit` on each batch in order, and a batch is
        yielded once committed; but batches are prepared (parsed, signature checks
        started, on worker processes with :class:`ProcessVerifier`) two ahead of the
        one being appended, on a helper thread while the previous commit waits on the
        disk. Signatures by keys that the batches in flight register are checked
        under the lock, as :meth:`submit` does. An error preparing a batch is
        raised when that batch's turn comes.
        """
        return pipelined(self._prepare, self._finish, batches)

    def _prepare(self, items: Sequence[Item]) -> Prepared:
        """Steps 1 and 2, outside the lock (:func:`ledger.prepare.prepare`)."""
        return prepare(self.store, self.verifier, items)

    def _finish(
        self, batch: Prepared, during_commit: Callable[[], None] | None = None
    ) -> list[SubmitResult]:
        """Steps 3 to 5. ``during_commit`` is called just before the commit
        (not at all when nothing reaches the lock)."""
        results = batch.results
        if batch.parsed:
            # keyed by the whole triple: a signature copied onto other bytes
            # must not borrow the verdict of the envelope it was taken from
            sig_ok = batch.signatures.memo()
            appended = self._append(batch.parsed, batch.needs, sig_ok, during_commit)
            for p, res in zip(batch.parsed, appended, strict=True):
                results[p.index] = res
        return [r for r in results if r is not None]

    def _append(
        self,
        parsed: list[Parsed],
        needs: Needs,
        sig_ok: Memo,
        during_commit: Callable[[], None] | None = None,
    ) -> list[SubmitResult]:
        out: list[SubmitResult] = []
        with self.store.write() as w:
            if w.meta("origin") is None:
                raise ConfigError("the ledger is not initialised (run `custody init`)")
            head = w.head()
            now = self.clock()
            if head.received_at:
                now = max(now, parse_received_at(head.received_at))
            received_at = format_received_at(now)
            received = received_at.encode("ascii")
            frontier_map = w.nodes(merkle.frontier_coords(head.size)) if head.size else {}
            frontier = [frontier_map[c] for c in merkle.frontier_coords(head.size)]
            state = MemoryState(w.prefetch(*needs))
            key_in_force = bytes.fromhex(w.meta("operator_public_key") or "")
            rotated = False
            existing = w.by_issuer_ids((p.statement.issuer, p.statement.id) for p in parsed)
            rows: list[EntryTuple] = []
            lot_refs: list[tuple[str, int, str]] = []
            party_refs: list[tuple[str, int]] = []
            seen: dict[tuple[str, str], tuple[int, str]] = {}
            prev = prev_of(head.last_leaf_hash if head.size else None).encode("ascii")
            size = head.size
            for p in parsed:
                stmt = p.statement
                key = (stmt.issuer, stmt.id)
                earlier = existing.get(key) or seen.get(key)
                entry = EntryRef(
                    seq=size,
                    received_at=now,
                    statement=stmt,
                    signatures=p.signatures,
                    pae=p.pae,
                )
                if earlier is not None and earlier[1] != stmt.digest:
                    # judge the signatures first, so an unsigned envelope learns nothing
                    try:
                        check_signatures(state, entry, sig_ok)
                    except InputError as e:
                        out.append(SubmitResult(stmt.digest, error=e))
                        continue
                if earlier is not None:
                    if earlier[1] == stmt.digest:
                        out.append(SubmitResult(stmt.digest, earlier[0], duplicate=True))
                    else:
                        out.append(
                            SubmitResult(
                                stmt.digest,
                                error=ConflictError(
                                    f"{stmt.issuer} already appended a statement with id "
                                    f"{stmt.id!r} (seq {earlier[0]}) with other bytes",
                                    code="conflict.statement_id",
                                    details={"seq": earlier[0], "digest": earlier[1]},
                                ),
                            )
                        )
                    continue
                try:
                    changes = apply(state, entry, sig_ok)
                except InputError as e:
                    out.append(SubmitResult(stmt.digest, error=e))
                    continue
                state.commit(changes)
                if isinstance(stmt, Key):
                    new_key = is_rotation(stmt, (kid for kid, _ in p.signatures), key_in_force)
                    if new_key is not None and stmt.issuer == state.operator():
                        key_in_force, rotated = new_key, True  # docs/decisions/0006
                leaf = LEAF_TEMPLATE % (p.envelope_json, prev, received, size)
                lh = merkle.leaf_hash(leaf)
                rows.append(
                    (size, lh, leaf, stmt.digest, stmt.issuer, stmt.id, stmt.type, received_at)
                )
                new_lot_refs, new_party_refs = index_rows(size, changes)
                lot_refs += new_lot_refs
                party_refs += new_party_refs
                seen[key] = (size, stmt.digest)
                out.append(SubmitResult(stmt.digest, size))
                prev = hexlify(lh)
                size += 1
            if rows:
                first = head.size
                hashes = [r[1] for r in rows]
                done, new_frontier = merkle.completed_nodes(first, hashes, frontier)
                nodes = [(node_id(0, seq), h) for seq, h in enumerate(hashes, first)]
                nodes += [(node_id(lv, ix), h) for lv, ix, h in done]
                note = self._sign_checkpoint(
                    size, merkle.root_from_frontier(new_frontier), key_in_force
                )
                if rotated:
                    w.set_meta("operator_public_key", key_in_force.hex())
                w.append_rows(
                    rows,
                    nodes,
                    lot_refs,
                    party_refs,
                    Head(size, hashes[-1], received_at),
                    state.changes,
                    (size, note),
                )
            if during_commit is not None:
                during_commit()
        if rows:
            self.store.after_append(size)
        return out

    def _sign_checkpoint(self, size: int, root: bytes, key_in_force: bytes) -> str:
        if self.operator_key is None:
            raise ConfigError("appending needs the operator key (it signs checkpoints)")
        if self.operator_key.public_key != key_in_force:
            raise ConfigError(
                f"the operator key {self.operator_key.kid[:16]}… does not sign this ledger's "
                f"checkpoints: the key in force is {kid_of(key_in_force)[:16]}… (rotated; "
                "see `custody ledger rotate-key`)",
                code="config.operator_key",
                details={"kid": kid_of(key_in_force)},
            )
        body = Checkpoint(self.origin, size, root, ()).body()
        key = self.operator_key
        return sign_note(body, self.origin, key.sign, key.public_key)

    # ------------------------------------------------------------ reads

    def size(self) -> int:
        with self.store.read() as r:
            return r.head().size

    def checkpoint(self) -> str:
        with self.store.read() as r:
            cp = r.latest_checkpoint()
        if cp is None:
            raise NotFoundError("the ledger has no checkpoint yet")
        return cp[1]

    def leaf(self, seq: int) -> bytes:
        with self.store.read() as r:
            return r.entry(seq).leaf

    def root(self, size: int) -> bytes:
        with self.store.read() as r:
            return proofs.root(r, size)

    def prove(self, seq: int, size: int | None = None) -> InclusionProof:
        """Inclusion proof of ``seq`` in the tree of ``size`` (default: the head)."""
        with self.store.read() as r:
            return proofs.prove_many(r, [seq], size)[seq]

    def prove_many(self, seqs: Iterable[int], size: int | None = None) -> dict[int, InclusionProof]:
        """Inclusion proofs of ``seqs`` in the tree of ``size`` (default: the head), from
        one bulk read (:func:`ledger.proofs.prove_many`)."""
        with self.store.read() as r:
            return proofs.prove_many(r, seqs, size)

    def consistency(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        with self.store.read() as r:
            return proofs.consistency(r, size1, size2)
