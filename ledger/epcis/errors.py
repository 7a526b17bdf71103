"""Errors of EPCIS documents: :class:`EpcisError` (code ``invalid_epcis.*``).

Codes (``EpcisError.code``; ``details`` carry ``event`` (0-based index in the
document) and ``field`` (a dotted path inside the event) where they apply):

==================================  ==================================================
``invalid_epcis.bad_json``          not strict JSON or well-formed XML (syntax, duplicate
                                    key or single-valued field, too deep)
``invalid_epcis.bad_xml``           an XML document with a DTD or entity declarations
``invalid_epcis.not_a_document``    not an EPCISDocument / EPCISQueryDocument
``invalid_epcis.schema_version``    ``schemaVersion`` is not 2.0
``invalid_epcis.bad_event``         an event lacks a field or has one of a wrong type
``invalid_epcis.bad_identifier``    an EPC, GLN or class that is not a valid GS1 key
``invalid_epcis.unknown_gln``       a location or party GLN no registered party has
``invalid_epcis.unknown_unit``      a ``uom`` that is not a known UN/ECE Rec. 20 code
``invalid_epcis.unsupported``       a construct custody cannot represent (named)
``invalid_epcis.unmapped``          master data missing (material, site) for a field
``invalid_epcis.no_dispatch``       a receipt with no matching dispatch in transit
``invalid_epcis.bad_mapping``       the mapping file is malformed
==================================  ==================================================
"""

from __future__ import annotations

from typing import Any

from ledger.errors import InputError


class EpcisError(InputError):
    """An EPCIS document or event custody cannot read or represent."""

    code = "invalid_epcis"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        event: int | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = dict(details or {})
        if event is not None:
            merged["event"] = event
        if field is not None:
            merged["field"] = field
        super().__init__(message, code=f"invalid_epcis.{code}", details=merged)
        self.event = event
        self.field = field
