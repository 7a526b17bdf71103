"""API schemas of the public log and the service: proofs, health, version."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from api.schemas.common import EXAMPLE_HASH, ApiModel

# ---------------------------------------------------------------- proofs


class InclusionProof(ApiModel):
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


class ConsistencyProof(ApiModel):
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


# ---------------------------------------------------------------- service


class WitnessHealth(ApiModel):
    name: str
    status: Literal["ok", "failing"]
    cosigned_size: int = Field(description="The largest checkpoint size it cosigned (0: none).")
    last_error: str | None = Field(description="Why its last request failed, if it did.")


class Health(ApiModel):
    status: Literal["ok"]
    size: int = Field(description="Number of entries in the ledger.")
    witnesses: list[WitnessHealth] = Field(
        default_factory=list,
        description="The witnesses this log asks to cosign (details: GET /v1/witnesses).",
    )


class Version(ApiModel):
    name: str
    version: str
    api: str
    statement_spec: str
    bundle_spec: str
    origin: str
