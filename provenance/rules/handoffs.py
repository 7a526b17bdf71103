"""The rows the document rules judge, and which documents concern each.

A **row** is a hand-off on the custody path (a ``dispatch`` of a traced lot
from a seller to a buyer, :attr:`provenance.trace.Trace.handoffs`) or a traced
``transform``. A **document** is an ``evidence`` statement bound to a traced lot,
or an item of a dispatch's ``documents``; documents whose statement failed its
signature check, or was voided, do not count.

Which documents concern a hand-off of lot L from seller S to buyer B
(dispatch D):

* an item of D's own ``documents``;
* a typed commercial document (purchase order, invoice, packing list) bound to
  L whose seller is S and buyer is B (a registered party by id; a named outside
  party by its registered name) and, except for a purchase order, that has a
  line for L;
* a typed transport document with a line for L whose shipper and consignee,
  when given, are S and B;
* a typed payment record that settles an invoice concerning the hand-off;
* any other document bound to L issued by S or B (untyped evidence, a
  certificate of origin ...).

A transform is concerned by the documents bound to one of its outputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.statements import Dispatch, Evidence, Transform
from ledger.statements.evidence_models import (
    EvidenceFields,
    PartyRef,
    PaymentRecord,
    TradeDocument,
    TransportDocument,
)
from ledger.units import Quantity
from provenance.rules.base import Context, rejection_rule
from provenance.trace import ParsedEntry, Trace

__all__ = ["Doc", "Row", "documents_of", "party_is", "rows_of"]

INVOICE_KINDS = frozenset({"commercial_invoice", "invoice"})


@dataclass(frozen=True)
class Doc:
    """A document of the evidence: its statement, kind, name and typed fields."""

    entry: ParsedEntry
    kind: str
    name: str
    sha256: str
    lots: tuple[str, ...]
    fields: EvidenceFields | None = None
    cited: bool = False
    """True for an item of a dispatch's ``documents`` (the dispatch is the statement)."""

    @property
    def digest(self) -> str:
        return self.entry.digest

    @property
    def seq(self) -> int:
        return self.entry.seq

    @property
    def issuer(self) -> str:
        return self.entry.issuer

    def label(self) -> str:
        number = getattr(self.fields, "number", None)
        what = f"{self.kind} {number}" if isinstance(number, str) else f"{self.kind} {self.name!r}"
        return f"{what} (seq {self.seq})"


@dataclass
class Row:
    """A hand-off (``dispatch``) or a ``transform`` and the documents concerning it."""

    kind: str  # "handoff" | "transform"
    entry: ParsedEntry
    lot: str
    party: str  # the seller, or the transforming party
    buyer: str | None = None
    quantity: Quantity | None = None
    docs: list[Doc] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return self.entry.seq

    def title(self, trace: Trace) -> str:
        st = self.entry.statement
        if self.kind == "handoff" and self.buyer is not None:
            return f"seq {self.seq}: {self.lot} from {self.party} to {self.buyer}"
        process = st.process if isinstance(st, Transform) else "transform"
        return f"seq {self.seq}: {process} by {self.party} into {self.lot}"

    def invoices(self) -> list[Doc]:
        return [d for d in self.docs if d.kind in INVOICE_KINDS]


