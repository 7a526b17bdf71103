"""The body parser and schema of each statement type (``_SCHEMAS``).

Each parser takes the top-level object, already checked for required and
unknown fields, and the common fields, and returns the model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from ledger.statements.corrections import _retract
from ledger.statements.evidence import parse_fields
from ledger.statements.fields import (
    _COMMON,
    _ENTRY_NUMBER,
    _HTS,
    _array,
    _country,
    _digest,
    _fail,
    _freeze,
    _lot_id,
    _match,
    _nonempty,
    _object,
    _party_id,
    _public_key,
    _quantity,
    _show,
    _string,
    _text,
    _unique_list,
    _vocabulary,
)
from ledger.statements.models import (
    REVOKE_REASONS,
    Dispatch,
    Document,
    Evidence,
    ExternalInput,
    Import,
    Key,
    Origin,
    Party,
    Receipt,
    Retract,
    Revoke,
    Statement,
    StatementBase,
    Transform,
)
from ledger.statements.objects import (
    _document,
    _evidence_document,
    _external_input,
    _origin_lot,
    _party_info,
    _site,
    _transform_input,
    _transform_output,
)
from ledger.statements.times import parse_time

_Common = dict[str, Any]


def _party(obj: dict[str, Any], common: _Common) -> Party:
    keys = _array(obj["keys"], "keys")
    _nonempty(keys, "keys")
    for index, key in enumerate(keys):
        _public_key(key, f"keys[{index}]")
    _unique_list(keys, "keys", "key")
    return Party(party=_party_info(obj["party"], "party"), keys=tuple(keys), **common)


def _key(obj: dict[str, Any], common: _Common) -> Key:
    return Key(
        party=_party_id(obj["party"], "party"),
        public_key=_public_key(obj["public_key"], "public_key"),
        **common,
    )


def _revoke(obj: dict[str, Any], common: _Common) -> Revoke:
    party = _party_id(obj["party"], "party")
    public_key = _public_key(obj["public_key"], "public_key")
    reason = _string(obj["reason"], "reason")
    if reason not in REVOKE_REASONS:
        _fail(
            "bad_reason",
            "reason",
            f"must be superseded or compromised, got {_show(reason)}",
        )
    effective = parse_time(obj["effective"], "effective") if "effective" in obj else None
    return Revoke(party=party, public_key=public_key, reason=reason, effective=effective, **common)


def _origin(obj: dict[str, Any], common: _Common) -> Origin:
    return Origin(lot=_origin_lot(obj["lot"], "lot"), site=_site(obj["site"], "site"), **common)


def _transform(obj: dict[str, Any], common: _Common) -> Transform:
    process = _vocabulary(obj["process"], "process", "spinning")
    inputs = tuple(
        _transform_input(item, f"inputs[{i}]")
        for i, item in enumerate(_array(obj["inputs"], "inputs"))
    )
    externals: tuple[ExternalInput, ...] = ()
    if "external_inputs" in obj:
        externals = tuple(
            _external_input(item, f"external_inputs[{i}]")
            for i, item in enumerate(_array(obj["external_inputs"], "external_inputs"))
        )
    if not inputs and not externals:
        _fail(
            "empty_list",
            "inputs",
            "must not be empty when there are no external_inputs",
        )
    outputs_raw = _array(obj["outputs"], "outputs")
    _nonempty(outputs_raw, "outputs")
    outputs = tuple(_transform_output(item, f"outputs[{i}]") for i, item in enumerate(outputs_raw))
    consumed = [item.lot for item in inputs]
    _unique_list(consumed, "inputs", "lot")
    produced = [item.id for item in outputs]
    _unique_list(produced, "outputs", "lot")
    # an output that is also an input is a custody rule (rejected.self_transform),
    # judged by ledger.custody, not a malformed statement
    return Transform(
        process=process,
        inputs=inputs,
        external_inputs=externals,
        outputs=outputs,
        site=_site(obj["site"], "site"),
        **common,
    )


def _dispatch(obj: dict[str, Any], common: _Common) -> Dispatch:
    lot = _lot_id(obj["lot"], "lot")
    quantity = _quantity(obj, "")
    to = _party_id(obj["to"], "to")
    if to == common["issuer"]:
        _fail("bad_value", "to", f"must be another party than the issuer, got {_show(to)}")
    documents: tuple[Document, ...] = ()
    if "documents" in obj:
        documents = tuple(
            _document(item, f"documents[{i}]")
            for i, item in enumerate(_array(obj["documents"], "documents"))
        )
    return Dispatch(lot=lot, quantity=quantity, to=to, documents=documents, **common)


def _receipt(obj: dict[str, Any], common: _Common) -> Receipt:
    return Receipt(
        dispatch=_digest(obj["dispatch"], "dispatch"),
        quantity=_quantity(obj, ""),
        **common,
    )


def _evidence(obj: dict[str, Any], common: _Common) -> Evidence:
    lots = _array(obj["lots"], "lots")
    _nonempty(lots, "lots")
    for index, lot in enumerate(lots):
        _lot_id(lot, f"lots[{index}]")
    _unique_list(lots, "lots", "lot")
    kind = _vocabulary(obj["kind"], "kind", "audit_report")
    document = _evidence_document(obj["document"], "document")
    claims = None
    if "claims" in obj:
        claims = _freeze(_object(obj["claims"], "claims"), "claims")
    typed = parse_fields(kind, obj["fields"], tuple(lots)) if "fields" in obj else None
    return Evidence(
        lots=tuple(lots), kind=kind, document=document, claims=claims, fields=typed, **common
    )


def _import(obj: dict[str, Any], common: _Common) -> Import:
    lot = _lot_id(obj["lot"], "lot")
    quantity = _quantity(obj, "")
    entry = _match(
        obj["entry_number"],
        "entry_number",
        _ENTRY_NUMBER,
        "bad_value",
        "a CBP entry number like ABC-1234567-8",
    )
    hts = None
    if "hts" in obj:
        hts = _match(obj["hts"], "hts", _HTS, "bad_value", "an HTS code like 6109.10.0012")
    port = _text(obj["port"], "port") if "port" in obj else None
    origin = (
        _country(obj["country_of_origin"], "country_of_origin")
        if "country_of_origin" in obj
        else None
    )
    return Import(
        lot=lot,
        quantity=quantity,
        entry_number=entry,
        hts=hts,
        port=port,
        country_of_origin=origin,
        **common,
    )


_Parser = Callable[[dict[str, Any], _Common], Statement]


@dataclass(frozen=True, slots=True)
class _Schema:
    required: tuple[str, ...]
    allowed: frozenset[str]
    parse: _Parser


def _schema(required: tuple[str, ...], optional: tuple[str, ...], parse: _Parser) -> _Schema:
    body_required = _COMMON + required
    return _Schema(body_required, frozenset((*body_required, *optional)), parse)


_SCHEMAS: Final = MappingProxyType(
    {
        "party": _schema(("party", "keys"), (), _party),
        "key": _schema(("party", "public_key"), (), _key),
        "revoke": _schema(("party", "public_key", "reason"), ("effective",), _revoke),
        "origin": _schema(("lot", "site"), (), _origin),
        "transform": _schema(
            ("process", "inputs", "outputs", "site"), ("external_inputs",), _transform
        ),
        "dispatch": _schema(("lot", "quantity", "unit", "to"), ("documents",), _dispatch),
        "receipt": _schema(("dispatch", "quantity", "unit"), (), _receipt),
        "evidence": _schema(("lots", "kind", "document"), ("claims", "fields"), _evidence),
        "import": _schema(
            ("lot", "quantity", "unit", "entry_number"),
            ("hts", "port", "country_of_origin"),
            _import,
        ),
        "retract": _schema(("statement", "reason"), (), _retract),
    }
)

#: Statement type name → model class.
STATEMENT_TYPES: Final[Mapping[str, type[StatementBase]]] = MappingProxyType(
    {
        "party": Party,
        "key": Key,
        "revoke": Revoke,
        "origin": Origin,
        "transform": Transform,
        "dispatch": Dispatch,
        "receipt": Receipt,
        "evidence": Evidence,
        "import": Import,
        "retract": Retract,
    }
)
