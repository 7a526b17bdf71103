"""API schemas of ``/v1/lots``: lot state, verification report, trace."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ApiModel

# ---------------------------------------------------------------- lots


class HoldingOut(ApiModel):
    party: str
    quantity: str = Field(description="Exact decimal, in `unit`.")


class InTransitOut(ApiModel):
    dispatch: str = Field(description="Digest of the dispatch statement.")
    seq: int
    sender: str
    to: str
    quantity: str


class LotState(ApiModel):
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


_PASS: dict[str, Any] = {  # a passing verdict, shared by the examples below
    "verdict": "pass",
    "findings": [],
    "composition": [
        {"country": "US", "subdivision": "US-TX", "material": "cotton.seed", "share": 1.0}
    ],
    "untraced_share": 0.0,
}


class RetractedBy(BaseModel):
    seq: int
    digest: str
    type: str = Field(description="`retract`, or the type of the correcting statement.")


class RetractedStatement(BaseModel):
    """A statement of the evidence voided by a later one of its issuer
    (docs/custody-rules.md, "Corrections")."""

    seq: int
    digest: str
    type: str
    issuer: str
    retracted_by: RetractedBy
    reason: str


class VerifyReport(BaseModel):
    """``custody verify --json`` (SPEC §10), plus the versions of the data it used."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "factory/shirts-1",
                    **_PASS,
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
    retracted: list[RetractedStatement] = Field(
        default_factory=list,
        description="Void statements: left out of the trace and the rules, listed here.",
    )
    profile: str | None = Field(
        default=None, description="The document policy profile the verification used."
    )
    documents: dict[str, Any] | None = Field(
        default=None,
        description="Documents per hop (rows: hand-offs and transforms; columns: the "
        "profile's document types; cells present / missing / inconsistent) and the checklist.",
    )


class Trace(VerifyReport):
    """``custody trace --format json``: the verification report and the provenance
    graph in networkx node-link form (nodes: lots, statements, parties, external
    inputs; edges from upstream to downstream)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "farm/seed-1",
                    **_PASS,
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
