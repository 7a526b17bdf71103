"""Storage: the one narrow seam between the ledger and its database.

SQLModel tables on SQLAlchemy, serving SQLite (the embedded default, WAL
mode, ``synchronous=FULL``) and PostgreSQL (``CUSTODY_DB_URL``). Storage
holds verbatim leaf bytes and the hash of every perfect Merkle subtree, so
any inclusion or consistency proof is answered from O(log n) rows read in one
query. It also keeps the derived custody state (parties, keys, lots,
holdings, dispatches) so appends judge a statement with a handful of indexed
reads, and a lot → statement index for provenance queries.

Write transactions are serialised across processes: SQLite by
``BEGIN IMMEDIATE``; PostgreSQL by ``SELECT ... FOR UPDATE`` on the single
``head`` row. The bulk paths use SQLAlchemy Core ``insert`` with executemany.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Dialect,
    Engine,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    column,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Field, SQLModel

from ledger.custody import (
    Changes,
    DispatchRecord,
    KeyRecord,
    LotRecord,
    PartyRecord,
)
from ledger.errors import ConfigError, NotFoundError

log = logging.getLogger(__name__)

ZERO = Decimal(0)


# ---------------------------------------------------------------- tables


class EntryRow(SQLModel, table=True):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("issuer", "stmt_id", name="uq_entries_issuer_id"),
        Index("ix_entries_digest", "digest"),
        Index("ix_entries_type_issuer", "type", "issuer"),
    )
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    digest: str = Field(sa_column=Column(String(71), nullable=False))
    issuer: str = Field(sa_column=Column(String(64), nullable=False))
    stmt_id: str = Field(sa_column=Column(String(128), nullable=False))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    received_at: str = Field(sa_column=Column(String(40), nullable=False))


NODE_INDEX_BITS = 48


def node_id(level: int, idx: int) -> int:
    """One integer key per perfect subtree: ``level << 48 | idx`` (a single-column
    primary key keeps proof lookups to one index probe per node)."""
    return (level << NODE_INDEX_BITS) | idx


class NodeRow(SQLModel, table=True):
    """Hash of the perfect subtree (level, idx); level 0 are the leaf hashes."""

    __tablename__ = "nodes"
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class HeadRow(SQLModel, table=True):
    """The single row naming the log head; also the PostgreSQL append lock."""

    __tablename__ = "head"
    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: str = Field(sa_column=Column(String(40), nullable=False))


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"
    name: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoints"
    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    note: str = Field(sa_column=Column(Text, nullable=False))


class PartyRow(SQLModel, table=True):
    __tablename__ = "parties"
    id: str = Field(primary_key=True)
    name: str
    country: str
    subdivision: str | None = None
    roles: str  # comma-separated
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class KeyRow(SQLModel, table=True):
    __tablename__ = "keys"
    kid: str = Field(primary_key=True)
    party: str = Field(index=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    added_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    revoked_seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    reason: str | None = None
    effective: str | None = None


class LotRow(SQLModel, table=True):
    __tablename__ = "lots"
    id: str = Field(primary_key=True)
    creator: str = Field(index=True)
    material: str
    unit: str
    quantity: str  # exact decimal, base unit
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class HoldingRow(SQLModel, table=True):
    __tablename__ = "holdings"
    __table_args__ = (Index("ix_holdings_party", "party"),)
    lot: str = Field(primary_key=True)
    party: str = Field(primary_key=True)
    quantity: str  # exact decimal, base unit


class DispatchRow(SQLModel, table=True):
    __tablename__ = "dispatches"
    digest: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    lot: str = Field(index=True)
    sender: str
    to: str = Field(index=True)
    quantity: str
    received: str | None = None
    receipt_seq: int | None = Field(default=None, sa_column=Column(BigInteger))


class LotRefRow(SQLModel, table=True):
    """Which statements mention which lot, and how (provenance index)."""

    __tablename__ = "lot_refs"
    __table_args__ = (Index("ix_lot_refs_seq", "seq"),)
    lot: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(primary_key=True)


class PartyRefRow(SQLModel, table=True):
    """Which statements register or change a party's keys (party, key, revoke)."""

    __tablename__ = "party_refs"
    party: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


