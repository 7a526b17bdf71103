"""The read transaction: head, checkpoints, entries, tree nodes and the custody
state lookups (:class:`ReadTx` is a :class:`ledger.custody.StateReader`).

The provenance and visibility queries live in :mod:`ledger.store.walk`;
:class:`ReadTx` has them as methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, any_, func, select, text
from sqlmodel import SQLModel

from ledger.custody import DispatchRecord, KeyRecord, LotRecord, PartyRecord
from ledger.errors import NotFoundError
from ledger.store.bulk import BulkSql, any_of, bulk_sql
from ledger.store.records import (
    ZERO,
    Head,
    PrefetchedState,
    StoredEntry,
    chunks,
    dispatch_record,
    key_record,
    lot_record,
    party_record,
)
from ledger.store.tables import (
    CHECKPOINTS,
    DISPATCHES,
    ENTRIES,
    HEAD,
    HOLDINGS,
    KEYS,
    LOT_REFS,
    LOTS,
    META,
    NODE_INDEX_BITS,
    NODES,
    PARTIES,
    PARTY_REFS,
    node_id,
)
from ledger.store.targets import TargetReads
from ledger.store.walk import WalkReads

_NODE_RANGE = text("SELECT hash FROM nodes WHERE id >= :lo AND id < :hi ORDER BY id")
_LEAF_RANGE = text("SELECT seq, leaf FROM entries WHERE seq >= :lo AND seq < :hi ORDER BY seq")


class ReadTx(WalkReads, TargetReads):
    """Reads inside one transaction; also a :class:`ledger.custody.StateReader`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._operator: str | None = None
        self._bulk: BulkSql | None = None

    @property
    def bulk(self) -> BulkSql:
        if self._bulk is None:
            self._bulk = bulk_sql(self.conn.dialect)
        return self._bulk

    # ---- meta and head

    def meta(self, name: str) -> str | None:
        return self.conn.execute(select(META.c.value).where(META.c.name == name)).scalar()

    def head(self) -> Head:
        row = self.conn.execute(
            select(HEAD.c.size, HEAD.c.last_leaf_hash, HEAD.c.received_at).where(HEAD.c.id == 1)
        ).first()
        if row is None:
            return Head(0, b"\x00" * 32, "")
        return Head(int(row[0]), bytes(row[1]), str(row[2]))

    def latest_checkpoint(self) -> tuple[int, str] | None:
        row = self.conn.execute(
            select(CHECKPOINTS.c.size, CHECKPOINTS.c.note)
            .order_by(CHECKPOINTS.c.size.desc())
            .limit(1)
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def checkpoints(self) -> list[tuple[int, str]]:
        rows = self.conn.execute(
            select(CHECKPOINTS.c.size, CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size)
        )
        return [(int(s), str(n)) for s, n in rows]

    # ---- entries

    def _entry(self, row: Any) -> StoredEntry:
        return StoredEntry(
            int(row.seq),
            bytes(row.leaf_hash),
            bytes(row.leaf),
            row.digest,
            row.issuer,
            row.stmt_id,
            row.type,
            row.received_at,
        )

    def entry(self, seq: int) -> StoredEntry:
        row = self.conn.execute(select(ENTRIES).where(ENTRIES.c.seq == seq)).first()
        if row is None:
            raise NotFoundError(f"no entry at seq {seq}", details={"seq": seq})
        return self._entry(row)

    def entries(self, start: int, stop: int) -> list[StoredEntry]:
        """Entries with start <= seq < stop, in order."""
        t = ENTRIES
        rows = self.conn.execute(
            select(t).where(t.c.seq >= start, t.c.seq < stop).order_by(t.c.seq)
        )
        return [self._entry(r) for r in rows]

    def leaves(self, start: int, stop: int) -> list[tuple[int, bytes]]:
        """``(seq, leaf)`` for start <= seq < stop, in order (one fetch; a tlog entry bundle)."""
        rows = self.conn.execute(_LEAF_RANGE, {"lo": start, "hi": stop}).fetchall()
        return [(int(seq), bytes(leaf)) for seq, leaf in rows]

    def entries_by_seqs(self, seqs: Iterable[int]) -> list[StoredEntry]:
        t = ENTRIES
        wanted = sorted(set(seqs))
        out: list[StoredEntry] = []
        for chunk in chunks(wanted):
            rows = self.conn.execute(select(t).where(t.c.seq.in_(chunk)).order_by(t.c.seq))
            out.extend(self._entry(r) for r in rows)
        return out

    def next_seq(self, start: int) -> int | None:
        """The lowest stored seq >= ``start`` (None past the last)."""
        q = select(func.min(ENTRIES.c.seq)).where(ENTRIES.c.seq >= start)
        found = self.conn.execute(q).scalar()
        return None if found is None else int(found)

    def seq_by_digest(self, digest: str) -> int | None:
        return self.conn.execute(
            select(ENTRIES.c.seq).where(ENTRIES.c.digest == digest).order_by(ENTRIES.c.seq).limit(1)
        ).scalar()

    def by_issuer_ids(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, str]]:
        """(issuer, id) → (seq, digest) for those already appended."""
        out: dict[tuple[str, str], tuple[int, str]] = {}
        rows = self.bulk.lookup(
            self.conn,
            ENTRIES,
            "issuer",
            "stmt_id",
            ("issuer", "stmt_id", "seq", "digest"),
            set(pairs),
        )
        for issuer, sid, seq, digest in rows:
            out[(issuer, sid)] = (int(seq), digest)
        return out

    # ---- tree

    def nodes(self, coords: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        wanted = list(set(coords))
        by_id = {node_id(lv, ix): (lv, ix) for lv, ix in wanted}
        out: dict[tuple[int, int], bytes] = {}
        for chunk in chunks(by_id):
            rows = self.conn.execute(select(NODES.c.id, NODES.c.hash).where(NODES.c.id.in_(chunk)))
            for nid, h in rows:
                out[by_id[int(nid)]] = bytes(h)
        missing = set(wanted) - set(out)
        if missing:
            raise NotFoundError(
                f"tree nodes missing from storage: {sorted(missing)[:3]}",
                details={"missing": sorted(missing)[:10]},
            )
        return out

    def node_range(self, level: int, start: int, stop: int) -> list[bytes]:
        """Hashes of the perfect subtrees ``(level, start) .. (level, stop - 1)`` that are
        stored, in index order: one range scan of the primary key (a tlog tile)."""
        rows = self.conn.execute(
            _NODE_RANGE, {"lo": node_id(level, start), "hi": node_id(level, stop)}
        ).fetchall()  # plain SQL, no per-row type processing: 256 rows in one fetch
        return [bytes(h) for (h,) in rows]

    def iter_nodes(self) -> Iterator[tuple[int, int, bytes]]:
        mask = (1 << NODE_INDEX_BITS) - 1
        rows = self.conn.execute(select(NODES.c.id, NODES.c.hash).order_by(NODES.c.id))
        for nid, h in rows:
            yield int(nid) >> NODE_INDEX_BITS, int(nid) & mask, bytes(h)

    # ---- custody state (StateReader)

    def operator(self) -> str | None:
        if self._operator is None:
            self._operator = self.meta("operator")
        return self._operator

    def party(self, party_id: str) -> PartyRecord | None:
        r = self.conn.execute(select(PARTIES).where(PARTIES.c.id == party_id)).first()
        return None if r is None else party_record(r)

    def key(self, kid: str) -> KeyRecord | None:
        r = self.conn.execute(select(KEYS).where(KEYS.c.kid == kid)).first()
        return None if r is None else key_record(r)

    def lot(self, lot_id: str) -> LotRecord | None:
        r = self.conn.execute(select(LOTS).where(LOTS.c.id == lot_id)).first()
        return None if r is None else lot_record(r)

    def holding(self, lot_id: str, party: str) -> Decimal:
        q = self.conn.execute(
            select(HOLDINGS.c.quantity).where(HOLDINGS.c.lot == lot_id, HOLDINGS.c.party == party)
        ).scalar()
        return ZERO if q is None else Decimal(q)

    def dispatch(self, digest: str) -> DispatchRecord | None:
        r = self.conn.execute(select(DISPATCHES).where(DISPATCHES.c.digest == digest)).first()
        return None if r is None else dispatch_record(r)

    def keys_by_kid(self, kids: Iterable[str]) -> dict[str, KeyRecord]:
        out: dict[str, KeyRecord] = {}
        for r in self._rows_in(KEYS, "kid", set(kids)):
            out[r.kid] = key_record(r)
        return out

    def _rows_in(self, table: Table, name: str, values: Iterable[str]) -> Iterator[Any]:
        """Rows of ``table`` whose column ``name`` is one of ``values``: ``IN`` lists
        on SQLite, one ``= ANY`` of a single parameter on PostgreSQL
        (:func:`ledger.store.bulk.any_of`)."""
        wanted = list(values)
        if not wanted:
            return
        col = table.c[name]
        if self.bulk.sqlite:
            for chunk in chunks(wanted):
                yield from self.conn.execute(select(table).where(col.in_(chunk)))
            return
        yield from self.conn.execute(select(table).where(col == any_(any_of(wanted))))

    def prefetch(
        self,
        parties: Iterable[str],
        kids: Iterable[str],
        lots: Iterable[str],
        holdings: Iterable[tuple[str, str]],
        dispatches: dict[str, set[str]],
    ) -> PrefetchedState:
        """Bulk-read everything a batch will look up, as a StateReader.

        A fixed number of queries whatever the batch holds: dispatches first, so
        that the lots they name and the receivers' holdings join the later reads.
        """
        snap = PrefetchedState(self.operator())
        pt, lt, dt = PARTIES, LOTS, DISPATCHES
        party_ids = set(parties)
        lot_ids = set(lots)
        pairs = set(holdings)
        for r in self._rows_in(dt, "digest", set(dispatches)):
            snap.dispatches[r.digest] = dispatch_record(r)
            lot_ids.add(r.lot)
            pairs.update((r.lot, who) for who in dispatches[r.digest])
        for r in self._rows_in(pt, "id", party_ids):
            snap.parties[r.id] = party_record(r)
        kid_set = set(kids)
        snap.keys.update(self.keys_by_kid(kid_set))
        for r in self._rows_in(lt, "id", lot_ids):
            snap.lots[r.id] = lot_record(r)
        rows = self.bulk.lookup(
            self.conn, HOLDINGS, "lot", "party", ("lot", "party", "quantity"), pairs
        )
        for lot, party, quantity in rows:
            snap.holdings[(lot, party)] = Decimal(quantity)
        snap.known_parties.update(party_ids)
        snap.known_lots.update(lot_ids)
        snap.known_kids.update(kid_set)
        snap.known_dispatches.update(dispatches)
        snap.known_holdings.update(pairs)
        snap.fallback = self
        return snap

    def holdings_of_lot(self, lot_id: str) -> dict[str, Decimal]:
        rows = self.conn.execute(
            select(HOLDINGS.c.party, HOLDINGS.c.quantity).where(HOLDINGS.c.lot == lot_id)
        )
        return {p: Decimal(q) for p, q in rows if Decimal(q) != 0}

    def holdings_of_party(self, party: str) -> dict[str, Decimal]:
        rows = self.conn.execute(
            select(HOLDINGS.c.lot, HOLDINGS.c.quantity).where(HOLDINGS.c.party == party)
        )
        return {lot: Decimal(q) for lot, q in rows if Decimal(q) != 0}

    def dispatches_of(
        self, *, lot: str | None = None, party: str | None = None
    ) -> list[DispatchRecord]:
        t = DISPATCHES
        q = select(t)
        if lot is not None:
            q = q.where(t.c.lot == lot)
        if party is not None:
            q = q.where((t.c.sender == party) | (t.c.to == party))
        return [dispatch_record(r) for r in self.conn.execute(q.order_by(t.c.seq))]

    def parties(self) -> list[PartyRecord]:
        return [party_record(r) for r in self.conn.execute(select(PARTIES).order_by(PARTIES.c.seq))]

    def all_lots(self) -> list[LotRecord]:
        return [lot_record(r) for r in self.conn.execute(select(LOTS))]

    def all_holdings(self) -> dict[tuple[str, str], Decimal]:
        rows = self.conn.execute(select(HOLDINGS.c.lot, HOLDINGS.c.party, HOLDINGS.c.quantity))
        return {(lot, p): Decimal(q) for lot, p, q in rows}

    def all_keys(self) -> list[KeyRecord]:
        return [key_record(r) for r in self.conn.execute(select(KEYS))]

    def keys_of(self, party: str) -> list[KeyRecord]:
        t = KEYS
        return [key_record(r) for r in self.conn.execute(select(t).where(t.c.party == party))]

    # ---- derived tables, whole (``ledger audit``)

    def derived_rows(self, table: str) -> Iterator[tuple[Any, Any, str | None]]:
        """Every row of the derived table ``table`` (parties, keys, lots,
        dispatches, holdings) as ``(key, record, None)``, or ``(key, None, why)``
        for a row that does not convert (a database edited behind the ledger's
        back). Holdings' records are their quantities."""
        t, key, convert = _DERIVED[table]
        for row in self.conn.execute(select(t)):
            k = tuple(getattr(row, c) for c in key)
            try:
                record = convert(row)
            except (ArithmeticError, ValueError, TypeError, AttributeError) as e:
                yield (k[0] if len(k) == 1 else k), None, f"{type(e).__name__}: {e}"
                continue
            yield (k[0] if len(k) == 1 else k), record, None

    def lot_refs_between(self, start: int, stop: int) -> list[tuple[Any, Any, Any]]:
        """``lot_refs`` rows (lot, seq, role) with start <= seq < stop, as stored."""
        t = LOT_REFS.c
        q = select(t.lot, t.seq, t.role).where(t.seq >= start, t.seq < stop)
        return [tuple(r) for r in self.conn.execute(q)]

    def party_refs_between(self, start: int, stop: int) -> list[tuple[Any, Any]]:
        """``party_refs`` rows (party, seq) with start <= seq < stop, as stored."""
        t = PARTY_REFS.c
        q = select(t.party, t.seq).where(t.seq >= start, t.seq < stop)
        return [tuple(r) for r in self.conn.execute(q)]

    def row_count(self, table: str) -> int:
        """Rows in the ledger table ``table``."""
        t = SQLModel.metadata.tables[table]
        return int(self.conn.execute(select(func.count()).select_from(t)).scalar() or 0)


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite quantity")
    return value


def _checked_lot(r: Any) -> LotRecord:
    lot = lot_record(r)
    _finite(lot.quantity)
    return lot


def _checked_dispatch(r: Any) -> DispatchRecord:
    d = dispatch_record(r)
    _finite(d.quantity)
    if d.received is not None:
        _finite(d.received)
    return d


_DERIVED: dict[str, tuple[Table, tuple[str, ...], Callable[[Any], Any]]] = {
    "parties": (PARTIES, ("id",), party_record),
    "keys": (KEYS, ("kid",), key_record),
    "lots": (LOTS, ("id",), _checked_lot),
    "dispatches": (DISPATCHES, ("digest",), _checked_dispatch),
    "holdings": (HOLDINGS, ("lot", "party"), lambda r: _finite(Decimal(r.quantity))),
}
