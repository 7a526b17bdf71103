"""API schemas: the JSON shapes that cross the HTTP boundary (OpenAPI models).

These are the API's own models, apart from the ledger's domain values and
storage rows. Several endpoints write their JSON directly (verbatim leaf
bytes, exact statement payloads); the models here still document them, and
the tests check every response against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PARTY_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,63}$"
KID_PATTERN = r"^[0-9a-f]{64}$"
NONCE_PATTERN = r"^[0-9a-f]{64}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
LOT_PATTERN = r"^[A-Za-z0-9._:/-]{1,200}$"
ENTRY_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$"
SIGNATURE_PATTERN = r"^[A-Za-z0-9+/]{86}==$"
HEX64_PATTERN = r"^[0-9a-f]{64}$"
MAX_SEQ = 2**48 - 1
"""Largest seq or tree size a request may name (the ledger's node index bound)."""

EXAMPLE_DIGEST = "sha256:4c9d1ba0e2a3c7e58a1a0f4ab8c1e0d2b9a6f3e1c5d7b8a9e0f1a2b3c4d5e6f7"
EXAMPLE_HASH = "0b5c0e5b7e7f8a9d1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8"
EXAMPLE_KID = "9f2b2c6a3d1e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors


class ErrorDetail(_Model):
    code: str = Field(description="Stable machine-readable code, shared with the CLI's --json.")
    message: str = Field(description="One human-readable sentence.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Structured fields: which field, seq, limit ..."
    )


class ErrorBody(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "rejected.overdraw",
                        "message": "lot: gin holds 4200 kg of lot 'gin/lint-1' but draws 5000 kg",
                        "details": {"lot": "gin/lint-1", "party": "gin"},
                    }
                }
            ]
        },
    )
    error: ErrorDetail


# ---------------------------------------------------------------- envelopes

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Envelope",
    "description": (
        "A DSSE envelope (SPEC §4) carrying one custody statement, signed by the issuer."
    ),
    "required": ["payloadType", "payload", "signatures"],
    "additionalProperties": False,
    "properties": {
        "payloadType": {"type": "string", "enum": ["application/vnd.custody.statement+json"]},
        "payload": {"type": "string", "description": "Standard base64 of the statement bytes."},
        "signatures": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["keyid", "sig"],
                "additionalProperties": False,
                "properties": {
                    "keyid": {"type": "string", "pattern": KID_PATTERN},
                    "sig": {"type": "string", "description": "Standard base64 signature."},
                },
            },
        },
    },
    "example": {
        "payloadType": "application/vnd.custody.statement+json",
        "payload": "eyJpZCI6Im8tMSIsImlzc3VlciI6ImZhcm0iLCAiLi4uIjogIi4uLiJ9",
        "signatures": [{"keyid": EXAMPLE_KID, "sig": "MEUCIQ...base64...=="}],
    },
}


class Signature(_Model):
    keyid: str
    sig: str


class Envelope(_Model):
    payloadType: str  # noqa: N815 (DSSE field name)
    payload: str
    signatures: list[Signature]


class Leaf(_Model):
    """A ledger leaf (SPEC §5); its compact sorted-key ASCII JSON is the leaf bytes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "seq": 7,
                    "prev": EXAMPLE_HASH,
                    "received_at": "2026-03-01T10:00:00.000000Z",
                    "envelope": ENVELOPE_SCHEMA["example"],
                }
            ]
        },
    )
    seq: int
    prev: str
    received_at: str
    envelope: Envelope


class Accepted(_Model):
    """One appended (or already present) envelope."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"digest": EXAMPLE_DIGEST, "seq": 42}]},
    )
    digest: str
    seq: int
    duplicate: bool | None = Field(
        default=None, description="Present and true when the statement was already in the ledger."
    )


class RejectedItem(_Model):
    """One envelope that was not appended, and why."""

    digest: str | None = Field(description="The statement digest, if the payload could be read.")
    error: ErrorDetail


