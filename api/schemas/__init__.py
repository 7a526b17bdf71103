"""API schemas: the JSON shapes that cross the HTTP boundary (OpenAPI models).

These are the API's own models, apart from the ledger's domain values and
storage rows. Several endpoints write their JSON directly (verbatim leaf
bytes, exact statement payloads); the models here still document them, and
the tests check every response against them.

A package by endpoint group: ``common`` (patterns, examples, the error body),
``entries`` (envelopes, leaves, submission results, statement pages), ``log``
(proofs, health, version), ``lots`` (state, verify report, trace), ``auth``.
"""

from __future__ import annotations

from api.schemas.auth import (
    Challenge,
    ChallengeRequest,
    Token,
    TokenRequest,
    WhoAmI,
)
from api.schemas.common import (
    DIGEST_PATTERN,
    ENTRY_NUMBER_PATTERN,
    EXAMPLE_DIGEST,
    EXAMPLE_HASH,
    EXAMPLE_KID,
    KID_PATTERN,
    LOT_PATTERN,
    MAX_SEQ,
    NONCE_PATTERN,
    PARTY_PATTERN,
    SIGNATURE_PATTERN,
    TIME_PATTERN,
    ErrorBody,
    ErrorDetail,
)
from api.schemas.entries import (
    ENVELOPE_SCHEMA,
    Accepted,
    BatchResults,
    Envelope,
    Leaf,
    RejectedItem,
    Signature,
    StatementItem,
    StatementPage,
)
from api.schemas.log import (
    ConsistencyProof,
    Health,
    InclusionProof,
    Version,
)
from api.schemas.lots import (
    CompositionShare,
    Finding,
    HoldingOut,
    InTransitOut,
    LotState,
    Trace,
    VerifyReport,
)

__all__ = [
    "DIGEST_PATTERN",
    "ENTRY_NUMBER_PATTERN",
    "ENVELOPE_SCHEMA",
    "EXAMPLE_DIGEST",
    "EXAMPLE_HASH",
    "EXAMPLE_KID",
    "KID_PATTERN",
    "LOT_PATTERN",
    "MAX_SEQ",
    "NONCE_PATTERN",
    "PARTY_PATTERN",
    "SIGNATURE_PATTERN",
    "TIME_PATTERN",
    "Accepted",
    "BatchResults",
    "Challenge",
    "ChallengeRequest",
    "CompositionShare",
    "ConsistencyProof",
    "Envelope",
    "ErrorBody",
    "ErrorDetail",
    "Finding",
    "Health",
    "HoldingOut",
    "InTransitOut",
    "InclusionProof",
    "Leaf",
    "LotState",
    "RejectedItem",
    "Signature",
    "StatementItem",
    "StatementPage",
    "Token",
    "TokenRequest",
    "Trace",
    "VerifyReport",
    "Version",
    "WhoAmI",
]
