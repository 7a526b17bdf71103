"""Provenance and visibility reads: the one upstream walk, a party's roots and
the statements naming it, and the statement pages of the API.

The upstream walk (SPEC §6): a lot's creator is its ``output`` row in
``lot_refs``; the ``input`` rows of that statement are the upstream lots, and
so on recursively (custody hand-offs keep the lot id). It is one recursive CTE,
:data:`_TRACED`, seeded with a set of root lots and shared by every query here
that starts from lots: :meth:`WalkReads.upstream` (the traced lots and the seqs
naming them, for the API's visibility), :meth:`WalkReads.trace_entries` (the
entries naming the traced lots with their Merkle leaf nodes, for
:func:`provenance.graph.collect`) and :meth:`WalkReads.upstream_addressees`.
Each runs in the database (SQLite and PostgreSQL alike) and only the trace's
rows come back: memory grows with the trace, never with the ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, select, text

from ledger.store.records import StoredEntry, chunks
from ledger.store.tables import DISPATCHES, ENTRIES, HOLDINGS, LOT_REFS, NODES, PARTY_REFS

_TRACED = """
WITH RECURSIVE traced(lot) AS (
    SELECT r0.lot FROM lot_refs r0 WHERE r0.lot IN :roots
    UNION
    SELECT i.lot
    FROM traced t
    JOIN lot_refs o ON o.lot = t.lot AND o.role = 'output'
    JOIN lot_refs i ON i.seq = o.seq AND i.role = 'input'
)
"""

# Rows driven from the traced lots through the index on lot_refs.lot.
# PostgreSQL's planner cannot size the recursive CTE and may scan all of
# lot_refs for ``IN (SELECT ...)``; ``= ANY(ARRAY(...))`` makes it probe the
# index, so the query grows with the trace, not the ledger.
_IN_TRACED = {
    "postgresql": "= ANY(ARRAY(SELECT lot FROM traced))",
    "default": "IN (SELECT lot FROM traced)",
}

_QUERIES = {
    "lots": "SELECT lot FROM traced",
    "refs": "SELECT r.lot, r.seq FROM lot_refs r WHERE r.lot {in_traced}",
    "entries": """,
seqs AS (
    SELECT DISTINCT r.seq AS seq FROM lot_refs r WHERE r.lot {in_traced}
)
SELECT s.seq AS ref_seq, e.seq, e.leaf_hash, e.leaf, e.digest, e.issuer, e.stmt_id, e.type,
       e.received_at, n.hash AS node_hash
FROM seqs s
LEFT JOIN entries e ON e.seq = s.seq
LEFT JOIN nodes n ON n.id = s.seq
""",
    "addressees": 'SELECT DISTINCT d."to" FROM dispatches d WHERE d.lot {in_traced}',
}
# The Merkle leaf node (0, seq) is stored under node_id(0, seq), which is seq.

_ENTRY_COLUMNS = ("seq", "leaf_hash", "leaf", "digest", "issuer", "stmt_id", "type", "received_at")


@lru_cache(maxsize=32)
def _query(dialect: str, name: str) -> TextClause:
    """The walk query ``name`` for a database dialect (constant texts)."""
    in_traced = _IN_TRACED.get(dialect, _IN_TRACED["default"])
    sql = _TRACED + _QUERIES[name].format(in_traced=in_traced)
    return text(sql).bindparams(bindparam("roots", expanding=True))


@dataclass
class TraceRows:
    """The entries naming the traced lots of one subject, sorted by seq.

    ``leaf_nodes`` holds each entry's stored level-0 Merkle node (``None`` when
    the row is missing) and ``missing_seqs`` the seqs the ``lot_refs`` index
    names but ``entries`` lacks (store-level INTEGRITY checks of verification).
    """

    entries: list[StoredEntry] = field(default_factory=list)
    leaf_nodes: dict[int, bytes | None] = field(default_factory=dict)
    missing_seqs: list[int] = field(default_factory=list)

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (ref seq, seq, leaf_hash, leaf, digest, issuer, stmt_id, type,
        received_at, node hash), by position: the hot loop of a large trace."""
        entries, nodes, missing = self.entries, self.leaf_nodes, self.missing_seqs
        for ref, seq, leaf_hash, leaf, digest, issuer, stmt_id, kind, received_at, node in rows:
            if seq is None:
                missing.append(int(ref))
                continue
            entries.append(
                StoredEntry(
                    int(seq),
                    bytes(leaf_hash),
                    bytes(leaf),
                    digest,
                    issuer,
                    stmt_id,
                    kind,
                    received_at,
                )
            )
            nodes[int(seq)] = None if node is None else bytes(node)