def _folded(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def party_is(ref: PartyRef | None, party: str, trace: Trace) -> bool:
    """Whether ``ref`` names ``party``: by id, or a named party by its registered name."""
    if ref is None:
        return False
    if ref.id is not None:
        return ref.id == party
    return _folded(ref.name) == _folded(trace.party_name(party))


def _void(ctx: Context) -> set[str]:
    unsigned = {r.digest for r in ctx.replay.rejections if rejection_rule(r) == "SIGNATURE"}
    return unsigned | {v.digest for v in ctx.replay.voided}


def documents_of(ctx: Context) -> list[Doc]:
    """Every document bound to a traced lot or cited by a traced dispatch, in seq order."""
    trace, void = ctx.trace, _void(ctx)
    seen: dict[tuple[int, str], Doc] = {}
    for entries in trace.on_lot.values():
        for e in entries:
            st = e.statement
            if e.digest in void:
                continue
            if isinstance(st, Evidence):
                seen.setdefault(
                    (e.seq, st.document.sha256),
                    Doc(e, st.kind, st.document.name, st.document.sha256, st.lots, st.fields),
                )
            elif isinstance(st, Dispatch):
                for item in st.documents:
                    seen.setdefault(
                        (e.seq, item.sha256),
                        Doc(e, item.kind, item.name, item.sha256, (st.lot,), cited=True),
                    )
    return [seen[k] for k in sorted(seen)]


def _concerns_handoff(doc: Doc, row: Row, trace: Trace) -> bool:
    if doc.cited:
        return doc.entry.seq == row.seq
    if row.lot not in doc.lots or row.buyer is None:
        return False
    f = doc.fields
    if isinstance(f, TradeDocument):
        parties = party_is(f.seller, row.party, trace) and party_is(f.buyer, row.buyer, trace)
        lined = f.kind == "purchase_order" or any(line.lot == row.lot for line in f.lines)
        return parties and lined
    if isinstance(f, TransportDocument):
        if f.shipper is not None and not party_is(f.shipper, row.party, trace):
            return False
        if f.consignee is not None and not party_is(f.consignee, row.buyer, trace):
            return False
        return any(line.lot == row.lot for line in f.lines)
    if isinstance(f, PaymentRecord):
        return False  # attached through the invoices it settles
    return doc.issuer in (row.party, row.buyer)


def _settled_numbers(row: Row) -> set[str]:
    return {
        d.fields.number
        for d in row.invoices()
        if isinstance(d.fields, TradeDocument) and d.fields.kind == "commercial_invoice"
    }


def rows_of(ctx: Context, docs: Iterable[Doc] | None = None) -> list[Row]:
    """The hand-offs and transforms of the trace with their documents, in seq order."""
    trace = ctx.trace
    docs = list(documents_of(ctx) if docs is None else docs)
    by_lot: dict[str, list[Doc]] = defaultdict(list)
    cited: dict[int, list[Doc]] = defaultdict(list)
    payments: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        if d.cited:
            cited[d.seq].append(d)
            continue
        for lot in d.lots:
            by_lot[lot].append(d)
        if isinstance(d.fields, PaymentRecord):
            for number in d.fields.invoices:
                payments[number].append(d)
    rows: list[Row] = []
    for lot in sorted(trace.lots):
        for h in trace.handoffs.get(lot, []):
            st = h.dispatch.statement
            if isinstance(st, Dispatch):
                rows.append(Row("handoff", h.dispatch, lot, st.issuer, st.to, st.quantity))
    for e in trace.transforms():
        st = e.statement
        assert isinstance(st, Transform)
        outs = [o.id for o in st.outputs if o.id in trace.lots]
        rows.append(Row("transform", e, outs[0] if outs else st.outputs[0].id, st.issuer))
    rows.sort(key=lambda r: r.seq)
    for row in rows:
        if row.kind == "handoff":
            row.docs = list(cited.get(row.seq, []))
            row.docs += [d for d in by_lot.get(row.lot, []) if _concerns_handoff(d, row, trace)]
            numbers = _settled_numbers(row)
            settling = {d.seq: d for n in sorted(numbers) for d in payments.get(n, [])}
            row.docs += [settling[k] for k in sorted(settling)]
            if not numbers:  # untyped invoices: an untyped payment record by seller or buyer
                row.docs += [
                    d
                    for d in by_lot.get(row.lot, [])
                    if d.kind == "payment_record"
                    and d.fields is None
                    and d.issuer in (row.party, row.buyer)
                ]
        else:
            st = row.entry.statement
            assert isinstance(st, Transform)
            seen: dict[int, Doc] = {}
            for out in st.outputs:
                for d in by_lot.get(out.id, []):
                    seen.setdefault(d.seq, d)
            row.docs = [seen[k] for k in sorted(seen)]
    return rows
