"""API schemas shared by every endpoint: id patterns, examples, the error body."""

from __future__ import annotations

from typing import Any

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


class ApiModel(BaseModel):
    """Base of the request and response models: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors


class ErrorDetail(ApiModel):
    code: str = Field(description="Stable machine-readable code, shared with the CLI's --json.")
    message: str = Field(description="One human-readable sentence.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Structured fields: which field, seq, limit ..."
    )


class ErrorBody(ApiModel):
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