@dataclass(frozen=True)
class StatementFilter:
    """Filters of a statement page; ``since``/``until`` bound the stored ledger
    time (``received_at``, formatted as the ledger writes it)."""

    type: str | None = None
    issuer: str | None = None
    lot: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class StatementRow:
    seq: int
    digest: str
    type: str
    issuer: str
    stmt_id: str
    received_at: str
    leaf: bytes


PAGE_CHUNK = 500


class WalkReads:
    """The provenance and visibility reads of :class:`ledger.store.ReadTx`."""

    conn: Connection

    def _walk(self, name: str, roots: Iterable[str]) -> list[Any]:
        q = _query(self.conn.dialect.name, name)
        out: list[Any] = []
        for chunk in chunks(sorted(set(roots))):
            out.extend(self.conn.execute(q, {"roots": chunk}).all())
        return out

    # ---- the upstream walk

    def names_lot(self, lot: str) -> bool:
        """Whether any statement names ``lot``."""
        q = select(LOT_REFS.c.seq).where(LOT_REFS.c.lot == lot).limit(1)
        return self.conn.execute(q).first() is not None

    def upstream_lots(self, roots: Iterable[str]) -> set[str]:
        """The lots upstream of ``roots``, the roots included."""
        roots = set(roots)
        return roots | {str(lot) for (lot,) in self._walk("lots", roots)}

    def upstream(self, roots: Iterable[str]) -> tuple[set[str], set[int]]:
        """The lots upstream of ``roots`` (the roots included) and the seqs of
        every statement naming one of them."""
        lots = set(roots)
        seqs: set[int] = set()
        for lot, seq in self._walk("refs", lots):
            lots.add(str(lot))
            seqs.add(int(seq))
        return lots, seqs

    def trace_entries(self, roots: Iterable[str]) -> TraceRows:
        """The entries of every statement naming a lot upstream of ``roots``."""
        out = TraceRows()
        out.add(self._walk("entries", roots))
        out.entries.sort(key=lambda e: e.seq)
        return out

    def upstream_addressees(self, roots: Iterable[str]) -> set[str]:
        """Parties that dispatches of lots upstream of ``roots`` are addressed to."""
        return {str(p) for (p,) in self._walk("addressees", roots)}

    def entries_with_nodes(self, seqs: Iterable[int], into: TraceRows) -> None:
        """Add the entries at ``seqs`` and their leaf nodes to ``into``."""
        joined = ENTRIES.outerjoin(NODES, NODES.c.id == ENTRIES.c.seq)
        for chunk in chunks(sorted(set(seqs))):
            query = (
                select(
                    ENTRIES.c.seq.label("ref_seq"),
                    *(ENTRIES.c[name] for name in _ENTRY_COLUMNS),
                    NODES.c.hash.label("node_hash"),
                )
                .select_from(joined)
                .where(ENTRIES.c.seq.in_(chunk))
            )
            into.add(self.conn.execute(query).all())
        into.entries.sort(key=lambda e: e.seq)

    def issuers(self, seqs: Iterable[int]) -> set[str]:
        """The issuers of the entries at ``seqs``."""
        out: set[str] = set()
        for chunk in chunks(set(seqs)):
            q = select(ENTRIES.c.issuer).where(ENTRIES.c.seq.in_(chunk)).distinct()
            out.update(str(p) for (p,) in self.conn.execute(q))
        return out

    # ---- the lot and party indexes

    def lot_refs(self, lots: Iterable[str]) -> list[tuple[str, int, str]]:
        """(lot, seq, role) for every statement that mentions one of ``lots``."""
        t = LOT_REFS
        out: list[tuple[str, int, str]] = []
        for chunk in chunks(set(lots)):
            out.extend(
                (r.lot, int(r.seq), r.role)
                for r in self.conn.execute(select(t).where(t.c.lot.in_(chunk)))
            )
        return out

    def party_history(self, parties: Iterable[str]) -> list[int]:
        """Seqs of the party, key and revoke statements of ``parties``."""
        out: set[int] = set()
        for chunk in chunks(set(parties)):
            rows = self.conn.execute(select(PARTY_REFS.c.seq).where(PARTY_REFS.c.party.in_(chunk)))
            out.update(int(s) for (s,) in rows)
        return sorted(out)

    # ---- visibility

    def held_lots(self, party: str) -> set[str]:
        """Lots ``party`` holds or has held (a holding row, even at zero)."""
        rows = self.conn.execute(select(HOLDINGS.c.lot).where(HOLDINGS.c.party == party))
        return {str(lot) for (lot,) in rows}

    def holds(self, party: str, lot: str) -> bool:
        """Whether ``party`` holds or has held ``lot``."""
        h = HOLDINGS.c
        q = select(h.lot).where(h.party == party, h.lot == lot).limit(1)
        return self.conn.execute(q).first() is not None

    def dispatches_to(self, party: str, lot: str | None = None) -> list[tuple[int, str]]:
        """(seq, lot) of the dispatches addressed to ``party`` (of ``lot`` only, if given)."""
        d = DISPATCHES.c
        q = select(d.seq, d.lot).where(d.to == party)
        if lot is not None:
            q = q.where(d.lot == lot)
        return [(int(seq), str(x)) for seq, x in self.conn.execute(q.order_by(d.seq))]

    def naming_seqs(self, party: str) -> set[int]:
        """Seqs of the statements ``party`` issued, of the receipts of dispatches
        it sent and of its party/key/revoke history (the dispatches addressed to
        it are :meth:`dispatches_to`)."""
        d = DISPATCHES.c
        queries = (
            select(ENTRIES.c.seq).where(ENTRIES.c.issuer == party),
            select(d.receipt_seq).where(d.sender == party, d.receipt_seq.is_not(None)),
        )
        seqs = {int(s) for q in queries for (s,) in self.conn.execute(q)}
        seqs.update(self.party_history([party]))
        return seqs

    def statement_page(
        self,
        filters: StatementFilter,
        after: int,
        limit: int,
        visible: Collection[int] | None = None,
    ) -> list[StatementRow]:
        """Up to ``limit`` entries with seq > ``after`` matching ``filters``, in
        seq order; only seqs in ``visible`` unless it is None."""
        t = ENTRIES.c
        where: list[Any] = []
        if filters.type is not None:
            where.append(t.type == filters.type)
        if filters.issuer is not None:
            where.append(t.issuer == filters.issuer)
        if filters.since is not None:
            where.append(t.received_at >= filters.since)
        if filters.until is not None:
            where.append(t.received_at < filters.until)
        columns = select(t.seq, t.digest, t.type, t.issuer, t.stmt_id, t.received_at, t.leaf)
        rows: list[Any] = []
        if visible is None:
            q = columns.where(t.seq > after, *where)
            if filters.lot is not None:
                q = q.where(t.seq.in_(select(LOT_REFS.c.seq).where(LOT_REFS.c.lot == filters.lot)))
            rows = list(self.conn.execute(q.order_by(t.seq).limit(limit)))
        else:
            candidates = sorted(s for s in visible if s > after)
            if filters.lot is not None:
                on_lot = {seq for _, seq, _ in self.lot_refs([filters.lot])}
                candidates = [s for s in candidates if s in on_lot]
            for chunk in chunks(candidates, PAGE_CHUNK):
                q = columns.where(t.seq.in_(chunk), *where).order_by(t.seq)
                rows.extend(self.conn.execute(q))
                if len(rows) >= limit:
                    break
        return [
            StatementRow(
                int(r.seq), r.digest, r.type, r.issuer, r.stmt_id, r.received_at, bytes(r.leaf)
            )
            for r in rows[:limit]
        ]
