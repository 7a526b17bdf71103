"""The cast of the demo: its scenarios, parties that sign and append, and small helpers.

A :class:`Story` is a fresh home with an operator; :meth:`Story.party` registers a
party with its own Ed25519 key (written to ``<out>/keys``); :class:`Party` signs its
statements and appends them through the same pipeline as ``custody submit``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey, save_private_key, save_public_key
from ledger.log import Ledger, SubmitResult
from ledger.statements import build_statement

START = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    subject: str  # the imported lot
    entry_number: str
    expect: str  # expected verdict


SCENARIOS = (
    Scenario(
        "cotton",
        "Clean cotton T-shirts",
        "angkor-garments/tshirts-2026-07",
        "NMR-2026001-4",
        "pass",
    ),
    Scenario(
        "polysilicon",
        "Laundered polysilicon (solar modules)",
        "assembler/modules-2026-03",
        "NMR-2026002-2",
        "fail",
    ),
    Scenario(
        "blend",
        "Partly traced apparel (cotton/polyester)",
        "blendco/hoodies-2026-05",
        "NMR-2026003-0",
        "incomplete",
    ),
    Scenario(
        "towels",
        "Cotton towels: paid to a third party, isotopes not Pakistani",
        "indus-home/towels-2026-11",
        "NMR-2026004-8",
        "fail",
    ),
)


@dataclass
class Party:
    story: Story
    id: str
    key: PrivateKey
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def say(self, type_: str, **body: Any) -> SubmitResult:
        """Sign and append one statement; raise if the ledger rejects it."""
        self.story.clock += timedelta(hours=7)
        sid = f"{type_}-{next(self._ids):03d}"
        payload = build_statement(type_, sid, self.id, self.story.clock, **body)
        (res,) = self.story.ledger.submit([sign_envelope(payload, [self.key])])
        if res.error is not None:
            raise res.error
        self.story.count += 1
        return res

    def origin(self, lot: str, material: str, kg: int, site: dict[str, Any]) -> None:
        self.say(
            "origin",
            lot={"id": lot, "material": material, "quantity": Decimal(kg), "unit": "kg"},
            site=site,
        )

    def trade(
        self,
        lot: str,
        qty: int,
        unit: str,
        to: Party,
        deal: Deal,
    ) -> None:
        """A sale: the seller's invoice, the dispatch and receipt, the carrier's transport
        document (filed by the seller) and the buyer's payment, all typed."""
        day = self.story.clock.date().isoformat()
        line = {"lot": lot, "quantity": Decimal(qty), "unit": unit}
        invoice = {
            "number": deal.invoice,
            "seller": self.id,
            "buyer": to.id,
            "date": day,
            "currency": deal.currency,
            "lines": [{**line, "amount": Decimal(deal.amount)}],
        }
        self.document(
            [lot],
            "commercial_invoice",
            f"INV-{deal.invoice}.txt",
            f"COMMERCIAL INVOICE {deal.invoice}\n{qty} {unit} {lot}\n"
            f"{deal.currency} {deal.amount}\n",
            fields=invoice,
        )
        self.ship(lot, qty, unit, to)
        transport: dict[str, Any] = {
            "number": deal.transport,
            "document_type": "bill_of_lading" if deal.mode != "air" else "air_waybill",
            "mode": deal.mode,
            "carrier": {"name": deal.carrier, "country": deal.carrier_country},
            "shipper": self.id,
            "consignee": to.id,
            "place_of_loading": deal.loading,
            "place_of_discharge": deal.discharge,
            "date": day,
            "lines": [line],
        }
        if deal.mode == "sea":
            transport["vessel"] = deal.vessel or "unnamed vessel"
        if deal.containers:
            transport["containers"] = list(deal.containers)
        self.document(
            [lot],
            "transport_document",
            f"BL-{deal.transport}.txt",
            f"BILL OF LADING {deal.transport}\n{deal.loading} -> {deal.discharge}\n"
            f"{qty} {unit} {lot}\n",
            fields=transport,
        )
        payment = {
            "payer": to.id,
            "payee": deal.payee or self.id,
            "amount": Decimal(deal.amount),
            "currency": deal.currency,
            "date": day,
            "invoices": [deal.invoice],
            "bank_reference": f"SWIFT-{deal.invoice}",
        }
        to.document(
            [lot],
            "payment_record",
            f"PAY-{deal.invoice}.txt",
            f"Wire transfer {deal.currency} {deal.amount} for invoice {deal.invoice}\n",
            fields=payment,
        )

    def ship(
        self,
        lot: str,
        qty: int | Decimal,
        unit: str,
        to: Party,
        documents: list[dict[str, str]] | None = None,
    ) -> None:
        """Dispatch, and the addressee's receipt of the full quantity."""
        body: dict[str, Any] = {"lot": lot, "quantity": Decimal(qty), "unit": unit, "to": to.id}
        if documents:
            body["documents"] = documents
        d = self.say("dispatch", **body)
        assert d.digest is not None
        to.say("receipt", dispatch=d.digest, quantity=Decimal(qty), unit=unit)

    def make(
        self,
        process: str,
        inputs: list[tuple[str, int, str]],
        outputs: list[dict[str, Any]],
        site: dict[str, Any],
        external: list[dict[str, Any]] | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "process": process,
            "inputs": [{"lot": lot, "quantity": Decimal(q), "unit": u} for lot, q, u in inputs],
            "outputs": outputs,
            "site": site,
        }
        if external:
            body["external_inputs"] = external
        self.say("transform", **body)

    def document(
        self,
        lots: list[str],
        kind: str,
        name: str,
        text: str,
        claims: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """Write a document file, store it in the home, and bind it to lots (with the typed
        ``fields`` of its kind, docs/evidence.md)."""
        path = self.story.docs_dir / name
        path.write_text(text, encoding="utf-8")
        sha, size = self.story.home.store_document(path)
        body: dict[str, Any] = {
            "lots": lots,
            "kind": kind,
            "document": {"sha256": sha, "name": name, "media_type": "text/plain", "size": size},
        }
        if claims:
            body["claims"] = claims
        if fields:
            body["fields"] = fields
        self.say("evidence", **body)
        return {"sha256": sha, "kind": kind, "name": name}

    def attach(self, kind: str, name: str, text: str) -> dict[str, str]:
        """A document carried by a dispatch (bill of lading), stored but not a statement."""
        path = self.story.docs_dir / name
        path.write_text(text, encoding="utf-8")
        sha, _ = self.story.home.store_document(path)
        return {"sha256": sha, "kind": kind, "name": name}


@dataclass(frozen=True)
class Deal:
    """The documents of one sale (:meth:`Party.trade`)."""

    invoice: str
    amount: str
    transport: str
    loading: str
    discharge: str
    carrier: str
    carrier_country: str
    mode: str = "sea"
    vessel: str | None = None
    containers: tuple[str, ...] = ()
    currency: str = "USD"
    payee: Any = None
    """Whom the buyer paid (default: the seller); a party id or ``{"name", "country"}``."""


class Story:
    def __init__(self, home: Home, ledger: Ledger, keys_dir: Path, docs_dir: Path) -> None:
        self.home = home
        self.ledger = ledger
        self.keys_dir = keys_dir
        self.docs_dir = docs_dir
        self.operator = Party(self, "operator", home.operator_key())
        self.clock = START
        self.count = 0
        keys_dir.mkdir(parents=True, exist_ok=True)
        docs_dir.mkdir(parents=True, exist_ok=True)

    def party(
        self,
        pid: str,
        name: str,
        country: str,
        *,
        roles: tuple[str, ...] = ("supplier",),
        subdivision: str | None = None,
        address: str | None = None,
    ) -> Party:
        key = PrivateKey.generate()
        save_private_key(self.keys_dir / f"{pid}.key", key)
        save_public_key(self.keys_dir / f"{pid}.pub", key.public_key)
        info: dict[str, Any] = {"id": pid, "name": name, "country": country, "roles": list(roles)}
        if subdivision:
            info["subdivision"] = subdivision
        if address:
            info["address"] = address
        self.operator.say("party", party=info, keys=[key.public_key_b64])
        return Party(self, pid, key)


def site_of(name: str, country: str, subdivision: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"name": name, "country": country}
    if subdivision:
        s["subdivision"] = subdivision
    return s


def output_lot(
    lot: str, material: str, qty: int, unit: str = "kg", mass_kg: int | None = None
) -> dict[str, Any]:
    o: dict[str, Any] = {"id": lot, "material": material, "quantity": Decimal(qty), "unit": unit}
    if mass_kg is not None:
        o["mass_kg"] = Decimal(mass_kg)
    return o


def invoice_text(no: str, seller: str, buyer: str, goods: str, amount: str) -> str:
    return (
        f"COMMERCIAL INVOICE {no}\nSeller: {seller}\nBuyer: {buyer}\n"
        f"Goods: {goods}\nAmount: {amount}\nTerms: FOB\n"
    )