class BatchResults(_Model):
    """Per-envelope results in input order, exactly as ``custody submit --json`` prints them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"digest": EXAMPLE_DIGEST, "seq": 42},
                        {
                            "digest": EXAMPLE_DIGEST,
                            "error": {
                                "code": "rejected.not_held",
                                "message": "lot: gin does not hold lot 'farm/seed-1'",
                                "details": {"lot": "farm/seed-1", "party": "gin"},
                            },
                        },
                    ]
                }
            ]
        },
    )
    results: list[Accepted | RejectedItem]


# ---------------------------------------------------------------- statements


class StatementItem(_Model):
    seq: int
    digest: str
    type: str
    issuer: str
    id: str
    received_at: str = Field(description="Ledger time of the append (RFC 3339 UTC).")
    statement: dict[str, Any] = Field(description="The statement, exactly as signed.")


class StatementPage(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "seq": 3,
                            "digest": EXAMPLE_DIGEST,
                            "type": "dispatch",
                            "issuer": "farm",
                            "id": "d-1",
                            "received_at": "2026-03-01T10:00:00.000000Z",
                            "statement": {
                                "spec": "custody/1",
                                "type": "dispatch",
                                "id": "d-1",
                                "issuer": "farm",
                                "time": "2026-03-01T09:58:00Z",
                                "lot": "farm/seed-1",
                                "quantity": 12000,
                                "unit": "kg",
                                "to": "gin",
                            },
                        }
                    ],
                    "next_cursor": "3",
                }
            ]
        },
    )
    items: list[StatementItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


# ---------------------------------------------------------------- proofs


class InclusionProof(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "seq": 3,
                    "size": 8,
                    "leaf_hash": EXAMPLE_HASH,
                    "root": EXAMPLE_HASH,
                    "proof": [EXAMPLE_HASH, EXAMPLE_HASH, EXAMPLE_HASH],
                }
            ]
        },
    )
    seq: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(_Model):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": 4,
                    "to": 8,
                    "root_from": EXAMPLE_HASH,
                    "root_to": EXAMPLE_HASH,
                    "proof": [EXAMPLE_HASH],
                }
            ]
        },
    )
    from_: int = Field(alias="from")
    to: int
    root_from: str
    root_to: str
    proof: list[str]


# ---------------------------------------------------------------- lots


class HoldingOut(_Model):
    party: str
    quantity: str = Field(description="Exact decimal, in `unit`.")


class InTransitOut(_Model):
    dispatch: str = Field(description="Digest of the dispatch statement.")
    seq: int
    sender: str
    to: str
    quantity: str


class LotState(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lot": "gin/lint-1",
                    "material": "cotton.lint",
                    "creator": "gin",
                    "created_seq": 5,
                    "declared_unit": "kg",
                    "unit": "kg",
                    "quantity": "4200",
                    "holdings": [{"party": "spinner", "quantity": "4200"}],
                    "in_transit": [],
                }
            ]
        },
    )
    lot: str
    material: str
    creator: str
    created_seq: int
    declared_unit: str = Field(description="The unit the lot was created in.")
    unit: str = Field(description="Base unit of the quantities below (kg, pcs, m, m2, l).")
    quantity: str = Field(description="Quantity created, exact decimal in `unit`.")
    holdings: list[HoldingOut]
    in_transit: list[InTransitOut]


class Finding(BaseModel):
    rule: str = Field(description="SIGNATURE, INTEGRITY, CUSTODY, OVERDRAW, MASS, ...")
    severity: Literal["error", "gap", "warning", "info"]
    message: str
    statements: list[str] = Field(description="Digests of the statements involved.")
    details: dict[str, Any] = Field(default_factory=dict)


class CompositionShare(BaseModel):
    country: str | None
    subdivision: str | None
    material: str | None
    share: float = Field(description="Share of the subject's mass, 0..1.")


class VerifyReport(BaseModel):
    """``custody verify --json`` (SPEC §10), plus the versions of the data it used."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "factory/shirts-1",
                    "verdict": "pass",
                    "findings": [],
                    "composition": [
                        {
                            "country": "US",
                            "subdivision": "US-TX",
                            "material": "cotton.seed",
                            "share": 1.0,
                        }
                    ],
                    "untraced_share": 0.0,
                }
            ]
        }
    )
    subject: str
    verdict: Literal["pass", "fail", "incomplete"]
    findings: list[Finding]
    composition: list[CompositionShare]
    untraced_share: float
    screening_version: str | None = None
    yields_version: str | None = None


