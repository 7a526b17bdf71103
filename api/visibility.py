"""Who may see what (SPEC §9): the authorization rules of the HTTP API.

* Checkpoints and proofs are public (they reveal hashes, never statements).
* Parties with the role ``auditor`` or ``operator`` see everything; roles are
  read from the party's signed registration (:func:`signed_roles`), not from
  the derived ``parties`` table.
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

Dispatches addressed to P count only if the dispatch statement says so
(:func:`addressed_to`), and :func:`names_party` reads issuers and senders from
the signed statements; the other derived tables the scope reads (holdings,
``lot_refs``, ``party_refs``, ``entries.issuer``) are re-derived and compared
by ``ledger audit`` (see docs/security.md).

The scope of a party is computed in one read transaction and cached per
(party, ledger size): appends only ever widen it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ledger.custody import PartyRecord
from ledger.errors import IntegrityError, NotFoundError
from ledger.leaf import decode_leaf
from ledger.statements import Dispatch, Party, Receipt
from ledger.store import ReadTx, StoredEntry

log = logging.getLogger(__name__)

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


def signed_roles(r: ReadTx, party: PartyRecord) -> tuple[str, ...]:
    """The roles of ``party`` as its signed registration says them.

    A party is registered by exactly one ``party`` statement, the one at the
    party row's ``seq``; its roles are read from that leaf, never from the
    derived ``parties.roles`` column, so editing the column in the database
    grants nothing. A row whose seq does not hold that registration gives no
    roles (and ``ledger audit`` names the row).
    """
    try:
        stmt = decode_leaf(r.entry(party.seq).leaf, party.seq).statement
    except (NotFoundError, IntegrityError) as e:
        log.warning("party %s: no readable registration at seq %s (%s)", party.id, party.seq, e)
        return ()
    if isinstance(stmt, Party) and stmt.party.id == party.id:
        return stmt.party.roles
    log.warning("party %s: the statement at seq %s is not its registration", party.id, party.seq)
    return ()


def addressed_to(r: ReadTx, party: str, lot: str | None = None) -> list[tuple[int, str]]:
    """(seq, lot) of the dispatches addressed to ``party`` whose signed leaf says
    so: the derived ``dispatches`` row is checked against the dispatch statement
    it came from, so editing its ``to`` in the database grants nothing."""
    rows = r.dispatches_to(party, lot)
    leaves = {e.seq: e.leaf for e in r.entries_by_seqs(seq for seq, _ in rows)}
    out: list[tuple[int, str]] = []
    for seq, lot_id in rows:
        try:
            stmt = decode_leaf(leaves[seq], seq).statement if seq in leaves else None
        except IntegrityError:
            stmt = None
        if isinstance(stmt, Dispatch) and stmt.to == party and stmt.lot == lot_id:
            out.append((seq, lot_id))
        else:
            log.warning("dispatch row at seq %s does not match its statement; ignored", seq)
    return out


def roots_of(r: ReadTx, party: str) -> set[str]:
    """Lots ``party`` holds, has held (a holding row, even at zero), or was sent."""
    return r.held_lots(party) | {lot for _, lot in addressed_to(r, party)}


def is_root(r: ReadTx, party: str, lot: str) -> bool:
    return r.holds(party, lot) or bool(addressed_to(r, party, lot))


def naming_seqs(r: ReadTx, party: str) -> set[int]:
    """Seqs of the statements ``party`` issued or that name it (rules 1 and 2)."""
    return r.naming_seqs(party) | {seq for seq, _ in addressed_to(r, party)}


def compute_scope(r: ReadTx, party: str) -> Scope:
    """Rules 1-3 for ``party``: the union, over its roots, of what
    :func:`provenance.graph.collect` gathers (traced lots, every statement naming
    one, the key history of the parties those statements name, seq 0), plus the
    statements it issued or that name it. It is the store's upstream walk
    (:meth:`ledger.store.ReadTx.upstream`, the walk ``collect`` uses) run for all
    roots at once: a party may hold thousands of lots."""
    addressed = addressed_to(r, party)
    roots = r.held_lots(party) | {lot for _, lot in addressed}
    seqs = r.naming_seqs(party) | {seq for seq, _ in addressed}
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
    """Rules 1 and 2 for one entry, without computing a whole scope; read from
    the signed statements (the entry's, and for a receipt its dispatch's), not
    from the derived columns."""
    stmt = decode_leaf(entry.leaf, entry.seq).statement
    if stmt.issuer == party or party in stmt.parties_referenced():
        return True
    if isinstance(stmt, Receipt):
        d = r.dispatch(stmt.dispatch)
        if d is None:
            return False
        try:
            sent = decode_leaf(r.entry(d.seq).leaf, d.seq).statement
        except NotFoundError:
            return False
        return isinstance(sent, Dispatch) and sent.digest == stmt.dispatch and sent.issuer == party
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
