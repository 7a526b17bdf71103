"""Audit: re-derive everything from the stored leaves (SPEC §5).

Steps (:mod:`ledger.audit.chain` for 1-6, :mod:`ledger.audit.derived` for 7):

1. stream the entries in seq order; each row's seq is the next one (no gap,
   no duplicate);
2. each leaf decodes with the one leaf codec (:func:`ledger.leaf.decode_leaf`:
   strict JSON with bounded depth, so a 100,000-deep leaf is a problem named by
   its seq, never a ``RecursionError``), is canonical, says the row's seq,
   links to the previous leaf hash (the hash chain) and hashes to the stored
   ``leaf_hash``; ``received_at`` never goes back (compared as times);
3. the statement parses, and the entries columns that copy leaf fields
   (digest, issuer, stmt_id, type, received_at) equal the leaf's;
4. the statement replays through the custody state machine from seq 0
   (signatures by keys valid at that point, holdings, receipts...): a
   statement that would have been rejected is named;
5. every stored Merkle node (leaf hashes and perfect subtrees) equals the one
   recomputed from the leaves;
6. every stored checkpoint is signed by the operator key in force at its size (the
   chain of rotations from entry 0's key, :mod:`ledger.rotation`) and its root equals
   the recomputed root at its size; the head row matches the last leaf;
7. every derived table equals what the replay derives with the append path's
   own code: ``lot_refs``, ``party_refs``, ``parties``, ``keys``, ``lots``,
   ``holdings``, ``dispatches`` and ``meta.operator`` — extra, missing and
   changed rows are each named.

The first problem found (lowest seq) is the headline; later ones may follow
from it.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.audit.chain import CHUNK, Auditor
from ledger.audit.report import MAX_PROBLEMS, AuditReport, Problem
from ledger.custody import MemoryState, apply
from ledger.keys import is_valid_signature
from ledger.leaf import decode_leaf
from ledger.store import Store

__all__ = ["CHUNK", "MAX_PROBLEMS", "AuditReport", "Problem", "audit", "replay_state"]


def audit(store: Store, progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Re-derive everything from the stored leaves; see the module docstring."""
    with store.read() as r:
        return Auditor(r, progress).run()


def replay_state(leaves: list[tuple[int, bytes]]) -> MemoryState:
    """The custody state of (seq, leaf bytes) replayed through the state machine (no checks
    kept). Not :func:`provenance.replay.replay`, which judges a trace's statements."""
    state = MemoryState()
    for _seq, leaf in leaves:
        state.commit(apply(state, decode_leaf(leaf).entry, is_valid_signature))
    return state
