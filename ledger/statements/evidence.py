"""The typed ``fields`` of an ``evidence`` statement (CBP's trade documents).

An ``evidence`` statement whose ``kind`` is one of :data:`TYPED_KINDS` may carry a
``fields`` object; it is validated strictly (unknown fields rejected, dotted
paths such as ``fields.lines[0].amount`` in the error) and parsed into the
models of :mod:`ledger.statements.evidence_models`. Without ``fields`` a
statement is untyped evidence, as before. Conventions:

* a **party** is a registered party id (``"plains-gin"``) or a named outside
  party ``{"name", "country"}``;
* **money**: ``amount`` a JSON number ≥ 0 (exact decimal, at most 18 decimal
  places) with ``currency`` an ISO 4217 code known to pycountry;
* **quantities**: ``quantity`` and ``unit`` as everywhere in statements;
* **dates**: ``YYYY-MM-DD``;
* **document numbers** (``number``, ``invoices[]``, ``references[]``): 1 to 64
  of ``A-Z a-z 0-9 . / _ : # -`` and spaces, starting with a letter or digit;
* every ``lines[].lot`` must be one of the statement's ``lots``.

docs/evidence.md lists each kind's fields with an example.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from ledger.statements.evidence_models import (
    COMMERCIAL_KINDS,
    TYPED_KINDS,
    AuditReport,
    CertificateOfOrigin,
    CustodyStep,
    EvidenceFields,
    LabTest,
    PaymentRecord,
    ProductionRecord,
    Sample,
    TradeDocument,
    TransportDocument,
)
from ledger.statements.evidence_values import (
    AUDIT_RESULTS,
    LAB_METHODS,
    LAB_RESULTS,
    TRANSPORT_TYPES,
    _amount,
    _container,
    _currency,
    _date,
    _lines,
    _number,
    _numbers,
    _one_of,
    _opt,
    _party,
)
from ledger.statements.fields import (
    _array,
    _check_keys,
    _country,
    _fail,
    _join,
    _match,
    _object,
    _optional_subdivision,
    _quantity,
    _show,
    _text,
    _unique_list,
)
from ledger.statements.objects import _site

__all__ = ["TYPED_KINDS", "parse_fields"]


def _trade(kind: str) -> Callable[[dict[str, Any], str, tuple[str, ...]], EvidenceFields]:
    priced = kind != "packing_list"

    def parse(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> EvidenceFields:
        required: tuple[str, ...] = ("number", "seller", "buyer", "date", "lines")
        if kind == "commercial_invoice":
            required += ("currency",)
        allowed = frozenset({*required, "currency", "references", "incoterms"})
        _check_keys(obj, path, required, allowed)
        if "incoterms" in obj:
            _match(
                obj["incoterms"],
                _join(path, "incoterms"),
                re.compile(r"[A-Z]{3}"),
                "bad_value",
                "an Incoterms rule like FOB",
            )
        currency = _opt(obj, path, "currency", _currency)
        lines = _lines(
            obj, path, lots, lot=kind != "purchase_order", amount=kind == "commercial_invoice"
        )
        if priced and any(line.amount is not None for line in lines) and currency is None:
            _fail("missing_field", _join(path, "currency"), "is required when lines have amounts")
        return TradeDocument(
            kind=kind,
            number=_number(obj["number"], _join(path, "number")),
            seller=_party(obj["seller"], _join(path, "seller")),
            buyer=_party(obj["buyer"], _join(path, "buyer")),
            date=_date(obj["date"], _join(path, "date")),
            lines=lines,
            currency=currency,
            references=_numbers(obj, path, "references"),
        )

    return parse


_TRANSPORT_REQUIRED: Final = (
    "number", "document_type", "mode", "carrier", "place_of_loading", "place_of_discharge",
    "date", "lines",
)  # fmt: skip
_TRANSPORT_ALLOWED: Final = frozenset(
    {*_TRANSPORT_REQUIRED, "shipper", "consignee", "vessel", "voyage", "flight", "containers",
     "references"}
)  # fmt: skip


def _transport(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> TransportDocument:
    _check_keys(obj, path, _TRANSPORT_REQUIRED, _TRANSPORT_ALLOWED)
    doc_type = _one_of(obj["document_type"], _join(path, "document_type"), tuple(TRANSPORT_TYPES))
    modes = TRANSPORT_TYPES[doc_type]
    mode = _one_of(obj["mode"], _join(path, "mode"), ("sea", "air", "road", "rail"))
    if mode not in modes:
        _fail(
            "bad_value",
            _join(path, "mode"),
            f"a {doc_type} is for {' or '.join(modes)}, got {_show(mode)}",
        )
    if mode == "sea" and "vessel" not in obj:
        _fail("missing_field", _join(path, "vessel"), "is required for carriage by sea")
    if mode == "air" and "flight" not in obj:
        _fail("missing_field", _join(path, "flight"), "is required for carriage by air")
    containers: tuple[str, ...] = ()
    if "containers" in obj:
        where = _join(path, "containers")
        raw = _array(obj["containers"], where)
        containers = tuple(_container(c, f"{where}[{i}]") for i, c in enumerate(raw))
        _unique_list(list(containers), where, "container")
    return TransportDocument(
        number=_number(obj["number"], _join(path, "number")),
        document_type=doc_type,
        mode=mode,
        carrier=_party(obj["carrier"], _join(path, "carrier")),
        place_of_loading=_text(obj["place_of_loading"], _join(path, "place_of_loading")),
        place_of_discharge=_text(obj["place_of_discharge"], _join(path, "place_of_discharge")),
        date=_date(obj["date"], _join(path, "date")),
        lines=_lines(obj, path, lots, lot=True, amount=False),
        shipper=_opt(obj, path, "shipper", _party),
        consignee=_opt(obj, path, "consignee", _party),
        vessel=_opt(obj, path, "vessel", _text),
        voyage=_opt(obj, path, "voyage", _number),
        flight=_opt(obj, path, "flight", _number),
        containers=containers,
        references=_numbers(obj, path, "references"),
    )


_PAYMENT_KEYS: Final = (
    "payer",
    "payee",
    "amount",
    "currency",
    "date",
    "invoices",
    "bank_reference",
)


def _payment(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> PaymentRecord:
    _check_keys(obj, path, _PAYMENT_KEYS, frozenset(_PAYMENT_KEYS))
    return PaymentRecord(
        payer=_party(obj["payer"], _join(path, "payer")),
        payee=_party(obj["payee"], _join(path, "payee")),
        amount=_amount(obj["amount"], _join(path, "amount")),
        currency=_currency(obj["currency"], _join(path, "currency")),
        date=_date(obj["date"], _join(path, "date")),
        invoices=_numbers(obj, path, "invoices", required=True),
        bank_reference=_number(obj["bank_reference"], _join(path, "bank_reference")),
    )


def _sample(value: object, path: str) -> Sample:
    obj = _object(value, path)
    _check_keys(obj, path, ("id",), frozenset({"id", "collected_by", "collected_on", "custody"}))
    steps: list[CustodyStep] = []
    if "custody" in obj:
        where = _join(path, "custody")
        for i, item in enumerate(_array(obj["custody"], where)):
            at = f"{where}[{i}]"
            step = _object(item, at)
            _check_keys(step, at, ("from", "to", "date"), frozenset({"from", "to", "date"}))
            steps.append(
                CustodyStep(
                    source=_party(step["from"], _join(at, "from")),
                    to=_party(step["to"], _join(at, "to")),
                    date=_date(step["date"], _join(at, "date")),
                )
            )
    return Sample(
        id=_number(obj["id"], _join(path, "id")),
        collected_by=_opt(obj, path, "collected_by", _party),
        collected_on=_opt(obj, path, "collected_on", _date),
        custody=tuple(steps),
    )


_LAB_REQUIRED: Final = ("laboratory", "method", "sample", "origin_claimed", "result", "date")
_LAB_ALLOWED: Final = frozenset({*_LAB_REQUIRED, "accreditation", "report_number"})


def _lab(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> LabTest:
    _check_keys(obj, path, _LAB_REQUIRED, _LAB_ALLOWED)
    where = _join(path, "origin_claimed")
    claimed = _object(obj["origin_claimed"], where)
    _check_keys(claimed, where, ("country",), frozenset({"country", "subdivision"}))
    country = _country(claimed["country"], _join(where, "country"))
    return LabTest(
        laboratory=_party(obj["laboratory"], _join(path, "laboratory")),
        method=_one_of(obj["method"], _join(path, "method"), LAB_METHODS),
        sample=_sample(obj["sample"], _join(path, "sample")),
        origin_country=country,
        origin_subdivision=_optional_subdivision(claimed, where, country),
        result=_one_of(obj["result"], _join(path, "result"), LAB_RESULTS),
        date=_date(obj["date"], _join(path, "date")),
        accreditation=_opt(obj, path, "accreditation", _number),
        report_number=_opt(obj, path, "report_number", _number),
    )


_COO_REQUIRED: Final = ("number", "issued_by", "exporter", "country_of_origin", "date")
_COO_ALLOWED: Final = frozenset({*_COO_REQUIRED, "consignee", "lines", "references"})


def _certificate(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> CertificateOfOrigin:
    _check_keys(obj, path, _COO_REQUIRED, _COO_ALLOWED)
    return CertificateOfOrigin(
        number=_number(obj["number"], _join(path, "number")),
        issued_by=_party(obj["issued_by"], _join(path, "issued_by")),
        exporter=_party(obj["exporter"], _join(path, "exporter")),
        country_of_origin=_country(obj["country_of_origin"], _join(path, "country_of_origin")),
        date=_date(obj["date"], _join(path, "date")),
        lines=_lines(obj, path, lots, lot=True, amount=False) if "lines" in obj else (),
        consignee=_opt(obj, path, "consignee", _party),
        references=_numbers(obj, path, "references"),
    )


_PRODUCTION_KEYS: Final = ("site", "capacity_per_day", "period", "output")


def _measure(obj: dict[str, Any], path: str, name: str) -> Any:
    where = _join(path, name)
    inner = _object(obj[name], where)
    _check_keys(inner, where, ("quantity", "unit"), frozenset({"quantity", "unit"}))
    return _quantity(inner, where)


def _production(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> ProductionRecord:
    _check_keys(obj, path, _PRODUCTION_KEYS, frozenset(_PRODUCTION_KEYS))
    site = _site(obj["site"], _join(path, "site"))
    where = _join(path, "period")
    period = _object(obj["period"], where)
    _check_keys(period, where, ("start", "end"), frozenset({"start", "end"}))
    start = _date(period["start"], _join(where, "start"))
    end = _date(period["end"], _join(where, "end"))
    if end < start:
        _fail("bad_value", _join(where, "end"), f"must not precede the start {start.isoformat()}")
    capacity = _measure(obj, path, "capacity_per_day")
    output = _measure(obj, path, "output")
    if capacity.dimension != output.dimension:
        _fail(
            "unit_dimension",
            _join(path, "output.unit"),
            f"must be a {capacity.dimension} like the capacity, got {_show(output.unit)}",
        )
    return ProductionRecord(
        site_name=site.name,
        site_country=site.country,
        site_subdivision=site.subdivision,
        capacity_per_day=capacity,
        period_start=start,
        period_end=end,
        output=output,
    )


_AUDIT_KEYS: Final = ("auditor", "standard", "scope", "result", "date")


def _audit(obj: dict[str, Any], path: str, lots: tuple[str, ...]) -> AuditReport:
    _check_keys(obj, path, _AUDIT_KEYS, frozenset(_AUDIT_KEYS))
    return AuditReport(
        auditor=_party(obj["auditor"], _join(path, "auditor")),
        standard=_text(obj["standard"], _join(path, "standard")),
        scope=_text(obj["scope"], _join(path, "scope")),
        result=_one_of(obj["result"], _join(path, "result"), AUDIT_RESULTS),
        date=_date(obj["date"], _join(path, "date")),
    )


_Parser = Callable[[dict[str, Any], str, tuple[str, ...]], EvidenceFields]

_PARSERS: Final[Mapping[str, _Parser]] = MappingProxyType(
    {
        **{kind: _trade(kind) for kind in COMMERCIAL_KINDS},
        "transport_document": _transport,
        "payment_record": _payment,
        "lab_test": _lab,
        "certificate_of_origin": _certificate,
        "production_record": _production,
        "audit_report": _audit,
    }
)
assert tuple(_PARSERS) == TYPED_KINDS


def parse_fields(kind: str, value: object, lots: tuple[str, ...]) -> EvidenceFields:
    """The typed ``fields`` of an evidence statement of ``kind`` bound to ``lots``."""
    parse = _PARSERS.get(kind)
    if parse is None:
        _fail(
            "bad_value",
            "kind",
            f"evidence with fields must be of a typed kind ({', '.join(TYPED_KINDS)}), "
            f"got {_show(kind)}",
        )
    return parse(_object(value, "fields"), "fields", lots)
