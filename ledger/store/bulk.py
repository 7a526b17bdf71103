"""Bulk SQL of the append path: multi-row inserts, upserts and (a, b) pair lookups.

The append path runs a handful of statements per batch, each with up to a few
thousand rows. They are SQLAlchemy Core constructs compiled once per dialect
(positional parameters: ``?`` for SQLite, ``%s`` for psycopg) and executed with
``Connection.exec_driver_sql`` and parameter tuples, which skips the per-call
compilation, the per-row dicts and the (no-op, for these column types) per-row
type processing of ``execute(insert(T), [dict, ...])``: that was a third of
the append's time. Derived state rows are upserted with INSERT ... ON CONFLICT
DO UPDATE (one statement; SQLite and PostgreSQL share the syntax).

On PostgreSQL, rows that are only inserted (entries, tree nodes, the lot and
party indexes: most of an append's rows) go in by one binary ``COPY`` a table:
no statement to parse, plan and evaluate a row, which measured a tenth less
server CPU for a bulk load than the multi-row inserts below.

Other rows go in as an executemany of a multi-row form, as many rows a statement as
fit in MULTIROW_PARAMS parameters: psycopg sends and executes each statement
of an executemany on its own, so rows per statement divide the client's and
the server's per-statement work (and statements this small stay in psycopg's
query cache, which takes at most 50 parameters). On SQLite the driver loops in
C over one prepared statement; there the multi-row form pays only for the
narrow rows of the tree and the indexes (3x for nodes), not for entries nor
for the upserts, which measured slower, so those stay one row a statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    String,
    Table,
    and_,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from ledger.store.tables import (
    DISPATCHES,
    ENTRIES,
    HOLDINGS,
    KEYS,
    LOT_REFS,
    LOTS,
    NODES,
    PARTIES,
    PARTY_REFS,
)

ENTRY_COLUMNS = ("seq", "leaf_hash", "leaf", "digest", "issuer", "stmt_id", "type", "received_at")
PAIR_CHUNK = 500
"""Pairs per (a, b) lookup statement on SQLite; the last chunk is padded so that
one statement text serves."""

_COPY_TYPES = {"BigInteger": "int8", "LargeBinary": "bytea", "String": "text", "AutoString": "text"}
"""PostgreSQL types of a binary COPY, by the column's SQLAlchemy type."""

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


ENTRIES_BULK = _Bulk(ENTRIES, ENTRY_COLUMNS)
NODES_BULK = _Bulk(NODES, ("id", "hash"), narrow=True)
LOT_REFS_BULK = _Bulk(LOT_REFS, ("lot", "seq", "role"), narrow=True)
PARTY_REFS_BULK = _Bulk(PARTY_REFS, ("party", "seq"), narrow=True)
PARTIES_BULK = _Bulk(PARTIES, ("id", "name", "country", "subdivision", "roles", "seq"), ("id",))
KEYS_BULK = _Bulk(
    KEYS,
    ("kid", "party", "public_key", "added_seq", "revoked_seq", "reason", "effective"),
    ("kid",),
)
LOTS_BULK = _Bulk(LOTS, ("id", "creator", "material", "unit", "quantity", "seq"), ("id",))
HOLDINGS_BULK = _Bulk(HOLDINGS, ("lot", "party", "quantity"), ("lot", "party"))
DISPATCHES_BULK = _Bulk(
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
        self._copies: dict[str, tuple[str, list[str]]] = {}

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
        if not self.sqlite and not bulk.key:
            self._copy(conn, bulk, rows)
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

    def _copy(self, conn: Connection, bulk: _Bulk, rows: Sequence[tuple[Any, ...]]) -> None:
        """``rows`` appended to ``bulk.table`` by one binary COPY (PostgreSQL)."""
        found = self._copies.get(bulk.table.name)
        if found is None:
            quote = self.dialect.identifier_preparer.quote
            names = ", ".join(quote(c) for c in bulk.columns)
            sql = f"COPY {quote(bulk.table.name)} ({names}) FROM STDIN (FORMAT BINARY)"
            types = [_COPY_TYPES[type(bulk.table.c[c].type).__name__] for c in bulk.columns]
            found = self._copies[bulk.table.name] = (sql, types)
        sql, types = found
        raw = cast(Any, conn.connection.driver_connection)
        with raw.cursor() as cur, cur.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    # ---- lookups by (a, b)

    def _compile_lookup(
        self, table: Table, a: str, b: str, wanted: Sequence[str], split: bool = False
    ) -> str:
        w: Any
        if split:  # two texts the server splits: two parameters, nothing to dump a value
            w = (
                func.unnest(
                    func.string_to_array(bindparam("a", type_=String), bindparam("s1")),
                    func.string_to_array(bindparam("b", type_=String), bindparam("s2")),
                )
                .table_valued("a", "b")
                .render_derived(name="w")
            )
            params = 4
        elif self.sqlite:
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
        order = list(compiled.positiontup or ())
        if len(order) != params or (split and order != ["a", "s1", "b", "s2"]):
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
        todo = list(pairs)
        if not todo:
            return
        if not self.sqlite:
            firsts, seconds = [p[0] for p in todo], [p[1] for p in todo]
            a_text, b_text = split_text(firsts), split_text(seconds)
            split = a_text is not None and b_text is not None
            key = table.name + (" split" if split else "")
            sql = self._lookups.get(key)
            if sql is None:
                sql = self._lookups[key] = self._compile_lookup(table, a, b, wanted, split)
            if split:
                yield from conn.exec_driver_sql(sql, (a_text, SEP, b_text, SEP))
            else:
                yield from conn.exec_driver_sql(sql, (firsts, seconds))
            return
        sql = self._lookups.get(table.name)
        if sql is None:
            sql = self._lookups[table.name] = self._compile_lookup(table, a, b, wanted)
        for i in range(0, len(todo), PAIR_CHUNK):
            chunk = todo[i : i + PAIR_CHUNK]
            chunk += [chunk[-1]] * (PAIR_CHUNK - len(chunk))
            yield from conn.exec_driver_sql(sql, tuple(x for pair in chunk for x in pair))


SEP = "\n"
"""What joins the values of a list parameter on PostgreSQL (:func:`split_text`)."""


def split_text(values: Sequence[str]) -> str | None:
    """``values`` as one text for PostgreSQL's ``string_to_array(text, SEP)``, or None
    when that would not give them back (one of them empty or holding ``SEP``).

    psycopg adapts a list parameter value by value in Python and converts a query of
    thousands of placeholders on every call: for the few thousand identifiers an
    append looks up, that was a sixth of the appending process's CPU on PostgreSQL.
    One text and ``string_to_array`` on the server cost neither."""
    text = SEP.join(values)
    if not values or text.count(SEP) != len(values) - 1 or "" in values:
        return None
    return text


def any_of(values: Sequence[str]) -> Any:
    """The right side of ``column == any_(...)`` on PostgreSQL: ``values`` split by
    the server (:func:`split_text`), else an array parameter."""
    text = split_text(values)
    if text is None:
        return literal(list(values), postgresql.ARRAY(String))
    return func.string_to_array(literal(text, String), literal(SEP, String))


_BULK: dict[tuple[str, str], BulkSql] = {}


def bulk_sql(dialect: Dialect) -> BulkSql:
    """The append statements for ``dialect`` (one instance per dialect and driver)."""
    key = (dialect.name, dialect.driver)
    found = _BULK.get(key)
    if found is None:
        found = _BULK.setdefault(key, BulkSql(dialect))
    return found
