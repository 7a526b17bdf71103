"""API schemas of ``/v1/entries`` and ``/v1/statements``: envelopes, leaves,
submission results, statement pages.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from api.schemas.common import (
    EXAMPLE_DIGEST,
    EXAMPLE_HASH,
    EXAMPLE_KID,
    ApiModel,
    ErrorDetail,
)

# ---------------------------------------------------------------- envelopes

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Envelope",
    "description": (
        "A DSSE envelope (SPEC §4) carrying one custody statement, signed by the issuer. "
        "As DSSE asks of consumers, unknown fields are ignored and standard or URL-safe "
        "base64 is accepted; the ledger stores the canonical form (known fields only, "
        "standard base64 with padding)."
    ),
    "required": ["payloadType", "payload", "signatures"],
    "properties": {
        "payloadType": {"type": "string", "enum": ["application/vnd.custody.statement+json"]},
        "payload": {
            "type": "string",
            "description": "Base64 (standard or URL-safe) of the statement bytes.",
        },
        "signatures": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sig"],
                "properties": {
                    "keyid": {
                        "type": "string",
                        "pattern": "^([0-9a-f]{64})?$",
                        "description": "Key id of the signing key (a hint; may be left out).",
                    },
                    "sig": {
                        "type": "string",
                        "description": "Base64 (standard or URL-safe) signature.",
                    },
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


class Signature(ApiModel):
    keyid: str
    sig: str


class Envelope(ApiModel):
    payloadType: str  # noqa: N815 (DSSE field name)
    payload: str
    signatures: list[Signature]


class Leaf(ApiModel):
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


class Accepted(ApiModel):
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


class RejectedItem(ApiModel):
    """One envelope that was not appended, and why."""

    digest: str | None = Field(description="The statement digest, if the payload could be read.")
    error: ErrorDetail


class BatchResults(ApiModel):
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


class StatementItem(ApiModel):
    seq: int
    digest: str
    type: str
    issuer: str
    id: str
    received_at: str = Field(description="Ledger time of the append (RFC 3339 UTC).")
    statement: dict[str, Any] = Field(description="The statement, exactly as signed.")


class StatementPage(ApiModel):
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
