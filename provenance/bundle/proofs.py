"""Steps 1–3 of offline bundle verification: the zip, the manifest, the signed
checkpoint and each leaf's inclusion proof (:mod:`provenance.bundle.verify`).

Each function reads and extends a :class:`~provenance.bundle.state.BundleState`
and raises :class:`~provenance.bundle.state.StopError` when nothing more can be
checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.checkpoint import open_checkpoint, parse_verifier_key
from ledger.errors import CustodyError, UnsafeBundleError
from ledger.multiproof import verify_inclusion_many
from provenance.bundle.manifest import (
    DOC_NAME,
    LEAF_NAME,
    MANIFEST,
    REPORT_HTML,
    REPORT_JSON,
    ManifestEntry,
    ManifestError,
    parse_manifest,
)
from provenance.bundle.rotations import ROTATION_NAME, follow_rotations
from provenance.bundle.state import BundleState, StopError
from provenance.bundle.zipsafe import read_zip

__all__ = ["check_checkpoint", "check_leaves", "open_zip", "read_manifest"]


# step 1
def open_zip(check: BundleState) -> None:
    try:
        check.members = read_zip(check.path, check.limits)
    except UnsafeBundleError as e:
        check.flag(
            "zip",
            f"{e.member}: {e.reason}; the bundle was refused and nothing in it was read",
            details={"member": e.member},
        )
        raise StopError from e


# step 2a
def read_manifest(check: BundleState) -> None:
    raw = check.members.get(MANIFEST)
    if raw is None:
        check.flag("manifest", f"{MANIFEST}: missing from the bundle")
        raise StopError
    try:
        check.manifest = parse_manifest(raw)
    except ManifestError as e:
        check.flag("manifest", f"{MANIFEST}: {e}")
        raise StopError from e


# step 2b
def check_checkpoint(check: BundleState) -> None:
    assert check.manifest is not None
    named_key = check.manifest.verifier_key
    if check.verifier is None:
        try:
            check.verifier = parse_verifier_key(named_key)
        except CustodyError as e:
            check.flag(
                "checkpoint",
                f"{MANIFEST}: the operator verifier key in the bundle is malformed ({e.message})",
            )
            raise StopError from e
    if check.pinned and check.manifest.key_rotations:  # docs/decisions/0006
        found = follow_rotations(check, check.verifier.name, check.verifier.public_key)
        if found is None:
            raise StopError
        check.checkpoint = found
        check.verified_key = check.key
        return
    try:
        check.checkpoint = open_checkpoint(check.manifest.checkpoint, check.verifier)
    except CustodyError as e:
        label = f"{check.verifier.name}+{check.verifier.key_hash.hex()}"
        named = named_key.partition("+")[0]
        hint = "" if named == check.verifier.name else f" (the manifest names key {named!r})"
        check.flag(
            "checkpoint",
            f"{MANIFEST}: the checkpoint is not validly signed by the operator key {label}"
            f"{hint}: {e.message}; nothing it says was used and no leaf was read",
            details={"code": e.code},
        )
        raise StopError from e
    check.verified_key = check.key if check.pinned else named_key


# step 3
def check_leaves(check: BundleState) -> None:
    assert check.checkpoint is not None
    assert check.manifest is not None
    listed: set[str] = set()
    rotations = {e.path for e in check.manifest.key_rotations if ROTATION_NAME.fullmatch(e.path)}
    pending: list[_Pending] = []
    for entry in check.manifest.entries:
        seq = entry.seq
        name = f"leaves/{seq}.json"
        where = {"check": "leaf", "seq": seq, "member": name}
        if entry.path != name:
            pending.append(
                _Flag(
                    "leaf",
                    f"{MANIFEST}: the entry for seq {seq} points at {entry.path!r}, not {name}",
                    where,
                )
            )
        elif name in listed:
            pending.append(_Flag("leaf", f"{MANIFEST}: seq {seq} is listed twice", where))
        else:
            listed.add(name)
            pending.append(_check_leaf(check, entry, name, where))
    _prove_all(check, pending)
    for name in sorted(check.members, key=_member_order):
        if name in listed or name in (MANIFEST, REPORT_JSON, REPORT_HTML):
            continue
        if DOC_NAME.fullmatch(name) or name in rotations:
            continue
        what = (
            "not listed in the manifest"
            if LEAF_NAME.fullmatch(name)
            else "not a member a bundle holds"
        )
        check.flag(
            "member", f"{name}: {what}; ignored", details={"check": "member", "member": name}
        )


@dataclass(frozen=True)
class _Flag:
    kind: str
    message: str
    details: Mapping[str, Any]


@dataclass(frozen=True)
class _Leaf:
    """A leaf whose hash matches the manifest, waiting for its inclusion proof."""

    seq: int
    data: bytes
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    where: Mapping[str, Any]


_Pending = _Flag | _Leaf


def _prove_all(check: BundleState, pending: Sequence[_Pending]) -> None:
    """Prove every leaf against the checkpoint in one pass (:mod:`ledger.multiproof`),
    then record the outcomes in the manifest's order."""
    assert check.checkpoint is not None
    size, root = check.checkpoint.size, check.checkpoint.root
    leaves = [p for p in pending if isinstance(p, _Leaf)]
    errors = iter(
        verify_inclusion_many([(p.leaf_hash, p.seq, p.proof) for p in leaves], size, root)
    )
    for p in pending:
        if isinstance(p, _Flag):
            check.flag(p.kind, p.message, details=p.details)
            continue
        error = next(errors)
        if error is None:
            check.leaves[p.seq] = p.data
            continue
        check.flag(
            "proof",
            f"{MANIFEST}: inclusion proof for seq {p.seq} does not verify against the "
            f"checkpoint ({error.message})",
            details={**p.where, "check": "proof"},
        )


def _check_leaf(
    check: BundleState, entry: ManifestEntry, name: str, where: Mapping[str, Any]
) -> _Pending:
    assert check.checkpoint is not None
    size, seq = check.checkpoint.size, entry.seq
    data = check.members.get(name)
    if data is None:
        return _Flag("leaf", f"{name}: listed in the manifest but missing from the bundle", where)
    computed = merkle.leaf_hash(data)
    if computed.hex() != entry.leaf_hash:
        return _Flag(
            "leaf",
            f"{name}: leaf hash does not match the manifest",
            {**where, "expected": entry.leaf_hash, "actual": computed.hex()},
        )
    if seq >= size:
        return _Flag(
            "seq",
            f"{MANIFEST}: seq {seq} is not below the checkpoint's tree size {size}: "
            "the checkpoint cannot include it",
            {**where, "check": "seq", "size": size},
        )
    return _Leaf(seq, data, computed, tuple(map(bytes.fromhex, entry.proof)), where)


def _member_order(name: str) -> tuple[int, int, str]:
    m = LEAF_NAME.fullmatch(name)
    if m:
        return (1, int(m.group(1)), "")
    return (0 if name == MANIFEST else 2, 0, name)
