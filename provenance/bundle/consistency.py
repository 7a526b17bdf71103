"""Later cosigned checkpoints in a bundle, each with a consistency proof (issue 16).

A bundle's leaves are proven against one checkpoint: the one most witnesses
cosigned (:func:`ledger.store.cosignatures.cosigned_checkpoint`). Witnesses go on
cosigning as the log grows, so by export time a *later* checkpoint may carry
cosignatures the bundle's own checkpoint lacks (a witness that was down then, or
added since). The export carries, in the manifest's ``consistency`` list, the
newest such checkpoint (its note with the cosignature lines) and the RFC 9162
§2.1.4 consistency proof from the bundle's checkpoint to it.

Offline, each carried checkpoint must be signed by the same operator key, be
larger, and its consistency proof must verify from the bundle's checkpoint: then
every leaf proven in the bundle's tree is in the later tree at the same
position, and a witness that cosigned the later checkpoint saw a history holding
every leaf. Its cosignature counts towards the quorum (:mod:`.quorum`) like one on
the bundle's checkpoint. A proof that does not verify between two checkpoints the
operator signed is an ``INTEGRITY`` error (altered, or a split view); a carried
checkpoint that is not the operator's, or not later, is a warning and not used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import merkle
from ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint, split_note
from ledger.errors import CustodyError, IntegrityError
from provenance.bundle.manifest import MANIFEST

if TYPE_CHECKING:
    from ledger.store import ReadTx
    from provenance.bundle.state import BundleState

__all__ = ["check_consistency", "later_checkpoints"]


def later_checkpoints(r: ReadTx, checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """The manifest's ``consistency`` list: the newest cosigned checkpoint larger than
    ``checkpoint`` with the consistency proof to it (empty when there is none)."""
    from ledger.proofs import consistency
    from ledger.store.cosignatures import cosigned_checkpoint

    found = cosigned_checkpoint(r, checkpoint.size + 1)
    if found is None or found.size <= checkpoint.size:
        return []
    later = parse_checkpoint(split_note(found.note)[0])
    proof = consistency(r, checkpoint.size, later.size)
    if proof.root1 != checkpoint.root or proof.root2 != later.root:
        raise IntegrityError(
            f"the stored tree does not match the signed checkpoints of sizes "
            f"{checkpoint.size} and {later.size}; run `custody ledger audit`",
            code="integrity.checkpoint",
            details={"from": checkpoint.size, "to": later.size},
        )
    return [{"checkpoint": found.note, "proof": [h.hex() for h in proof.proof]}]


def check_consistency(check: BundleState) -> None:
    """Open each carried later checkpoint and verify its consistency proof (after step 2b);
    the ones that verify are kept in ``check.later`` for the quorum."""
    assert check.manifest is not None
    assert check.checkpoint is not None
    assert check.verifier is not None
    first = check.checkpoint
    for i, extra in enumerate(check.manifest.consistency):
        where = {"check": "consistency", "index": i}
        try:
            later = open_checkpoint(extra.checkpoint, check.verifier, origin=first.origin)
        except CustodyError as e:
            check.flag(
                "consistency",
                f"{MANIFEST}: consistency[{i}]: the later checkpoint is not signed by the "
                f"operator key the bundle's checkpoint verified under ({e.message}); not used",
                severity="warning",
                details=where,
            )
            continue
        if later.size <= first.size:
            check.flag(
                "consistency",
                f"{MANIFEST}: consistency[{i}]: the checkpoint of size {later.size} is not "
                f"later than the bundle's (size {first.size}); not used",
                severity="warning",
                details=where,
            )
            continue
        try:
            proof = [bytes.fromhex(h) for h in extra.proof]
            merkle.verify_consistency(first.size, later.size, proof, first.root, later.root)
        except CustodyError as e:
            check.flag(
                "consistency",
                f"{MANIFEST}: consistency[{i}]: the proof that the checkpoint of size "
                f"{later.size} extends the bundle's (size {first.size}) does not verify "
                f"({e.message}): both are signed by the operator, so the proof was altered or "
                "the operator signed two histories that do not extend each other",
                details={**where, "from": first.size, "to": later.size, "code": e.code},
            )
            continue
        check.later.append((later.size, extra.checkpoint))