ENTRIES = _table(EntryRow)
NODES = _table(NodeRow)
HEAD = _table(HeadRow)
META = _table(MetaRow)
CHECKPOINTS = _table(CheckpointRow)
PARTIES = _table(PartyRow)
KEYS = _table(KeyRow)
LOTS = _table(LotRow)
HOLDINGS = _table(HoldingRow)
DISPATCHES = _table(DispatchRow)
LOT_REFS = _table(LotRefRow)
PARTY_REFS = _table(PartyRefRow)


STATE_TABLES = ("parties", "keys", "lots", "holdings", "dispatches", "lot_refs", "party_refs")


# ---------------------------------------------------------------- bulk SQL
#
# The append path runs a handful of statements per batch, each with up to a few
# thousand rows. They are SQLAlchemy Core constructs compiled once per dialect
# (positional parameters: ``?`` for SQLite, ``%s`` for psycopg) and executed with
# ``Connection.exec_driver_sql`` and parameter tuples, which skips the per-call
# compilation, the per-row dicts and the (no-op, for these column types) per-row
# type processing of ``execute(insert(T), [dict, ...])``: that was a third of
# the append's time. Derived state rows are upserted with INSERT ... ON CONFLICT
# DO UPDATE (one statement; SQLite and PostgreSQL share the syntax).
#
# Rows go in as an executemany of a multi-row form, as many rows a statement as
# fit in MULTIROW_PARAMS parameters: psycopg sends and executes each statement
# of an executemany on its own, so rows per statement divide the client's and
# the server's per-statement work (and statements this small stay in psycopg's
# query cache, which takes at most 50 parameters). On SQLite the driver loops in
# C over one prepared statement; there the multi-row form pays only for the
# narrow rows of the tree and the indexes (3x for nodes), not for entries nor
# for the upserts, which measured slower, so those stay one row a statement.

ENTRY_COLUMNS = ("seq", "leaf_hash", "leaf", "digest", "issuer", "stmt_id", "type", "received_at")
EntryTuple = tuple[int, bytes, bytes, str, str, str, str, str]
"""An entries row in :data:`ENTRY_COLUMNS` order."""

PAIR_CHUNK = 500
"""Pairs per (a, b) lookup statement on SQLite; the last chunk is padded so that
one statement text serves."""

MULTIROW_PARAMS = 48
"""Parameters per multi-row INSERT on PostgreSQL."""


@dataclass(frozen=True)
class _Bulk:
    """One bulk insert (``key``: upsert on that primary key; ``narrow``: rows
    multi-row on SQLite too)."""

    table: Table
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()
    narrow: bool = False


_ENTRIES = _Bulk(ENTRIES, ENTRY_COLUMNS)
_NODES = _Bulk(NODES, ("id", "hash"), narrow=True)
_LOT_REFS = _Bulk(LOT_REFS, ("lot", "seq", "role"), narrow=True)
_PARTY_REFS = _Bulk(PARTY_REFS, ("party", "seq"), narrow=True)
_PARTIES = _Bulk(PARTIES, ("id", "name", "country", "subdivision", "roles", "seq"), ("id",))
_KEYS = _Bulk(
    KEYS,
    ("kid", "party", "public_key", "added_seq", "revoked_seq", "reason", "effective"),
    ("kid",),
)
_LOTS = _Bulk(LOTS, ("id", "creator", "material", "unit", "quantity", "seq"), ("id",))
_HOLDINGS = _Bulk(HOLDINGS, ("lot", "party", "quantity"), ("lot", "party"))
_DISPATCHES = _Bulk(
    DISPATCHES,
    ("digest", "seq", "lot", "sender", "to", "quantity", "received", "receipt_seq"),
    ("digest",),
)


