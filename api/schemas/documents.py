"""Bodies of ``/v1/documents``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SHA256_PATTERN = "^[0-9a-f]{64}$"


class DocumentUpload(BaseModel):
    """The outcome of an upload."""

    sha256: str = Field(description="The document's SHA-256, lowercase hex.")
    size: int = Field(description="Bytes received.")
    status: Literal["stored", "pending"] = Field(
        description="`stored`: a statement visible to the uploader names the document, and the "
        "server keeps it; `pending`: no such statement yet, the upload waits until "
        "`expires_at` and is dropped then unless one is appended."
    )
    statements: list[str] = Field(
        default_factory=list, description="Digests of the visible statements that name it."
    )
    expires_at: float | None = Field(
        default=None, description="For `pending`: when it is dropped (Unix time, seconds)."
    )
