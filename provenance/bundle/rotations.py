"""Operator key rotations in evidence bundles (docs/decisions/0006).

A bundle proven against a checkpoint signed by a key other than the one the ledger
started with carries the rotation leaves of that tree (``rotations/<seq>.json``,
listed in the manifest's ``key_rotations`` with their inclusion proofs). An auditor
who pinned an older operator key follows the chain from it: each rotation's two
signatures (old and new key) verify over its leaf, each leaf is proven in the
checkpoint's tree, and the checkpoint must be signed by the key in force at its size
(:func:`ledger.rotation.open_checkpoint_chained`). A checkpoint signed by a retired
key for a size after its rotation is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ledger import merkle
from ledger.checkpoint import Checkpoint, parse_checkpoint
from ledger.errors import CustodyError
from ledger.leaf import decode_leaf
from ledger.note import split_note
from ledger.rotation import KeyChain, Rotation, open_checkpoint_chained, verify_rotation_leaf
from ledger.statements import Key
from provenance.bundle.manifest import MANIFEST, ManifestEntry

if TYPE_CHECKING:
    from ledger.store import ReadTx
    from provenance.bundle.state import BundleState

__all__ = ["ROTATION_NAME", "export_rotations", "follow_rotations", "manifest_rotations"]

ROTATION_NAME: Final = re.compile(r"rotations/(0|[1-9][0-9]{0,17})\.json")


def export_rotations(
    r: ReadTx, size: int
) -> tuple[list[tuple[int, bytes]], dict[int, tuple[bytes, ...]]]:
    """The rotation leaves of the tree of ``size`` and their inclusion proofs in it."""
    from ledger.proofs import prove_many
    from ledger.rotation import chain_in_log

    _, leaves = chain_in_log(r, size)
    if not leaves:
        return [], {}
    hashes = {seq: merkle.leaf_hash(leaf) for seq, leaf in leaves}
    proofs = prove_many(r, hashes, size, leaf_hashes=hashes)
    return leaves, {seq: p.proof for seq, p in proofs.items()}


def manifest_rotations(
    leaves: Sequence[tuple[int, bytes]], proofs: Mapping[int, Sequence[bytes]]
) -> list[dict[str, Any]]:
    """The manifest's ``key_rotations`` list (same shape as ``entries``)."""
    return [
        {
            "seq": seq,
            "leaf_hash": merkle.leaf_hash(leaf).hex(),
            "proof": [h.hex() for h in proofs[seq]],
            "path": f"rotations/{seq}.json",
        }
        for seq, leaf in leaves
    ]


def follow_rotations(check: BundleState, origin: str, pinned: bytes) -> Checkpoint | None:
    """Open the manifest's checkpoint by the key the chain from ``pinned`` puts in force,
    or flag why not and return None."""
    assert check.manifest is not None
    note = check.manifest.checkpoint
    try:
        claimed = parse_checkpoint(split_note(note)[0])  # not trusted until signed below
    except CustodyError as e:
        check.flag("checkpoint", f"{MANIFEST}: the checkpoint is malformed: {e.message}")
        return None
    chain = KeyChain(pinned)
    entries = sorted(check.manifest.key_rotations, key=lambda e: e.seq)
    # the auditor may have pinned a later key of the chain: start after its rotation
    for i, entry in enumerate(entries):
        if _adds(check.members.get(f"rotations/{entry.seq}.json")) == pinned:
            entries = entries[i + 1 :]
            break
    for entry in entries:
        new = _rotation(check, entry, claimed, chain.current)
        if new is None:
            return None
        chain.add(Rotation(entry.seq, chain.current, new))
    try:
        cp = open_checkpoint_chained(note, origin, chain)
    except CustodyError as e:
        check.flag(
            "checkpoint",
            f"{MANIFEST}: following {len(chain.rotations)} operator key rotation(s) from the "
            f"pinned key, the checkpoint does not verify: {e.message}; nothing it says was used",
            details={"code": e.code},
        )
        return None
    check.rotations = tuple(chain.rotations)
    return cp


def _adds(data: bytes | None) -> bytes | None:
    """The key a rotation leaf adds (unverified; only to find where a pin starts)."""
    if data is None:
        return None
    try:
        stmt = decode_leaf(data).statement
    except CustodyError:
        return None
    return stmt.public_key_bytes if isinstance(stmt, Key) else None


def _rotation(
    check: BundleState, entry: ManifestEntry, claimed: Checkpoint, current: bytes
) -> bytes | None:
    name = f"rotations/{entry.seq}.json"
    where = {"member": name, "seq": entry.seq}
    data = check.members.get(name)
    if entry.path != name or data is None:
        check.flag("rotation", f"{MANIFEST}: key rotation {name} is missing", details=where)
        return None
    computed = merkle.leaf_hash(data)
    if computed.hex() != entry.leaf_hash or entry.seq >= claimed.size:
        check.flag(
            "rotation",
            f"{name}: its hash or seq does not match the manifest and the checkpoint",
            details=where,
        )
        return None
    try:
        proof = [bytes.fromhex(h) for h in entry.proof]
        merkle.verify_inclusion(computed, entry.seq, claimed.size, proof, claimed.root)
        new = verify_rotation_leaf(data, current)
    except (CustodyError, ValueError) as e:
        check.flag("rotation", f"{name}: not a proven key rotation ({e})", details=where)
        return None
    if new is None:
        check.flag(
            "rotation",
            f"{name}: not a rotation of the key in force signed by it and by the new key",
            details=where,
        )
    return new
