"""Rule family "trade documents": EVIDENCE, PAYMENT, INVOICE-QUANTITY.

* ``EVIDENCE`` (gap): a hand-off (or transform) lacks a document type the
  verification's profile requires (:mod:`provenance.rules.profile`); one
  finding per row and missing requirement, naming the dispatch's seq.
* ``PAYMENT`` (error): a typed payment record settles an invoice number that no
  typed ``commercial_invoice`` of the evidence carries; its payee is not the
  invoice's seller; its currency is not the invoice's; its amount does not equal
  the invoices it settles (a payment of several invoices must equal their sum;
  the payments of one invoice must add up to its total).
* ``INVOICE-QUANTITY`` (error): for each seller, buyer and lot, the quantity on
  the typed invoices, transport documents or packing lists concerning the
  hand-offs differs from the dispatched quantity by more than the profile's
  ``quantity_tolerance`` (relative to the dispatched quantity).

Documents are matched to hand-offs by :mod:`provenance.rules.handoffs`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import cast

from ledger.errors import StatementError
from ledger.statements.evidence_models import PartyRef, PaymentRecord, TradeDocument
from ledger.units import EXACT, ROUNDED, Quantity, format_decimal
from provenance.graph import stmt_node
from provenance.rules.base import Context, Finding, RuleBase
from provenance.rules.handoffs import Doc, Row, documents_of, party_is, rows_of

__all__ = ["EvidenceRule", "InvoiceQuantityRule", "PaymentRule", "documents", "rows"]


def documents(ctx: Context) -> list[Doc]:
    """The documents of the evidence, derived once per verification."""
    if "documents" not in ctx.memo:
        ctx.memo["documents"] = documents_of(ctx)
    return cast(list[Doc], ctx.memo["documents"])


def rows(ctx: Context) -> list[Row]:
    """The hand-offs and transforms with their documents, derived once per verification."""
    if "rows" not in ctx.memo:
        ctx.memo["rows"] = rows_of(ctx, documents(ctx))
    return cast(list[Row], ctx.memo["rows"])


class EvidenceRule(RuleBase):
    """EVIDENCE: a hand-off lacks documents the profile requires."""

    id = "EVIDENCE"
    severity = "gap"

    def check(self, ctx: Context) -> Iterator[Finding]:
        profile = ctx.profile
        for row in rows(ctx):
            for req in profile.for_rows(row.kind):
                if not req.required:
                    continue
                if req.when == "invoiced" and not row.invoices():
                    continue
                if any(d.kind in req.kinds for d in row.docs):
                    continue
                what = row.title(ctx.trace)
                because = ""
                if req.when == "invoiced":
                    because = " for " + ", ".join(d.label() for d in row.invoices())
                yield self.finding(
                    f"{what}: no {req.label}{because} ({' or '.join(req.kinds[:3])}); "
                    f"profile {profile.name} requires one",
                    [row.entry.digest, *(d.digest for d in row.invoices())],
                    seq=row.seq,
                    lot=row.lot,
                    party=row.party,
                    buyer=row.buyer,
                    requirement=req.id,
                    kinds=list(req.kinds),
                    profile=profile.name,
                )


def _same_party(a: PartyRef, b: PartyRef, ctx: Context) -> bool:
    if a.id is not None and b.id is None:
        return party_is(b, a.id, ctx.trace)
    if b.id is not None and a.id is None:
        return party_is(a, b.id, ctx.trace)
    return a.same(b)


def _total(amounts: list[Decimal]) -> Decimal:
    """An exact sum (amounts have at most 33 significant digits; 50 are kept)."""
    total = Decimal(0)
    for amount in amounts:
        total = EXACT.add(total, amount)
    return total


def _money(amount: Decimal, currency: str | None) -> str:
    return f"{currency or ''} {format_decimal(amount)}".strip()


class PaymentRule(RuleBase):
    """PAYMENT: payments that do not match the invoices they settle."""

    id = "PAYMENT"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        docs = documents(ctx)
        invoices: dict[str, list[Doc]] = defaultdict(list)
        for d in docs:
            if isinstance(d.fields, TradeDocument) and d.fields.kind == "commercial_invoice":
                invoices[d.fields.number].append(d)
        paid: dict[str, list[Doc]] = defaultdict(list)
        for p in docs:
            pay = p.fields
            if not isinstance(pay, PaymentRecord):
                continue
            known: list[tuple[str, Doc, TradeDocument]] = []
            for number in pay.invoices:
                found = invoices.get(number)
                if not found:
                    yield self.finding(
                        f"seq {p.seq}: payment {pay.bank_reference} by {pay.payer} settles "
                        f"invoice {number}, which no commercial invoice of the evidence carries",
                        [p.digest],
                        seq=p.seq,
                        invoice=number,
                        problem="unknown_invoice",
                    )
                    continue
                inv = found[0]
                assert isinstance(inv.fields, TradeDocument)
                known.append((number, inv, inv.fields))
            for number, inv, fields in known:
                if not _same_party(pay.payee, fields.seller, ctx):
                    yield self.finding(
                        f"seq {p.seq}: payment {pay.bank_reference} for invoice {number} went to "
                        f"{pay.payee}, not to the seller {fields.seller} ({inv.label()})",
                        [p.digest, inv.digest],
                        seq=p.seq,
                        invoice=number,
                        payee=str(pay.payee),
                        seller=str(fields.seller),
                        problem="payee",
                        nodes=[stmt_node(p.digest)],
                    )
                if fields.currency is not None and fields.currency != pay.currency:
                    yield self.finding(
                        f"seq {p.seq}: payment {pay.bank_reference} is in {pay.currency} but "
                        f"invoice {number} is in {fields.currency}",
                        [p.digest, inv.digest],
                        seq=p.seq,
                        invoice=number,
                        problem="currency",
                    )
            if len(known) == 1:
                paid[known[0][0]].append(p)
            elif len(known) > 1:
                totals = [f.total for _, _, f in known]
                if all(t is not None for t in totals):
                    due = _total([t for t in totals if t is not None])
                    if due != pay.amount:
                        yield self.finding(
                            f"seq {p.seq}: payment {pay.bank_reference} of "
                            f"{_money(pay.amount, pay.currency)} settles invoices "
                            f"{', '.join(n for n, _, _ in known)} totalling "
                            f"{_money(due, pay.currency)}",
                            [p.digest, *(i.digest for _, i, _ in known)],
                            seq=p.seq,
                            amount=format_decimal(pay.amount),
                            due=format_decimal(due),
                            problem="amount",
                        )
        for number, payments in sorted(paid.items()):
            inv = invoices[number][0]
            assert isinstance(inv.fields, TradeDocument)
            total = inv.fields.total
            if total is None:
                continue
            amounts = [p.fields.amount for p in payments if isinstance(p.fields, PaymentRecord)]
            got = _total(amounts)
            if got != total:
                yield self.finding(
                    f"invoice {number} (seq {inv.seq}) is for "
                    f"{_money(total, inv.fields.currency)} but its payments "
                    f"({', '.join(f'seq {p.seq}' for p in payments)}) total "
                    f"{_money(got, inv.fields.currency)}",
                    [inv.digest, *(p.digest for p in payments)],
                    invoice=number,
                    amount=format_decimal(got),
                    due=format_decimal(total),
                    problem="amount",
                )


_QUANTITY_KINDS = {
    "commercial_invoice": "invoiced",
    "transport_document": "shipped",
    "packing_list": "packed",
}


def _line_total(doc: Doc, lot: str) -> Quantity | None:
    lines = getattr(doc.fields, "lines", ())
    total: Quantity | None = None
    for line in lines:
        if line.lot == lot:
            total = line.quantity if total is None else total + line.quantity
    return total


class InvoiceQuantityRule(RuleBase):
    """INVOICE-QUANTITY: documented quantities that disagree with the dispatches."""

    id = "INVOICE-QUANTITY"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        tolerance = ctx.profile.quantity_tolerance
        groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        for row in rows(ctx):
            if row.kind == "handoff" and row.buyer is not None and row.quantity is not None:
                groups[(row.party, row.buyer, row.lot)].append(row)
        for (seller, buyer, lot), group in groups.items():
            dispatched = group[0].quantity
            assert dispatched is not None
            for r in group[1:]:
                assert r.quantity is not None
                dispatched = dispatched + r.quantity
            for kind, verb in _QUANTITY_KINDS.items():
                docs = {d.seq: d for r in group for d in r.docs if d.kind == kind and d.fields}
                stated: Quantity | None = None
                for d in docs.values():
                    q = _line_total(d, lot)
                    if q is not None:
                        stated = q if stated is None else stated + q
                if stated is None:
                    continue
                finding = self._compare(
                    dispatched, stated, tolerance, verb, (seller, buyer, lot), group, docs
                )
                if finding is not None:
                    yield finding

    def _compare(
        self,
        dispatched: Quantity,
        stated: Quantity,
        tolerance: Decimal,
        verb: str,
        who: tuple[str, str, str],
        group: list[Row],
        docs: dict[int, Doc],
    ) -> Finding | None:
        seller, buyer, lot = who
        seqs = ", ".join(f"seq {r.seq}" for r in group)
        names = ", ".join(d.label() for d in docs.values())
        digests = [*(r.entry.digest for r in group), *(d.digest for d in docs.values())]
        try:
            diff = abs(EXACT.subtract(stated.base, dispatched.base))
            comparable = stated.dimension == dispatched.dimension
        except StatementError:
            comparable = False
        if not comparable:
            return self.finding(
                f"{lot} from {seller} to {buyer}: {verb} {stated} ({names}) cannot be compared "
                f"with the {dispatched} dispatched ({seqs})",
                digests,
                lot=lot,
                problem="unit",
            )
        allowed = EXACT.multiply(dispatched.base, tolerance)
        if diff <= allowed:
            return None
        share = ROUNDED.divide(diff, dispatched.base) * 100
        return self.finding(
            f"{lot} from {seller} to {buyer}: {verb} {stated} ({names}) but {dispatched} "
            f"dispatched ({seqs}), off by {share:.2f}% (tolerance "
            f"{tolerance * 100:.2f}%)",
            digests,
            lot=lot,
            seller=seller,
            buyer=buyer,
            stated=str(stated),
            dispatched=str(dispatched),
            document=verb,
            tolerance=str(tolerance),
        )
