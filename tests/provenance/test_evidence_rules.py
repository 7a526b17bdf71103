"""The document rules (EVIDENCE, PAYMENT, INVOICE-QUANTITY, LAB-TEST, CAPACITY) and the
profiles: each rule with a chain that triggers it and the nearest chain that does not.

One hand-off: a farm sells 1000 kg of seed cotton to an importer, who imports it.
Every statement is real, signed and appended; the documents are stored in the home.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import StatementError
from provenance.bundle import export_bundle, verify_bundle
from provenance.context import VerificationContext
from provenance.rules.profile import load_profile
from provenance.verify import Report
from tests.support import Actor, World, q, site

LOT = "farm/seed-1"
CBP = load_profile("cbp-uflpa")


class Hop:
    def __init__(self, world: World) -> None:
        self.world = world
        self.farm = world.party("farm", "Lubbock Farm", subdivision="US-TX")
        self.imp = world.party("imp", "Acme Imports", roles=("importer",))
        self.lab = world.party("lab", "Isotope Lab", "NZ", roles=("lab",))
        self.farm.submit(
            "origin",
            lot={"id": LOT, "material": "cotton.seed", "quantity": q(1000), "unit": "kg"},
            site=site("Lubbock farm", "US", "US-TX"),
        )
        d = self.farm.submit("dispatch", lot=LOT, quantity=q(1000), unit="kg", to="imp")
        self.imp.submit("receipt", dispatch=d.digest, quantity=q(1000), unit="kg")
        self.dispatch_seq = d.seq
        self.n = 0

    def doc(self, who: Actor, kind: str, fields: dict[str, Any] | None = None) -> str:
        self.n += 1
        path = self.world.home.path / f"doc-{self.n}.txt"
        path.write_text(f"{kind} {self.n}\n", encoding="utf-8")
        sha, size = self.world.home.store_document(path)
        body: dict[str, Any] = {
            "lots": [LOT],
            "kind": kind,
            "document": {
                "sha256": sha,
                "name": path.name,
                "media_type": "text/plain",
                "size": size,
            },
        }
        if fields is not None:
            body["fields"] = fields
        return str(who.submit("evidence", **body).digest)

    def invoice(self, kg: int = 1000, amount: str = "2500.00", number: str = "INV-1") -> str:
        return self.doc(self.farm, "commercial_invoice", {
            "number": number, "seller": "farm", "buyer": "imp", "date": "2026-02-01",
            "currency": "USD",
            "lines": [{"lot": LOT, "quantity": q(kg), "unit": "kg", "amount": Decimal(amount)}],
        })  # fmt: skip

    def transport(self, kg: int = 1000) -> str:
        return self.doc(self.farm, "transport_document", {
            "number": "BL-1", "document_type": "bill_of_lading", "mode": "road",
            "carrier": {"name": "Lubbock Haulers", "country": "US"}, "shipper": "farm",
            "consignee": "imp", "place_of_loading": "Lubbock", "place_of_discharge": "Chicago",
            "date": "2026-02-01", "lines": [{"lot": LOT, "quantity": q(kg), "unit": "kg"}],
        })  # fmt: skip

    def payment(
        self, payee: Any = "farm", amount: str = "2500.00", currency: str = "USD",
        invoices: tuple[str, ...] = ("INV-1",),
    ) -> str:  # fmt: skip
        return self.doc(self.imp, "payment_record", {
            "payer": "imp", "payee": payee, "amount": Decimal(amount), "currency": currency,
            "date": "2026-02-05", "invoices": list(invoices), "bank_reference": "SWIFT-1",
        })  # fmt: skip

    def complete(self) -> None:
        self.invoice()
        self.transport()
        self.payment()

    def imports(self) -> None:
        self.imp.submit(
            "import", lot=LOT, quantity=q(1000), unit="kg", entry_number="ABC-1234567-8"
        )

    def verify(self, profile: str = "cbp-uflpa") -> Report:
        with VerificationContext.from_home(
            self.world.home.path, ledger=self.world.ledger, profile=profile
        ) as ctx:
            return ctx.verify(LOT)


def rules(report: Report, severity: str | None = None) -> list[str]:
    return sorted(f.rule for f in report.findings if severity in (None, f.severity))


@pytest.fixture
def hop(world: World) -> Hop:
    return Hop(world)


def test_no_documents_is_incomplete_under_the_default_profile_and_passes_custody_only(hop: Hop):
    hop.imports()
    report = hop.verify()
    assert report.verdict == "incomplete"
    gaps = [f for f in report.findings if f.rule == "EVIDENCE"]
    assert sorted(f.details["requirement"] for f in gaps) == ["commercial", "transport"]
    seq = hop.dispatch_seq
    assert all(f.details["seq"] == seq and f.message.startswith(f"seq {seq}:") for f in gaps)
    assert hop.verify("custody-only").verdict == "pass"


def test_complete_documents_pass(hop: Hop):
    hop.complete()
    hop.imports()
    report = hop.verify()
    assert report.verdict == "pass", report.findings
    matrix = report.to_json()["documents"]
    (row,) = [r for r in matrix["rows"] if r["kind"] == "handoff"]
    assert {k: v["status"] for k, v in row["cells"].items()} == {
        "commercial": "present",
        "transport": "present",
        "payment": "present",
        "production": "n/a",
    }
    assert all(item["status"] == "ok" for item in matrix["checklist"])


def test_missing_bill_of_lading_is_one_evidence_gap(hop: Hop):
    hop.invoice()
    hop.payment()
    report = hop.verify()
    assert report.verdict == "incomplete"
    (gap,) = [f for f in report.findings if f.severity == "gap"]
    assert (gap.rule, gap.details["requirement"]) == ("EVIDENCE", "transport")


def test_an_invoiced_hand_off_needs_a_payment(hop: Hop):
    hop.invoice()
    hop.transport()
    report = hop.verify()
    (gap,) = [f for f in report.findings if f.severity == "gap"]
    assert gap.details["requirement"] == "payment"
    assert "INV-1" in gap.message


@pytest.mark.parametrize(
    ("payment", "problem"),
    [
        ({"payee": {"name": "Golden Bridge Trading Ltd.", "country": "HK"}}, "payee"),
        ({"payee": "imp"}, "payee"),
        ({"amount": "2000.00"}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"invoices": ("INV-9",)}, "unknown_invoice"),
    ],
    ids=["third-party", "payer-is-payee", "short", "currency", "no-such-invoice"],
)
def test_payment_problems_fail(hop: Hop, payment: dict[str, Any], problem: str):
    hop.invoice()
    hop.transport()
    hop.payment(**payment)
    report = hop.verify()
    assert report.verdict == "fail"
    found = [f for f in report.findings if f.rule == "PAYMENT"]
    assert problem in {f.details["problem"] for f in found}, found


def test_a_payment_to_the_seller_by_its_registered_name_passes(hop: Hop):
    hop.invoice()
    hop.transport()
    hop.payment(payee={"name": "Lubbock  farm", "country": "US"})
    assert "PAYMENT" not in rules(hop.verify())


def test_an_invoice_for_more_than_was_shipped_fails(hop: Hop):
    hop.invoice(kg=1100, amount="2750.00")
    hop.transport()
    hop.payment(amount="2750.00")
    report = hop.verify()
    assert report.verdict == "fail"
    assert rules(report, "error") == ["INVOICE-QUANTITY"]
    assert "invoiced 1100 kg" in report.findings[0].message


def test_an_invoice_within_the_tolerance_passes(hop: Hop):
    hop.invoice(kg=1004)
    hop.transport()
    hop.payment()
    assert hop.verify().verdict == "pass"


def lab_fields(result: str, *, accreditation: bool = True, custody: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "laboratory": "lab",
        "method": "stable_isotope",
        "sample": {"id": "S-1"},
        "origin_claimed": {"country": "US", "subdivision": "US-TX"},
        "result": result,
        "date": "2026-02-10",
    }
    if accreditation:
        fields["accreditation"] = "IANZ-1287"
    if custody:
        fields["sample"]["custody"] = [{"from": "imp", "to": "lab", "date": "2026-02-08"}]
    return fields


def test_an_inconsistent_isotope_test_fails_even_from_a_lab_outside_the_path(hop: Hop):
    hop.complete()
    hop.doc(hop.lab, "lab_test", lab_fields("inconsistent"))
    report = hop.verify()
    assert report.verdict == "fail"
    assert rules(report, "error") == ["LAB-TEST"]


def test_a_consistent_accredited_test_with_sample_custody_passes(hop: Hop):
    hop.complete()
    hop.doc(hop.lab, "lab_test", lab_fields("consistent"))
    report = hop.verify()
    assert report.verdict == "pass"
    assert "LAB-TEST" not in rules(report)


def test_an_unaccredited_test_without_sample_custody_warns(hop: Hop):
    hop.complete()
    hop.doc(hop.lab, "lab_test", lab_fields("consistent", accreditation=False, custody=False))
    report = hop.verify()
    assert report.verdict == "pass"
    problems = sorted(f.details["problem"] for f in report.findings if f.rule == "LAB-TEST")
    assert problems == ["accreditation", "sample_custody"]
    assert rules(report, "warning") == ["LAB-TEST", "LAB-TEST"]


def production(output: int) -> dict[str, Any]:
    return {
        "site": site("Lubbock farm", "US", "US-TX"),
        "capacity_per_day": {"quantity": q(10), "unit": "kg"},
        "period": {"start": "2026-01-01", "end": "2026-01-31"},
        "output": {"quantity": q(output), "unit": "kg"},
    }


@pytest.mark.parametrize(("output", "warned"), [(311, True), (310, False)])
def test_capacity(hop: Hop, output: int, warned: bool):
    hop.complete()
    hop.doc(hop.farm, "production_record", production(output))
    report = hop.verify()
    assert report.verdict == "pass"
    assert ("CAPACITY" in rules(report, "warning")) is warned


def test_offline_bundle_verification_agrees(hop: Hop, tmp_path):
    hop.invoice()
    hop.transport()
    hop.payment(payee={"name": "Golden Bridge Trading Ltd.", "country": "HK"})
    hop.imports()
    report = hop.verify()
    out = tmp_path / "b.zip"
    export_bundle(hop.world.ledger, LOT, out, documents_dir=hop.world.home.documents, profile=CBP)
    checked = verify_bundle(out, operator_key=hop.world.ledger.verifier_key(), profile=CBP)
    assert (checked.verdict, report.verdict) == ("fail", "fail")
    assert sorted(f.rule for f in checked.findings if f.severity == "error") == ["PAYMENT"]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"currency": "XYZ"}, "invalid_statement.bad_value", "fields.currency"),
        ({"date": "2026-02-30"}, "invalid_statement.bad_time", "fields.date"),
        ({"seller": "Not An Id"}, "invalid_statement.bad_party_id", "fields.seller"),
        ({"extra": 1}, "invalid_statement.unknown_field", "fields.extra"),
        ({"lines": [{"lot": "other/lot", "quantity": 1, "unit": "kg", "amount": 1}]},
         "invalid_statement.bad_value", "fields.lines[0].lot"),
        ({"lines": [{"lot": LOT, "quantity": 1, "unit": "kg", "amount": -1}]},
         "invalid_statement.bad_value", "fields.lines[0].amount"),
    ],
    ids=["currency", "date", "party", "unknown", "lot", "amount"],
)  # fmt: skip
def test_typed_fields_are_validated_with_their_path(
    hop: Hop, change: dict[str, Any], code: str, field: str
):
    fields = {
        "number": "INV-1", "seller": "farm", "buyer": "imp", "date": "2026-02-01",
        "currency": "USD", "lines": [{"lot": LOT, "quantity": 1, "unit": "kg", "amount": 1}],
    }  # fmt: skip
    with pytest.raises(StatementError) as e:
        hop.doc(hop.farm, "commercial_invoice", {**fields, **change})
    assert (e.value.code, e.value.field) == (
        code,
        field,
    )


def test_a_container_number_with_a_wrong_check_digit_is_refused(hop: Hop):
    with pytest.raises(StatementError, match="check digit"):
        hop.doc(hop.farm, "transport_document", {
            "number": "BL-1", "document_type": "sea_waybill", "mode": "sea", "vessel": "V",
            "carrier": {"name": "C", "country": "DK"}, "containers": ["CSQU3054384"],
            "place_of_loading": "A", "place_of_discharge": "B", "date": "2026-02-01",
            "lines": [{"lot": LOT, "quantity": 1, "unit": "kg"}],
        })  # fmt: skip


def test_untyped_evidence_keeps_working(hop: Hop):
    hop.doc(hop.farm, "invoice")
    hop.doc(hop.farm, "bill_of_lading")
    hop.doc(hop.imp, "payment_record")
    assert hop.verify().verdict == "pass"


def test_a_bundle_verified_with_another_profile_says_so_and_is_judged_by_the_auditors(
    hop: Hop, tmp_path
):
    hop.imports()
    out = tmp_path / "b.zip"
    export_bundle(hop.world.ledger, LOT, out, documents_dir=hop.world.home.documents, profile=CBP)
    key = hop.world.ledger.verifier_key()
    strict = verify_bundle(out, operator_key=key, profile=CBP)
    assert strict.verdict == "incomplete"
    lenient = verify_bundle(out, operator_key=key, profile=load_profile("custody-only"))
    assert lenient.verdict == "pass"
    notes = [f for f in lenient.findings if "made with document profile" in f.message]
    assert [f.severity for f in notes] == ["info"]
