"""The upstream trace of a lot, recomputed from parsed statements (SPEC §3
"Custody state", §6).

:class:`Trace` (:meth:`Trace.of`) recomputes the walk of
:func:`provenance.collect.collect` from parsed statements alone (it never
trusts the storage index), and works out who held each traced lot on its way
to the subject (the *custody path*). :class:`ParsedEntry` is a ledger entry
whose leaf parsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ledger.statements import (
    Dispatch,
    Import,
    Origin,
    Party,
    Receipt,
    Statement,
    Transform,
)

__all__ = ["Handoff", "ParsedEntry", "Trace"]


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """A ledger entry whose leaf parsed: the statement, its signatures and ledger time."""

    seq: int
    received_at: datetime
    statement: Statement
    signatures: tuple[tuple[str, bytes], ...]
    pae: bytes
    leaf_hash: bytes
    prev: str

    @property
    def digest(self) -> str:
        return self.statement.digest

    @property
    def issuer(self) -> str:
        return self.statement.issuer


@dataclass(frozen=True, slots=True)
class Handoff:
    """A dispatch of a traced lot and its receipt (None while in transit)."""

    dispatch: ParsedEntry
    receipt: ParsedEntry | None


@dataclass
class Trace:
    """The upstream trace of ``subject``, recomputed from parsed statements.

    * ``lots``: the traced lots (the subject, and recursively the inputs of the
      transform that created each traced lot);
    * ``creators``: each traced lot's creating ``origin`` or ``transform`` (the
      first by seq; a second creation is a CUSTODY finding of the replay);
    * ``on_lot``: every statement naming a traced lot, in seq order (a
      receipt names the lot of its dispatch);
    * ``consumers``: the traced transforms drawing on each lot, and the
      imports of the subject;
    * ``holders`` and ``handoffs``: the custody path, the parties that held
      each lot on its way to its consumers and the dispatch/receipt pairs
      between them (other buyers of the same lot are off the path);
    * ``registrations``: each party's ``party`` statement.
    """

    subject: str
    lots: set[str]
    creators: dict[str, ParsedEntry]
    on_lot: dict[str, list[ParsedEntry]]
    consumers: dict[str, list[ParsedEntry]]
    holders: dict[str, set[str]]
    handoffs: dict[str, list[Handoff]]
    registrations: dict[str, ParsedEntry]
    dispatches: dict[str, ParsedEntry]
    receipts: dict[str, ParsedEntry]
    _statements: list[ParsedEntry] | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, entries: Iterable[ParsedEntry], subject: str) -> Trace:
        ordered = sorted(entries, key=lambda e: e.seq)
        all_creators: dict[str, ParsedEntry] = {}
        registrations: dict[str, ParsedEntry] = {}
        dispatches: dict[str, ParsedEntry] = {}
        receipts: dict[str, ParsedEntry] = {}
        for e in ordered:
            st = e.statement
            if isinstance(st, Origin | Transform):
                for lot in st.lots_created():
                    all_creators.setdefault(lot, e)
            elif isinstance(st, Party):
                registrations.setdefault(st.party.id, e)
            elif isinstance(st, Dispatch):
                dispatches.setdefault(st.digest, e)
            elif isinstance(st, Receipt):
                receipts.setdefault(st.dispatch, e)
        lots = _walk(subject, all_creators)
        creators = {lot: all_creators[lot] for lot in lots if lot in all_creators}
        on_lot: dict[str, list[ParsedEntry]] = defaultdict(list)
        for e in ordered:
            for lot in _lots_named(e.statement, dispatches):
                if lot in lots:
                    on_lot[lot].append(e)
        consumers: dict[str, list[ParsedEntry]] = defaultdict(list)
        seen: set[int] = set()
        for e in creators.values():
            st = e.statement
            if isinstance(st, Transform) and e.seq not in seen:
                seen.add(e.seq)
                for item in st.inputs:
                    consumers[item.lot].append(e)
        for e in on_lot.get(subject, []):
            if isinstance(e.statement, Import):
                consumers[subject].append(e)
        trace = cls(
            subject,
            lots,
            creators,
            dict(on_lot),
            dict(consumers),
            {},
            {},
            registrations,
            dispatches,
            receipts,
        )
        for lot in lots:
            trace._custody_path(lot)
        return trace

    # -- custody path ---------------------------------------------------------

    def _custody_path(self, lot: str) -> None:
        creator = self.creators.get(lot)
        named = self.on_lot.get(lot, [])
        incoming: dict[str, list[ParsedEntry]] = defaultdict(list)
        for e in named:
            st = e.statement
            if isinstance(st, Dispatch):
                incoming[st.to].append(e)
        holders = {c.issuer for c in self.consumers.get(lot, [])}
        if not holders:
            # the subject with no import (or a lot nobody consumed): everyone who held it
            holders = {e.issuer for e in named if isinstance(e.statement, Receipt)}
            if creator is not None:
                holders.add(creator.issuer)
        queue = list(holders)
        handoffs: list[Handoff] = []
        while queue:
            party = queue.pop()
            if creator is not None and party == creator.issuer:
                continue
            for d in incoming.get(party, []):
                handoffs.append(Handoff(d, self.receipts.get(d.digest)))
                if d.issuer not in holders:
                    holders.add(d.issuer)
                    queue.append(d.issuer)
        handoffs.sort(key=lambda h: h.dispatch.seq)
        self.holders[lot] = holders
        self.handoffs[lot] = handoffs

    # -- read-outs --------------------------------------------------------------

    def statements(self) -> list[ParsedEntry]:
        """Every statement naming a traced lot, once each, in seq order."""
        if self._statements is None:
            unique = {e.seq: e for entries in self.on_lot.values() for e in entries}
            self._statements = [unique[s] for s in sorted(unique)]
        return list(self._statements)

    def transforms(self) -> list[ParsedEntry]:
        """The transforms that created traced lots, once each, in seq order."""
        unique = {e.seq: e for e in self.creators.values() if isinstance(e.statement, Transform)}
        return [unique[s] for s in sorted(unique)]

    def origins(self) -> list[ParsedEntry]:
        """The origins of traced lots, in seq order."""
        unique = {e.seq: e for e in self.creators.values() if isinstance(e.statement, Origin)}
        return [unique[s] for s in sorted(unique)]

    def path_parties(self) -> set[str]:
        """Every party that held a traced lot on its way to the subject."""
        out: set[str] = set()
        for parties in self.holders.values():
            out |= parties
        return out

    def party_name(self, party: str) -> str:
        reg = self.registrations.get(party)
        if reg is not None and isinstance(reg.statement, Party):
            return reg.statement.party.name
        return party

    def material(self, lot: str) -> str | None:
        """A traced lot's material, from its creator."""
        e = self.creators.get(lot)
        if e is None:
            return None
        st = e.statement
        if isinstance(st, Origin):
            return st.lot.material
        if isinstance(st, Transform):
            for out in st.outputs:
                if out.id == lot:
                    return out.material
        return None


def _walk(subject: str, creators: Mapping[str, ParsedEntry]) -> set[str]:
    lots = {subject}
    queue = [subject]
    while queue:
        creator = creators.get(queue.pop())
        if creator is None or not isinstance(creator.statement, Transform):
            continue
        for item in creator.statement.inputs:
            if item.lot not in lots:
                lots.add(item.lot)
                queue.append(item.lot)
    return lots


def _lots_named(st: Statement, dispatches: Mapping[str, ParsedEntry]) -> tuple[str, ...]:
    if isinstance(st, Receipt):
        d = dispatches.get(st.dispatch)
        if d is not None and isinstance(d.statement, Dispatch):
            return (d.statement.lot,)
        return ()
    return st.lots_referenced()