class Trace(VerifyReport):
    """``custody trace --format json``: the verification report and the provenance
    graph in networkx node-link form (nodes: lots, statements, parties, external
    inputs; edges from upstream to downstream)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "farm/seed-1",
                    "verdict": "pass",
                    "findings": [],
                    "composition": [
                        {
                            "country": "US",
                            "subdivision": "US-TX",
                            "material": "cotton.seed",
                            "share": 1.0,
                        }
                    ],
                    "untraced_share": 0.0,
                    "screening_version": "1.0.0",
                    "yields_version": "1.0.0",
                    "schema": "custody-trace/1",
                    "import_entries": [],
                    "graph": {
                        "directed": True,
                        "multigraph": False,
                        "graph": {},
                        "nodes": [{"id": "lot:farm/seed-1", "kind": "lot"}],
                        "edges": [],
                    },
                }
            ]
        }
    )
    schema_: str = Field(alias="schema", description="custody-trace/1")
    import_entries: list[str] = Field(description="CBP entry numbers declared for the lot.")
    graph: dict[str, Any]


# ---------------------------------------------------------------- auth


class ChallengeRequest(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"party": "importer", "kid": EXAMPLE_KID}]},
    )
    party: str = Field(pattern=PARTY_PATTERN, description="The party logging in.")
    kid: str = Field(pattern=KID_PATTERN, description="Key id of the party's registered key.")


class Challenge(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "nonce": EXAMPLE_HASH,
                    "origin": "custody.example/ledger",
                    "party": "importer",
                    "kid": EXAMPLE_KID,
                    "expires_at": "2026-03-01T10:02:00Z",
                    "message": (
                        "custody-auth/1\\n<origin>\\n<party>\\n<kid>\\n<nonce>\\n<timestamp>"
                    ),
                }
            ]
        },
    )
    nonce: str
    origin: str = Field(description="The ledger's origin line; part of the signed message.")
    party: str
    kid: str
    expires_at: str
    message: str = Field(
        description="The format of the message to sign (lines joined by \\n, no final newline)."
    )


class TokenRequest(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "party": "importer",
                    "kid": EXAMPLE_KID,
                    "nonce": EXAMPLE_HASH,
                    "timestamp": "2026-03-01T10:00:05Z",
                    "signature": "base64 of the 64-byte Ed25519 signature",
                }
            ]
        },
    )
    party: str = Field(pattern=PARTY_PATTERN)
    kid: str = Field(pattern=KID_PATTERN)
    nonce: str = Field(pattern=NONCE_PATTERN)
    timestamp: str = Field(
        pattern=TIME_PATTERN, description="The client's clock, RFC 3339 UTC with Z."
    )
    signature: str = Field(
        pattern=SIGNATURE_PATTERN,
        description="Standard base64 of the Ed25519 signature over the message.",
    )


class Token(_Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "token": "q2v...opaque...",
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "expires_at": "2026-03-01T10:15:05Z",
                    "party": "importer",
                    "kid": EXAMPLE_KID,
                }
            ]
        },
    )
    token: str
    token_type: Literal["Bearer"]
    expires_in: int
    expires_at: str
    party: str
    kid: str


class WhoAmI(_Model):
    party: str
    kid: str
    roles: list[str]
    sees_everything: bool
    expires_at: str


# ---------------------------------------------------------------- service


class Health(_Model):
    status: Literal["ok"]
    size: int = Field(description="Number of entries in the ledger.")


class Version(_Model):
    name: str
    version: str
    api: str
    statement_spec: str
    bundle_spec: str
    origin: str
