"""The objects of an EPCIS event as custody lots: identifiers, quantities, event ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ledger.epcis.errors import EpcisError
from ledger.epcis.gs1 import constrain_digital_link, epc_to_digital_link
from ledger.errors import StatementError
from ledger.units import Quantity, from_rec20

__all__ = [
    "CUSTODY_NS",
    "LOT_URN",
    "PARTY_URN",
    "EventObject",
    "custody_ext",
    "gtin_of",
    "lot_id_of",
    "objects_of",
    "retraction_id",
    "statement_id_for",
    "step_word",
]

CUSTODY_NS: Final = "https://custody.dev/epcis/"
PARTY_URN: Final = "urn:custody:party:"
LOT_URN: Final = "urn:custody:lot:"
_LOT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,200}")
_STATEMENT_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_NI = re.compile(r"ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0")


def statement_id_for(event_ref: str) -> str:
    """The statement id recording an event's eventID or hash ID.

    An eventID that is a valid statement id is used as it is; a CBV hash ID
    becomes ``epcis:sha-256:<hex>``; any other eventID ``epcis:id-sha-256:<hex>``
    of its SHA-256.
    """
    if _STATEMENT_ID.fullmatch(event_ref):
        return event_ref
    match = _NI.fullmatch(event_ref)
    if match:
        return f"epcis:sha-256:{match.group(1)}"
    return "epcis:id-sha-256:" + hashlib.sha256(event_ref.encode("utf-8")).hexdigest()


def retraction_id(statement_id: str) -> str:
    """The id of the ``retract`` an EPCIS error declaration of ``statement_id`` becomes."""
    return f"{statement_id}:retract"


def step_word(uri: object) -> str:
    """``shipping`` from ``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` or the Web URI."""
    text = str(uri or "").strip()
    for sep in ("BizStep-", "bizstep:", "cbv:"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
    return text


def lot_id_of(uri: str, index: int, path: str) -> str:
    """The custody lot id of an EPC, EPC class or Digital Link."""
    text = uri.strip()
    if text.startswith(LOT_URN):
        text = text[len(LOT_URN) :]
    elif text.startswith(("http://", "https://")):
        text = constrain_digital_link(text) or text
    elif not text.startswith("urn:epc:"):
        raise EpcisError(
            f"event {index}: {path}: {text!r} is not an EPC, EPC class or GS1 Digital Link",
            code="bad_identifier",
            event=index,
            field=path,
        )
    if _LOT_ID.fullmatch(text) is None:
        raise EpcisError(
            f"event {index}: {path}: {text!r} cannot be a custody lot id "
            "(1 to 200 of A-Z a-z 0-9 . _ : / -)",
            code="bad_identifier",
            event=index,
            field=path,
        )
    return text


@dataclass(frozen=True, slots=True)
class EventObject:
    lot: str
    uri: str
    quantity: Quantity
    path: str


def objects_of(
    event: Mapping[str, Any], epcs: str, quantities: str, index: int
) -> list[EventObject]:
    out: list[EventObject] = []
    items = event.get(epcs) or []
    if not isinstance(items, list):
        raise EpcisError(f"event {index}: {epcs} must be a list", code="bad_event", event=index)
    for i, epc in enumerate(items):
        path = f"{epcs}[{i}]"
        lot = lot_id_of(str(epc), index, path)
        out.append(EventObject(lot, str(epc), Quantity(Decimal(1), "pcs"), path))
    elements = event.get(quantities) or []
    if not isinstance(elements, list):
        raise EpcisError(
            f"event {index}: {quantities} must be a list", code="bad_event", event=index
        )
    for i, element in enumerate(elements):
        path = f"{quantities}[{i}]"
        if not isinstance(element, dict) or not isinstance(element.get("epcClass"), str):
            raise EpcisError(
                f"event {index}: {path}: needs an epcClass",
                code="bad_event",
                event=index,
                field=path,
            )
        lot = lot_id_of(element["epcClass"], index, f"{path}.epcClass")
        amount = element.get("quantity")
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal) or amount <= 0:
            raise EpcisError(
                f"event {index}: {path}.quantity: custody needs a quantity > 0, got {amount!r}",
                code="bad_event",
                event=index,
                field=f"{path}.quantity",
            )
        uom = element.get("uom")
        try:
            unit = "pcs" if uom is None else from_rec20(str(uom))
        except StatementError:
            raise EpcisError(
                f"event {index}: {path}.uom: unknown UN/ECE Rec. 20 unit {uom!r}",
                code="unknown_unit",
                event=index,
                field=f"{path}.uom",
            ) from None
        out.append(EventObject(lot, element["epcClass"], Quantity(Decimal(amount), unit), path))
    return out


def custody_ext(event: Mapping[str, Any], name: str) -> Any:
    """A custody extension (``custody:name`` or the full-IRI key)."""
    for key in (f"custody:{name}", CUSTODY_NS + name):
        if key in event:
            return event[key]
    return None


def gtin_of(uri: str) -> str | None:
    link = None
    if uri.startswith("urn:epc:"):
        link = epc_to_digital_link(uri)
    elif uri.startswith(("http://", "https://")):
        link = constrain_digital_link(uri)
    match = re.match(r"https://id\.gs1\.org/01/([0-9]{14})", link or "")
    return match.group(1) if match else None
