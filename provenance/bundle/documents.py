"""The documents of a bundle (steps 4 and 5c of offline verification).

* :func:`intact_documents`: each ``documents/<sha256>`` member must hash to its
  name; one that does not is an ``INTEGRITY`` error (a produced document whose
  bytes do not match).
* :func:`check_references`: a member no bundled statement cites is flagged and
  ignored; a cited document the manifest lists as *included* but that is
  absent means the bundle contradicts its own manifest (``INTEGRITY``). A cited
  document that is simply not produced (listed under ``missing_documents``, or
  not at all) is not a broken bundle: it is a ``DOCUMENT`` finding of
  :mod:`provenance.documents`, the same as ``custody verify`` gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from provenance.bundle.manifest import DOC_NAME
from provenance.documents import CitedDocument

__all__ = ["Flag", "check_references", "intact_documents"]


class Flag(Protocol):
    def __call__(
        self,
        kind: str,
        message: str,
        *,
        statements: Sequence[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None: ...


def intact_documents(members: Mapping[str, bytes], flag: Flag) -> dict[str, bytes]:
    """sha256 → bytes of every document member that hashes to its name (others flagged)."""
    intact: dict[str, bytes] = {}
    for name in sorted(n for n in members if DOC_NAME.fullmatch(n)):
        sha = name.removeprefix("documents/")
        actual = hashlib.sha256(members[name]).hexdigest()
        if actual != sha:
            flag(
                "document",
                f"{name}: content hash is {actual}",
                details={"member": name, "expected": sha, "actual": actual},
            )
        else:
            intact[sha] = members[name]
    return intact


def check_references(
    documents: Mapping[str, bytes],
    refs: Mapping[str, CitedDocument],
    listed: set[str],
    members: Mapping[str, bytes],
    flag: Flag,
) -> dict[str, bytes]:
    """Flag uncited members and cited documents listed as included but absent;
    return the intact documents that are cited."""
    for sha in sorted(documents):
        if sha not in refs:
            name = f"documents/{sha}"
            flag(
                "document",
                f"{name}: not referenced by any statement in the bundle; ignored",
                details={"member": name},
            )
    for sha, ref in sorted(refs.items()):
        if sha not in listed or f"documents/{sha}" in members:
            continue
        flag(
            "document",
            f"documents/{sha}: {ref.name!r} ({ref.kind}) is referenced by "
            f"{len(ref.referenced_by)} statement(s) but absent, though the manifest "
            "lists it as included",
            statements=ref.referenced_by,
            details={"member": f"documents/{sha}"},
        )
    return {sha: data for sha, data in documents.items() if sha in refs}
