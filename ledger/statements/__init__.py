"""Custody statements (SPEC §3), parsed from their verbatim payload bytes.

The package holds: :mod:`~ledger.statements.models` (the frozen models),
:mod:`~ledger.statements.fields` (field validators), :mod:`~ledger.statements.times`
(RFC 3339 times), :mod:`~ledger.statements.objects` (sub-objects),
:mod:`~ledger.statements.bodies` (one parser and schema per statement type),
:mod:`~ledger.statements.decode` (strict JSON to model) and
:mod:`~ledger.statements.encode` (the encoder behind the CLI builders).
Import the public names from ``ledger.statements`` itself.

A statement is a UTF-8 JSON object of at most 64 KiB with no duplicate keys at
any depth. :func:`parse_statement` turns the payload into one of the frozen
models below (the :data:`Statement` union) or raises
:class:`ledger.errors.StatementError`; :func:`parse_header` checks only the
common fields, for the ingest hot path. Every model keeps the verbatim
``payload`` and its ``digest`` (``"sha256:" + hex(sha256(payload))``): the
signed bytes are never rebuilt from parsed values.

Validation is hand-written (small helpers, no pydantic). A payload in the
encoders' form (compact, sorted keys, no string escapes) is read by one pattern
per type (:mod:`~ledger.statements.fast`, :mod:`~ledger.statements.fast_patterns`,
models built by :mod:`~ledger.statements.makers`), a few microseconds a
``dispatch``; anything else, and every error, by the full strict path
(:func:`~ledger.statements.decode.parse_statement_strict`): the same model or error.

Formats
-------
- ``time``, ``effective``: RFC 3339 ``date-time`` in UTC with an upper-case
  ``T`` and ``Z`` (``2026-03-01T10:00:00Z``), fractional seconds allowed (kept
  to the microsecond, further digits truncated); no offsets, no leap second.
- quantities and ``mass_kg``: JSON numbers (not strings, not booleans), greater
  than 0, below 10^15, with at most 18 decimal places; parsed as exact
  :class:`~decimal.Decimal` (see :mod:`ledger.units`).
- ``id`` ``^[A-Za-z0-9._:/-]{1,128}$``; party ids ``^[a-z0-9][a-z0-9.-]{1,63}$``;
  lot ids ``^[A-Za-z0-9._:/-]{1,200}$``.
- countries: ISO 3166-1 alpha-2, upper case, known to pycountry; subdivisions:
  ISO 3166-2 (``CN-XJ``), known to pycountry and starting with the country
  of the same object.
- statement digests ``sha256:<64 lowercase hex>``; document hashes (``sha256``
  of ``documents`` items and of evidence ``document``) are bare 64 lowercase hex.
- public keys: standard, canonical base64 of 32 bytes (format only; small-order
  checks belong to :mod:`ledger.keys`).
- ``material``, ``process`` and document ``kind``: a dotted lower-case
  vocabulary ``^[a-z0-9_]+(\\.[a-z0-9_]+)*$`` (``cotton.lint``, ``spinning``,
  ``bill_of_lading``).
- names, ``address``, ``supplier``, ``port``: non-blank text of at most 1024
  characters without control characters.

Decisions where the spec is silent
----------------------------------
- Schemas are strict: an unknown field at any depth is rejected with
  ``invalid_statement.unknown_field`` (``claims`` is the one free-form object).
- ``party.identifiers`` is an object with optional ``lei`` (20 alphanumerics),
  ``duns`` (9 digits) and ``gln`` (13 digits).
- ``party.roles``, ``keys`` and evidence ``lots`` are non-empty and without
  repeats; ``documents`` may be empty.
- ``transform``: ``inputs`` is required but may be empty when
  ``external_inputs`` is not; no lot appears twice among the inputs and no output
  id twice. A ``mass_kg`` next to a mass unit must equal the quantity's mass. (An
  output id that is also an input lot is a custody rule, ``rejected.self_transform``,
  judged by :mod:`ledger.custody`.)
- ``dispatch.to`` must name a party other than the issuer.
- ``retract`` = ``{statement, reason}`` (a statement digest and non-blank text);
  ``origin``, ``transform``, ``dispatch``, ``receipt``, ``evidence`` and
  ``import`` may carry ``replaces`` (a statement digest), the statement they
  correct (:mod:`~ledger.statements.corrections`).
- ``entry_number`` ``^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`` (``ABC-1234567-8``);
  ``hts`` 4 to 10 digits in 2-digit groups optionally dot-separated
  (``6109.10.0012``); ``port`` free text (a CBP port code or name).
- ``media_type`` is ``type/subtype`` without parameters; ``size`` an integer ≥ 0.
- ``evidence.fields`` (optional): the typed contents of a trade document, for
  the kinds of :data:`~ledger.statements.evidence_models.TYPED_KINDS`, parsed by
  :mod:`~ledger.statements.evidence` into ``Evidence.fields`` (docs/evidence.md).

Error codes (``StatementError.code``; ``StatementError.field`` is the dotted path)
-------------------------------------------------------------------------------
=========================================  ============================================
``invalid_statement.too_large``            payload over 65536 bytes
``invalid_statement.bad_encoding``         payload not UTF-8
``invalid_statement.bad_json``             not JSON, NaN/Infinity, not an object, too deep
``invalid_statement.duplicate_key``        a key repeated in one object
``invalid_statement.bad_spec``             ``spec`` is not ``"custody/1"``
``invalid_statement.unknown_type``         ``type`` is not a statement type
``invalid_statement.missing_field``        a required field is absent
``invalid_statement.unknown_field``        a field the type does not define
``invalid_statement.wrong_type``           wrong JSON type (object, array, string, integer)
``invalid_statement.bad_id``               statement ``id``
``invalid_statement.bad_party_id``         ``issuer``, ``to``, ``party``, ``party.id``
``invalid_statement.bad_lot_id``           a lot id
``invalid_statement.bad_time``             ``time`` or ``effective``
``invalid_statement.bad_quantity``         a quantity or ``mass_kg``
``invalid_statement.unknown_unit``         a unit outside the list
``invalid_statement.unit_dimension``       mixing dimensions (raised by :mod:`ledger.units`)
``invalid_statement.bad_country``          ISO 3166-1 alpha-2
``invalid_statement.bad_subdivision``      ISO 3166-2, or of another country
``invalid_statement.bad_coordinate``       ``lat``/``lon`` out of range
``invalid_statement.bad_digest``           ``sha256:<hex>`` digest or document hash
``invalid_statement.bad_public_key``       not base64 of 32 bytes
``invalid_statement.unknown_role``         a role outside the list
``invalid_statement.bad_reason``           revoke ``reason``
``invalid_statement.bad_material``         a material name
``invalid_statement.empty_list``           a list that must not be empty
``invalid_statement.duplicate_value``      a repeated role, key, lot or output id
``invalid_statement.bad_value``            any other malformed value
=========================================  ============================================
"""

