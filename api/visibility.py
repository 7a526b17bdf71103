"""Who may see what (SPEC §9): the authorization rules of the HTTP API.

* Checkpoints and proofs are public (they reveal hashes, never statements).
* Parties with the role ``auditor`` or ``operator`` see everything.
* Any other party P sees:

  1. the statements P issued;
  2. the statements that name P: dispatches addressed to P, receipts of
     dispatches P sent, and the ``party``/``key``/``revoke`` statements about P;
  3. for every lot P holds, has held, or that was dispatched to P (its
     *roots*), the lot's full upstream provenance as the verifier needs it:
     the lots and statements :func:`provenance.graph.collect` gathers (so an
     importer can trace, verify and bundle what it bought), through the same
     upstream walk of the store (:meth:`ledger.store.ReadTx.upstream`), run
     for all roots at once.

  P sees the state, trace, verification and bundle of a lot that is one of its
  roots or is upstream of one of them.

Everything else is refused with the same 403 whether or not it exists.

The scope of a party is computed in one read transaction and cached per
(party, ledger size): appends only ever widen it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ledger.leaf import decode_leaf
from ledger.statements import Receipt
from ledger.store import ReadTx, StoredEntry

PRIVILEGED_ROLES = frozenset({"auditor", "operator"})


@dataclass(frozen=True)
class Caller:
    """An authenticated party."""

    party: str
    kid: str
    roles: tuple[str, ...]
    expires_at: int

    @property
    def privileged(self) -> bool:
        """Auditors and the operator see everything."""
        return not PRIVILEGED_ROLES.isdisjoint(self.roles)


@dataclass(frozen=True)
class Scope:
    """What a party that is neither auditor nor operator may see."""

    party: str
    roots: frozenset[str]
    lots: frozenset[str]
    seqs: frozenset[int]

    def sees_lot(self, lot: str) -> bool:
        return lot in self.roots or lot in self.lots


def roots_of(r: ReadTx, party: str) -> set[str]:
    """Lots ``party`` holds, has held (a holding row, even at zero), or was sent."""
    return r.roots_of(party)


def is_root(r: ReadTx, party: str, lot: str) -> bool:
    return r.is_root(party, lot)


def naming_seqs(r: ReadTx, party: str) -> set[int]:
    """Seqs of the statements ``party`` issued or that name it (rules 1 and 2)."""
    return r.naming_seqs(party)


def compute_scope(r: ReadTx, party: str) -> Scope:
    """Rules 1-3 for ``party``: the union, over its roots, of what
    :func:`provenance.graph.collect` gathers (traced lots, every statement naming
    one, the key history of the parties those statements name, seq 0), plus the
    statements it issued or that name it. It is the store's upstream walk
    (:meth:`ledger.store.ReadTx.upstream`, the walk ``collect`` uses) run for all
    roots at once: a party may hold thousands of lots."""
    roots = r.roots_of(party)
    seqs = r.naming_seqs(party)
    lots, upstream = r.upstream(roots)
    parties = r.issuers(upstream) | r.upstream_addressees(roots)
    operator = r.operator()
    if operator is not None:
        parties.add(operator)
    seqs |= upstream
    if upstream:
        seqs.add(0)
        seqs.update(r.party_history(parties))
    return Scope(party, frozenset(roots), frozenset(lots), frozenset(seqs))


def names_party(r: ReadTx, entry: StoredEntry, party: str) -> bool:
    """Rules 1 and 2 for one entry, without computing a whole scope."""
    if entry.issuer == party:
        return True
    stmt = decode_leaf(entry.leaf).statement
    if party in stmt.parties_referenced():
        return True
    if isinstance(stmt, Receipt):
        d = r.dispatch(stmt.dispatch)
        return d is not None and d.sender == party
    return False


class ScopeCache:
    """Scopes by (party, ledger size); least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], Scope] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, r: ReadTx, party: str) -> Scope:
        key = (party, r.head().size)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        scope = compute_scope(r, party)
        with self._lock:
            self._items[key] = scope
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return scope
