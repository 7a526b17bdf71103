"""``bizTransactionList`` ↔ the trade-document references of a ``dispatch``.

A shipping event's business transactions (CBV 2.0 §7.3 business transaction
types) become items of the dispatch's ``documents`` (``{sha256, kind, name}``),
with the custody kind of the same document (docs/evidence.md):

=============  ================================  ===========================
CBV type       custody kind                      counts for
=============  ================================  ===========================
``po``         ``purchase_order``                commercial document
``poc``        ``purchase_order_confirmation``   (untyped reference)
``inv``        ``commercial_invoice``            commercial document
``desadv``     ``packing_list``                  commercial document
``recadv``     ``receiving_advice``              (untyped reference)
``bol``        ``bill_of_lading``                transport document
``cert``       ``certificate``                   (untyped reference)
``pedigree``   ``pedigree``                      (untyped reference)
``prodorder``  ``production_order``              (untyped reference)
``rma``        ``return_authorization``          (untyped reference)
``testprd``    ``test_procedure``                (untyped reference)
``testres``    ``test_result``                   (untyped reference)
``upevt``      ``upstream_event``                (untyped reference)
none, other    ``business_transaction``          (untyped reference)
=============  ================================  ===========================

The reference names the business transaction, not a file: ``name`` is the
``bizTransaction`` URI as written and ``sha256`` the SHA-256 of that URI
(UTF-8), so it is stable across imports and no file can be passed off as it.
An export writes each dispatch document back as a ``bizTransaction`` (the
kind's CBV type, when it has one; the name when it is a URI, else
``urn:custody:document:sha256:<hex>``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ledger.epcis.errors import EpcisError

__all__ = ["BT_KINDS", "documents_of_transactions", "transactions_of_documents"]

BT_KINDS: Final = {
    "po": "purchase_order",
    "poc": "purchase_order_confirmation",
    "inv": "commercial_invoice",
    "desadv": "packing_list",
    "recadv": "receiving_advice",
    "bol": "bill_of_lading",
    "cert": "certificate",
    "pedigree": "pedigree",
    "prodorder": "production_order",
    "rma": "return_authorization",
    "testprd": "test_procedure",
    "testres": "test_result",
    "upevt": "upstream_event",
}
_OTHER: Final = "business_transaction"
_EXPORT_TYPES: Final = {kind: bt for bt, kind in BT_KINDS.items() if bt != "upevt"} | {
    "invoice": "inv",
    "transport_document": "bol",
    "sea_waybill": "bol",
    "certificate_of_origin": "cert",
    "lab_test": "testres",
}
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_MAX_NAME: Final = 1024


def _bt_word(value: object) -> str:
    """``po`` from ``po``, ``urn:epcglobal:cbv:btt:po`` or ``https://ref.gs1.org/cbv/BTT-po``."""
    text = str(value or "").strip()
    for sep in ("BTT-", "btt:"):
        if sep in text:
            return text.rsplit(sep, 1)[1]
    return text


def documents_of_transactions(event: Mapping[str, Any], index: int) -> list[dict[str, str]]:
    """The ``documents`` of a dispatch from the event's ``bizTransactionList``."""
    items = event.get("bizTransactionList")
    if items is None:
        return []
    if not isinstance(items, list):
        raise EpcisError(
            f"event {index}: bizTransactionList must be a list",
            code="bad_event",
            event=index,
            field="bizTransactionList",
        )
    out: list[dict[str, str]] = []
    for i, item in enumerate(items):
        field = f"bizTransactionList[{i}]"
        uri = item.get("bizTransaction") if isinstance(item, dict) else None
        if not isinstance(uri, str) or _URI.fullmatch(uri.strip()) is None:
            raise EpcisError(
                f"event {index}: {field}.bizTransaction must be a URI",
                code="bad_event",
                event=index,
                field=f"{field}.bizTransaction",
            )
        uri = uri.strip()
        if len(uri) > _MAX_NAME:
            raise EpcisError(
                f"event {index}: {field}.bizTransaction is longer than {_MAX_NAME} characters",
                code="bad_event",
                event=index,
                field=f"{field}.bizTransaction",
            )
        word = _bt_word(item.get("type")) if isinstance(item, dict) else ""
        out.append(
            {
                "sha256": hashlib.sha256(uri.encode("utf-8")).hexdigest(),
                "kind": BT_KINDS.get(word, _OTHER),
                "name": uri,
            }
        )
    return out


def transactions_of_documents(documents: Iterable[Any]) -> list[dict[str, str]]:
    """The ``bizTransactionList`` of a dispatch's ``documents`` (for an export)."""
    out: list[dict[str, str]] = []
    for document in documents:
        name = str(document.name).strip()
        uri = name if _URI.fullmatch(name) else f"urn:custody:document:sha256:{document.sha256}"
        item = {"bizTransaction": uri}
        bt = _EXPORT_TYPES.get(document.kind)
        if bt is not None:
            item = {"type": bt, **item}
        out.append(item)
    return out