from __future__ import annotations

from ledger.statements.bodies import (
    STATEMENT_TYPES,
)
from ledger.statements.corrections import (
    REPLACEABLE,
)
from ledger.statements.decode import (
    parse_header,
    parse_statement,
    statement_digest,
)
from ledger.statements.encode import (
    build_statement,
    encode_statement,
)
from ledger.statements.models import (
    MAX_PAYLOAD_BYTES,
    REVOKE_REASONS,
    ROLES,
    SPEC,
    Dispatch,
    Document,
    Evidence,
    EvidenceDocument,
    ExternalInput,
    Header,
    Import,
    Key,
    KeyAdd,
    Origin,
    OriginLot,
    Party,
    PartyInfo,
    Receipt,
    Retract,
    Revoke,
    Site,
    Statement,
    StatementBase,
    Transform,
    TransformInput,
    TransformOutput,
)
from ledger.statements.times import (
    format_time,
    parse_time,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "REPLACEABLE",
    "REVOKE_REASONS",
    "ROLES",
    "SPEC",
    "STATEMENT_TYPES",
    "Dispatch",
    "Document",
    "Evidence",
    "EvidenceDocument",
    "ExternalInput",
    "Header",
    "Import",
    "Key",
    "KeyAdd",
    "Origin",
    "OriginLot",
    "Party",
    "PartyInfo",
    "Receipt",
    "Retract",
    "Revoke",
    "Site",
    "Statement",
    "StatementBase",
    "Transform",
    "TransformInput",
    "TransformOutput",
    "build_statement",
    "encode_statement",
    "format_time",
    "parse_header",
    "parse_statement",
    "parse_time",
    "statement_digest",
]
