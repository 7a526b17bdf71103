"""API schemas of ``/v1/auth``: challenge, token, who am I."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from api.schemas.common import (
    EXAMPLE_HASH,
    EXAMPLE_KID,
    KID_PATTERN,
    NONCE_PATTERN,
    PARTY_PATTERN,
    SIGNATURE_PATTERN,
    TIME_PATTERN,
    ApiModel,
)

# ---------------------------------------------------------------- auth


class ChallengeRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"party": "importer", "kid": EXAMPLE_KID}]},
    )
    party: str = Field(pattern=PARTY_PATTERN, description="The party logging in.")
    kid: str = Field(pattern=KID_PATTERN, description="Key id of the party's registered key.")


class Challenge(ApiModel):
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


class TokenRequest(ApiModel):
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


class Token(ApiModel):
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


class WhoAmI(ApiModel):
    party: str
    kid: str
    roles: list[str]
    sees_everything: bool
    expires_at: str