def _positional(dialect: Dialect) -> Dialect:
    """``dialect``, or a copy of it rendering ``%s`` placeholders (psycopg)."""
    if dialect.positional:
        return dialect
    return cast(Dialect, cast(Any, type(dialect))(paramstyle="format"))


class BulkSql:
    """The append path's statements for one dialect, compiled on first use."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = _positional(dialect)
        self.sqlite = dialect.name == "sqlite"
        self._sql: dict[tuple[str, int], str] = {}
        self._lookups: dict[str, str] = {}

    # ---- inserts

    def _compile_insert(self, bulk: _Bulk, rows: int) -> str:
        names = [f"{c}_{i}" for i in range(rows) for c in bulk.columns]
        it = iter(names)
        params: list[dict[str, Any]] = [
            {c: bindparam(next(it)) for c in bulk.columns} for _ in range(rows)
        ]
        stmt: Any
        if bulk.key:
            mod: Any = sqlite if self.sqlite else postgresql
            stmt = mod.insert(bulk.table).values(params)
            stmt = stmt.on_conflict_do_update(
                index_elements=[bulk.table.c[k] for k in bulk.key],
                set_={c: stmt.excluded[c] for c in bulk.columns if c not in bulk.key},
            )
        else:
            stmt = insert(bulk.table).values(params)
        compiled = cast(SQLCompiler, stmt.compile(dialect=self.dialect))
        if list(compiled.positiontup or ()) != names:  # the tuples we pass follow `names`
            raise AssertionError(f"unexpected parameter order in {compiled}")
        return str(compiled)

    def insert_sql(self, bulk: _Bulk, rows: int = 1) -> str:
        """The INSERT (or upsert) of ``rows`` rows into ``bulk.table``."""
        key = (bulk.table.name, rows)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._compile_insert(bulk, rows)
        return sql

    def insert(self, conn: Connection, bulk: _Bulk, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (tuples in ``bulk.columns`` order)."""
        if not rows:
            return
        if self.sqlite and not bulk.narrow:
            conn.exec_driver_sql(self.insert_sql(bulk), list(rows))
            return
        per = max(1, MULTIROW_PARAMS // len(bulk.columns))
        full = len(rows) - len(rows) % per
        if full:
            groups = [
                tuple(v for row in rows[i : i + per] for v in row) for i in range(0, full, per)
            ]
            conn.exec_driver_sql(self.insert_sql(bulk, per), groups)
        if full < len(rows):
            rest = tuple(v for row in rows[full:] for v in row)
            conn.exec_driver_sql(self.insert_sql(bulk, len(rows) - full), rest)

    # ---- lookups by (a, b)

    def _compile_lookup(self, table: Table, a: str, b: str, wanted: Sequence[str]) -> str:
        w: Any
        if self.sqlite:
            # a join with a VALUES list, each pair one index probe: SQLite answers
            # ``(a, b) IN (VALUES ...)`` by scanning the table, a cost that grows
            # with the ledger
            w = (
                values(column("a", String), column("b", String), name="w")
                .data([("", "")] * PAIR_CHUNK)
                .cte("w")
            )
            params = 2 * PAIR_CHUNK
        else:  # two arrays, whatever the number of pairs
            w = (
                func.unnest(
                    bindparam("a", type_=postgresql.ARRAY(String)),
                    bindparam("b", type_=postgresql.ARRAY(String)),
                )
                .table_valued("a", "b")
                .render_derived(name="w")
            )
            params = 2
        stmt = select(*(table.c[n] for n in wanted)).select_from(
            w.join(table, and_(table.c[a] == w.c.a, table.c[b] == w.c.b))
        )
        compiled = stmt.compile(dialect=self.dialect)
        if len(compiled.positiontup or ()) != params:
            raise AssertionError(f"unexpected parameters in {compiled}")
        return str(compiled)

    def lookup(
        self,
        conn: Connection,
        table: Table,
        a: str,
        b: str,
        wanted: Sequence[str],
        pairs: Iterable[tuple[str, str]],
    ) -> Iterator[Any]:
        """Rows (``wanted`` columns) of ``table`` whose (a, b) is one of ``pairs``."""
        sql = self._lookups.get(table.name)
        if sql is None:
            sql = self._lookups[table.name] = self._compile_lookup(table, a, b, wanted)
        todo = list(pairs)
        if not todo:
            return
        if not self.sqlite:
            yield from conn.exec_driver_sql(sql, ([p[0] for p in todo], [p[1] for p in todo]))
            return
        for i in range(0, len(todo), PAIR_CHUNK):
            chunk = todo[i : i + PAIR_CHUNK]
            chunk += [chunk[-1]] * (PAIR_CHUNK - len(chunk))
            yield from conn.exec_driver_sql(sql, tuple(x for pair in chunk for x in pair))


_BULK: dict[tuple[str, str], BulkSql] = {}


def bulk_sql(dialect: Dialect) -> BulkSql:
    """The append statements for ``dialect`` (one instance per dialect and driver)."""
    key = (dialect.name, dialect.driver)
    found = _BULK.get(key)
    if found is None:
        found = _BULK.setdefault(key, BulkSql(dialect))
    return found


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Head:
    size: int
    last_leaf_hash: bytes
    received_at: str


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    leaf_hash: bytes
    leaf: bytes
    digest: str
    issuer: str
    stmt_id: str
    type: str
    received_at: str


@dataclass(frozen=True)
class NewEntry:
    seq: int
    leaf_hash: bytes
    leaf: bytes
    digest: str
    issuer: str
    stmt_id: str
    type: str
    received_at: str
    refs: tuple[tuple[str, str], ...] = ()
    party_refs: tuple[str, ...] = ()


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


WRITER_CACHE_KIB = 65536
"""SQLite page cache of the appending connection: the hot pages of the indexes an
append touches stay in memory as the ledger grows (the default is 2 MiB)."""

WRITER_WAL_CHECKPOINT_PAGES = 10000
"""Pages of WAL after which an appending commit checkpoints (SQLite's default is
1,000, about one batch of 1,000 statements): index pages that every batch
rewrites are copied into the database once per ten batches rather than once per
batch. Durability is the WAL's, with ``synchronous=FULL``, either way."""


def make_engine(url: str, *, writer: bool = False) -> Engine:
    """An engine for ``url`` with the pragmas and locking custody relies on.

    ``writer``: the engine :meth:`Store.write` uses — its connections are
    reused most-recent-first and, on SQLite, get a larger page cache and
    checkpoint the WAL less often.
    """
    try:
        if _is_sqlite(url):
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 60},
                pool_use_lifo=writer,
            )

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.execute("PRAGMA foreign_keys=ON")
                if writer:
                    cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
                    cur.execute(f"PRAGMA wal_autocheckpoint={WRITER_WAL_CHECKPOINT_PAGES}")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                write = conn.get_execution_options().get("custody_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        else:
            engine = create_engine(url, pool_pre_ping=True, pool_use_lifo=writer)
    except (SQLAlchemyError, ValueError, ImportError) as e:
        raise ConfigError(f"cannot use database URL {url!r}: {e}") from e
    return engine


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class Store:
    """The storage seam: append, read ranges, head, and the state lookups."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = _is_sqlite(url)
        self._writer: Engine | None = None
        self._writer_lock = threading.Lock()

    @property
    def write_engine(self) -> Engine:
        """The engine of :meth:`write`, apart from :attr:`engine`: SQLite keeps a
        page cache per connection and drops it when another connection has
        written, so appends sharing a pool with reads would start cold every time."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = make_engine(self.url, writer=True)
            return self._writer

    def create_schema(self) -> None:
        try:
            SQLModel.metadata.create_all(self.engine)
        except OperationalError as e:
            raise ConfigError(f"cannot open the ledger database: {e.orig}") from e

    def close(self) -> None:
        self.engine.dispose()
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.dispose()

    # ------------------------------------------------------ transactions

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """One serialised write transaction (the append lock)."""
        with self.write_engine.connect() as conn:
            conn = conn.execution_options(custody_write=True)
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(select(HEAD.c.id).where(HEAD.c.id == 1).with_for_update())
                yield WriteTx(conn)

    @contextmanager
    def read(self) -> Iterator[ReadTx]:
        """A consistent read snapshot."""
        with self.engine.connect() as conn, conn.begin():
            if not self.is_sqlite:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield ReadTx(conn)


class ReadTx:
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

    def entries_by_seqs(self, seqs: Iterable[int]) -> list[StoredEntry]:
        t = ENTRIES
        wanted = sorted(set(seqs))
        out: list[StoredEntry] = []
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            rows = self.conn.execute(select(t).where(t.c.seq.in_(chunk)).order_by(t.c.seq))
            out.extend(self._entry(r) for r in rows)
        return out

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
        for chunk in _chunks(by_id):
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
        return None if r is None else _party(r)

    def key(self, kid: str) -> KeyRecord | None:
        r = self.conn.execute(select(KEYS).where(KEYS.c.kid == kid)).first()
        return None if r is None else _key(r)

    def lot(self, lot_id: str) -> LotRecord | None:
        r = self.conn.execute(select(LOTS).where(LOTS.c.id == lot_id)).first()
        return None if r is None else _lot(r)

    def holding(self, lot_id: str, party: str) -> Decimal:
        q = self.conn.execute(
            select(HOLDINGS.c.quantity).where(HOLDINGS.c.lot == lot_id, HOLDINGS.c.party == party)
        ).scalar()
        return ZERO if q is None else Decimal(q)

    def dispatch(self, digest: str) -> DispatchRecord | None:
        r = self.conn.execute(select(DISPATCHES).where(DISPATCHES.c.digest == digest)).first()
        return None if r is None else _dispatch(r)

    def keys_by_kid(self, kids: Iterable[str]) -> dict[str, KeyRecord]:
        wanted = list(set(kids))
        out: dict[str, KeyRecord] = {}
        t = KEYS
        for i in range(0, len(wanted), 900):
            for r in self.conn.execute(select(t).where(t.c.kid.in_(wanted[i : i + 900]))):
                out[r.kid] = _key(r)
        return out

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
        for chunk in _chunks(set(dispatches)):
            for r in self.conn.execute(select(dt).where(dt.c.digest.in_(chunk))):
                snap.dispatches[r.digest] = _dispatch(r)
                lot_ids.add(r.lot)
                pairs.update((r.lot, who) for who in dispatches[r.digest])
        for chunk in _chunks(party_ids):
            for r in self.conn.execute(select(pt).where(pt.c.id.in_(chunk))):
                snap.parties[r.id] = _party(r)
        kid_set = set(kids)
        snap.keys.update(self.keys_by_kid(kid_set))
        for chunk in _chunks(lot_ids):
            for r in self.conn.execute(select(lt).where(lt.c.id.in_(chunk))):
                snap.lots[r.id] = _lot(r)
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

    # ---- provenance index

    def lot_refs(self, lots: Iterable[str]) -> list[tuple[str, int, str]]:
        """(lot, seq, role) for every statement that mentions one of ``lots``."""
        t = LOT_REFS
        out: list[tuple[str, int, str]] = []
        for chunk in _chunks(set(lots)):
            out.extend(
                (r.lot, int(r.seq), r.role)
                for r in self.conn.execute(select(t).where(t.c.lot.in_(chunk)))
            )
        return out

    def party_history(self, parties: Iterable[str]) -> list[int]:
        """Seqs of the party, key and revoke statements of ``parties``."""
        out: set[int] = set()
        for chunk in _chunks(set(parties)):
            rows = self.conn.execute(select(PARTY_REFS.c.seq).where(PARTY_REFS.c.party.in_(chunk)))
            out.update(int(s) for (s,) in rows)
        return sorted(out)

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
        return [_dispatch(r) for r in self.conn.execute(q.order_by(t.c.seq))]

    def parties(self) -> list[PartyRecord]:
        return [_party(r) for r in self.conn.execute(select(PARTIES).order_by(PARTIES.c.seq))]

    def all_lots(self) -> list[LotRecord]:
        return [_lot(r) for r in self.conn.execute(select(LOTS))]

    def all_holdings(self) -> dict[tuple[str, str], Decimal]:
        rows = self.conn.execute(select(HOLDINGS.c.lot, HOLDINGS.c.party, HOLDINGS.c.quantity))
        return {(lot, p): Decimal(q) for lot, p, q in rows}

    def all_keys(self) -> list[KeyRecord]:
        return [_key(r) for r in self.conn.execute(select(KEYS))]

    def keys_of(self, party: str) -> list[KeyRecord]:
        t = KEYS
        return [_key(r) for r in self.conn.execute(select(t).where(t.c.party == party))]


class PrefetchedState:
    """A StateReader over bulk-read rows; falls back to the live transaction
    for anything not prefetched."""

    def __init__(self, operator: str | None) -> None:
        self._op = operator
        self.parties: dict[str, PartyRecord] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.lots: dict[str, LotRecord] = {}
        self.holdings: dict[tuple[str, str], Decimal] = {}
        self.dispatches: dict[str, DispatchRecord] = {}
        self.known_parties: set[str] = set()
        self.known_kids: set[str] = set()
        self.known_lots: set[str] = set()
        self.known_holdings: set[tuple[str, str]] = set()
        self.known_dispatches: set[str] = set()
        self.fallback: ReadTx | None = None

    def operator(self) -> str | None:
        return self._op

    def party(self, party_id: str) -> PartyRecord | None:
        if party_id in self.known_parties or self.fallback is None:
            return self.parties.get(party_id)
        return self.fallback.party(party_id)

    def key(self, kid: str) -> KeyRecord | None:
        if kid in self.known_kids or self.fallback is None:
            return self.keys.get(kid)
        return self.fallback.key(kid)

    def lot(self, lot_id: str) -> LotRecord | None:
        if lot_id in self.known_lots or self.fallback is None:
            return self.lots.get(lot_id)
        return self.fallback.lot(lot_id)

    def holding(self, lot_id: str, party: str) -> Decimal:
        if (lot_id, party) in self.known_holdings or self.fallback is None:
            return self.holdings.get((lot_id, party), ZERO)
        return self.fallback.holding(lot_id, party)

    def dispatch(self, digest: str) -> DispatchRecord | None:
        if digest in self.known_dispatches or self.fallback is None:
            return self.dispatches.get(digest)
        return self.fallback.dispatch(digest)


def _chunks(items: Iterable[Any], size: int = 900) -> Iterator[list[Any]]:
    seq = list(items)
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _party(r: Any) -> PartyRecord:
    return PartyRecord(
        r.id,
        r.name,
        r.country,
        r.subdivision,
        tuple(r.roles.split(",")) if r.roles else (),
        int(r.seq),
    )


def _key(r: Any) -> KeyRecord:
    return KeyRecord(
        r.kid,
        r.party,
        bytes(r.public_key),
        int(r.added_seq),
        None if r.revoked_seq is None else int(r.revoked_seq),
        r.reason,
        None if r.effective is None else datetime.fromisoformat(r.effective),
    )


def _lot(r: Any) -> LotRecord:
    return LotRecord(r.id, r.creator, r.material, r.unit, Decimal(r.quantity), int(r.seq))


def _dispatch(r: Any) -> DispatchRecord:
    return DispatchRecord(
        r.digest,
        int(r.seq),
        r.lot,
        r.sender,
        r.to,
        Decimal(r.quantity),
        _dec(r.received),
        None if r.receipt_seq is None else int(r.receipt_seq),
    )


class WriteTx(ReadTx):
    """Reads and writes inside the serialised append transaction."""

    def set_meta(self, name: str, value: str) -> None:
        self.conn.execute(delete(META).where(META.c.name == name))
        self.conn.execute(insert(META).values(name=name, value=value))

    def append(
        self,
        entries: Sequence[NewEntry],
        nodes: Sequence[tuple[int, int, bytes]],
        head: Head,
        changes: Changes,
        checkpoint: tuple[int, str] | None,
    ) -> None:
        """Write one batch: entries, tree nodes, state, head, checkpoint."""
        if not entries:
            return
        self.append_rows(
            [
                (e.seq, e.leaf_hash, e.leaf, e.digest, e.issuer, e.stmt_id, e.type, e.received_at)
                for e in entries
            ],
            [(node_id(lv, ix), h) for lv, ix, h in nodes],
            [(lot, e.seq, role) for e in entries for lot, role in set(e.refs)],
            [(p, e.seq) for e in entries for p in set(e.party_refs)],
            head,
            changes,
            checkpoint,
        )

    def append_rows(
        self,
        entries: Sequence[EntryTuple],
        nodes: Sequence[tuple[int, bytes]],
        lot_refs: Sequence[tuple[str, int, str]],
        party_refs: Sequence[tuple[str, int]],
        head: Head,
        changes: Changes,
        checkpoint: tuple[int, str] | None,
    ) -> None:
        """:meth:`append` with the rows already built: entries in
        :data:`ENTRY_COLUMNS` order, nodes as ``(node_id, hash)``, lot refs as
        ``(lot, seq, role)`` and party refs as ``(party, seq)``, each without
        repeats."""
        if not entries:
            return
        bulk, conn = self.bulk, self.conn
        bulk.insert(conn, _ENTRIES, entries)
        bulk.insert(conn, _NODES, nodes)
        bulk.insert(conn, _LOT_REFS, lot_refs)
        bulk.insert(conn, _PARTY_REFS, party_refs)
        self._write_state(changes)
        self._set_head(head)
        if checkpoint is not None:
            self.conn.execute(
                insert(CHECKPOINTS),
                [{"size": checkpoint[0], "note": checkpoint[1]}],
            )

    def _set_head(self, head: Head) -> None:
        values = {
            "size": head.size,
            "last_leaf_hash": head.last_leaf_hash,
            "received_at": head.received_at,
        }
        done = self.conn.execute(update(HEAD).where(HEAD.c.id == 1).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(HEAD).values(id=1, **values))

    def _write_state(self, ch: Changes) -> None:
        """Upsert the state rows a batch changed (one statement per table)."""
        if ch.operator is not None:
            self.set_meta("operator", ch.operator)
        bulk, conn = self.bulk, self.conn
        bulk.insert(
            conn,
            _PARTIES,
            [
                (p.id, p.name, p.country, p.subdivision, ",".join(p.roles), p.seq)
                for p in ch.parties.values()
            ],
        )
        bulk.insert(
            conn,
            _KEYS,
            [
                (
                    k.kid,
                    k.party,
                    k.public_key,
                    k.added_seq,
                    k.revoked_seq,
                    k.reason,
                    None if k.effective is None else k.effective.isoformat(),
                )
                for k in ch.keys.values()
            ],
        )
        bulk.insert(
            conn,
            _LOTS,
            [
                (lot.id, lot.creator, lot.material, lot.unit, str(lot.quantity), lot.seq)
                for lot in ch.lots.values()
            ],
        )
        bulk.insert(
            conn,
            _DISPATCHES,
            [
                (
                    d.digest,
                    d.seq,
                    d.lot,
                    d.sender,
                    d.to,
                    str(d.quantity),
                    None if d.received is None else str(d.received),
                    d.receipt_seq,
                )
                for d in ch.dispatches.values()
            ],
        )
        bulk.insert(conn, _HOLDINGS, [(lot, p, str(q)) for (lot, p), q in ch.holdings.items()])


def drop_all(url: str) -> None:
    """Drop every custody table (tests)."""
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
