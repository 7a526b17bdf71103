"""Audit step 7: every table derived from the leaves holds exactly what the
replay derives, row by row.

The replay of :mod:`ledger.audit.chain` runs every statement through
:func:`ledger.custody.apply`, the function the append path runs, so the expected
rows come from the same code that wrote them:

* ``lot_refs`` and ``party_refs``: :func:`ledger.store.index_rows` of each
  statement's changes (what the append path writes), compared per range of seqs
  as the entries stream by, so memory does not grow with the index;
* ``parties``, ``keys``, ``lots``, ``holdings`` (zero rows included: a row at
  zero still makes a lot one of the party's roots for the API), ``dispatches``
  (``to``, quantities, receipt state) and ``meta.operator``: the replayed
  state, compared table by table at the end.

Extra rows, missing rows and changed columns are each a problem naming the row
and, where one exists, the seq of the statement the row derives from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ledger.audit.report import AuditReport, Problem
from ledger.custody import Changes, DispatchRecord, KeyRecord, LotRecord, MemoryState, PartyRecord
from ledger.store import ReadTx, index_rows

LOWEST = -(1 << 62)
HIGHEST = 1 << 62


def _seq(value: Any) -> int | None:
    return value if type(value) is int else None


class IndexCheck:
    """``lot_refs`` / ``party_refs`` against :func:`ledger.store.index_rows` of
    the replay, one range of seqs at a time."""

    def __init__(self, r: ReadTx, report: AuditReport) -> None:
        self.r = r
        self.report = report
        self.lot_refs: set[tuple[Any, ...]] = set()
        self.party_refs: set[tuple[Any, ...]] = set()
        self.skip: set[int] = set()
        self.checked_upto = LOWEST
        self.seen = {"lot_refs": 0, "party_refs": 0}

    def expect(self, seq: int, changes: Changes) -> None:
        """The index rows the statement at ``seq`` (which ``changes``) must have."""
        lot_refs, party_refs = index_rows(seq, changes)
        self.lot_refs.update(lot_refs)
        self.party_refs.update(party_refs)

    def already_reported(self, seq: int) -> None:
        """The statement at ``seq`` is already a problem: its index rows are not compared."""
        self.skip.add(seq)

    def flush(self, stop: int) -> None:
        """Compare the stored index rows with ``checked_upto <= seq < stop``."""
        start, self.checked_upto = self.checked_upto, stop
        lot_refs = self.r.lot_refs_between(start, stop)
        party_refs = self.r.party_refs_between(start, stop)
        self._compare("lot_refs", lot_refs, self.lot_refs, ("lot", "seq", "role"))
        self._compare("party_refs", party_refs, self.party_refs, ("party", "seq"))
        self.lot_refs, self.party_refs, self.skip = set(), set(), set()

    def finish(self) -> None:
        self.flush(HIGHEST)
        for table, seen in self.seen.items():
            total = self.r.row_count(table)
            if total != seen:
                self.report.add(
                    Problem(
                        None,
                        "index",
                        f"{table} holds {total - seen} row(s) whose seq is not a ledger seq",
                        {"table": table},
                    )
                )

    def _compare(
        self,
        table: str,
        stored: list[tuple[Any, ...]],
        derived: set[tuple[Any, ...]],
        columns: tuple[str, ...],
    ) -> None:
        self.seen[table] += len(stored)
        self.report.rows_checked += len(stored)
        have = set(stored)
        for row in sorted(have - derived, key=repr):
            seq = _seq(row[1])
            if seq in self.skip:
                continue
            self.report.add(
                Problem(
                    seq,
                    "index",
                    f"{table} row {_row(columns, row)} is not derived from the statement "
                    f"at seq {row[1]}",
                    {"table": table, "row": dict(zip(columns, map(_plain, row), strict=True))},
                )
            )
        for row in sorted(derived - have, key=repr):
            self.report.add(
                Problem(
                    row[1],
                    "index",
                    f"{table} row {_row(columns, row)} derived from seq {row[1]} is missing",
                    {"table": table, "row": dict(zip(columns, row, strict=True))},
                )
            )


def check_tables(r: ReadTx, state: MemoryState, report: AuditReport) -> None:
    """The state tables and ``meta.operator`` against the replayed state."""
    ch = state.changes
    _compare_table(report, "parties", r.derived_rows("parties"), ch.parties, _party_seq)
    _compare_table(report, "keys", r.derived_rows("keys"), ch.keys, _key_seq)
    _compare_table(report, "lots", r.derived_rows("lots"), ch.lots, _lot_seq)
    _compare_table(report, "dispatches", r.derived_rows("dispatches"), ch.dispatches, _d_seq)
    _compare_table(report, "holdings", r.derived_rows("holdings"), ch.holdings, lambda _: None)
    stored_op, replayed_op = r.meta("operator"), state.operator()
    if stored_op != replayed_op:
        party = ch.parties.get(replayed_op or "")
        report.add(
            Problem(
                None if party is None else party.seq,
                "state",
                f"meta operator is {stored_op!r} in the database but {replayed_op!r} by replay",
                {"table": "meta", "row": "operator"},
            )
        )


def _party_seq(p: PartyRecord) -> int | None:
    return _seq(p.seq)


def _key_seq(k: KeyRecord) -> int | None:
    return _seq(k.added_seq)


def _lot_seq(lot: LotRecord) -> int | None:
    return _seq(lot.seq)


def _d_seq(d: DispatchRecord) -> int | None:
    return _seq(d.seq)


def _compare_table(
    report: AuditReport,
    table: str,
    stored: Iterator[tuple[Any, Any, str | None]],
    derived: Mapping[Any, Any],
    seq_of: Callable[[Any], int | None],
) -> None:
    seen: set[Any] = set()
    for key, record, why in stored:
        report.rows_checked += 1
        seen.add(key)
        want = derived.get(key)
        where = {"table": table, "row": _plain(key)}
        if why is not None:
            seq = None if want is None else seq_of(want)
            report.add(Problem(seq, "state", f"{table} row {key!r} is unreadable ({why})", where))
        elif want is None:
            report.add(
                Problem(
                    seq_of(record),
                    "state",
                    f"{table} row {key!r} is not derived from any statement",
                    where,
                )
            )
        else:
            diffs = _differences(record, want)
            if diffs:
                seq = seq_of(want)
                said = "; ".join(
                    f"{c} is {a!r} in the database but {b!r} by replay" for c, a, b in diffs
                )
                report.add(
                    Problem(
                        seq,
                        "state",
                        f"{table} row {key!r} (seq {seq}) differs from the replay: {said}",
                        {**where, "columns": [c for c, _, _ in diffs]},
                    )
                )
    for key in sorted(set(derived) - seen, key=repr):
        seq = seq_of(derived[key])
        report.add(
            Problem(
                seq,
                "state",
                f"{table} row {key!r} derived from seq {seq} is missing",
                {"table": table, "row": _plain(key)},
            )
        )


def _differences(stored: Any, replayed: Any) -> list[tuple[str, Any, Any]]:
    """(column, stored, replayed) for each column that differs."""
    if dataclasses.is_dataclass(stored) and dataclasses.is_dataclass(replayed):
        pairs: Iterable[tuple[str, Any, Any]] = (
            (f.name, getattr(stored, f.name), getattr(replayed, f.name))
            for f in dataclasses.fields(replayed)
        )
    else:
        pairs = [("quantity", stored, replayed)]
    return [(name, a, b) for name, a, b in pairs if not _same(a, b)]


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except ArithmeticError:  # a signalling NaN
        return False


def _row(columns: tuple[str, ...], row: tuple[Any, ...]) -> str:
    return "(" + ", ".join(f"{c} {v!r}" for c, v in zip(columns, row, strict=True)) + ")"


def _plain(value: Any) -> Any:
    """A JSON-ready form of a row key or column value."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)
