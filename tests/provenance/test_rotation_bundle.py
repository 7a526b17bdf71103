"""Bundles across an operator key rotation (docs/decisions/0006): an auditor who pinned
the old key follows the rotation the bundle carries; a missing or forged rotation, and a
checkpoint signed by the old key after the rotation, are refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.checkpoint import Checkpoint, sign_note, split_note, verifier_key
from ledger.checkpoint import parse_checkpoint as parse_body
from ledger.keys import PrivateKey
from provenance.bundle import BundleVerification, export_bundle, verify_bundle
from tests.ledger.test_rotation import _rotate
from tests.provenance.bundle_support import (
    CREATED,
    ENTRY,
    SUBJECT,
    build_chain,
    manifest_of,
    messages,
    put_manifest,
    read_members,
    write_members,
)
from tests.support import World, site


def proof_problems(result: BundleVerification) -> list[str]:
    """INTEGRITY findings about the checkpoint, rotations, leaves and proofs."""
    kinds = {"checkpoint", "rotation", "leaf", "proof", "seq", "member"}
    return [f.message for f in result.integrity if f.details.get("check") in kinds]


@dataclass
class Rotated:
    world: World
    path: Path
    old: PrivateKey
    new: PrivateKey
    rotation_seq: int
    tmp: Path

    def vkey(self, key: PrivateKey) -> str:
        return verifier_key(self.world.ledger.origin, key.public_key)

    def tampered(self, members: dict[str, bytes]) -> Path:
        return write_members(self.tmp / "tampered.zip", members)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Rotated:
    tmp = tmp_path_factory.mktemp("rotated")
    world = World(tmp / "home")
    build_chain(world, tmp)
    old, new, seq = _rotate(world)
    world.parties["gin"].submit(  # an append after the rotation, checkpointed by the new key
        "origin",
        lot={"id": "gin/after", "material": "cotton", "quantity": 1, "unit": "kg"},
        site=site(),
    )
    out = tmp / "entry.zip"
    export_bundle(
        world.ledger,
        SUBJECT,
        out,
        entry_number=ENTRY,
        documents_dir=world.home.documents,
        created=CREATED,
    )
    return Rotated(world, out, old, new, seq, tmp)


def test_the_bundle_carries_the_rotation(rotated: Rotated) -> None:
    members = read_members(rotated.path)
    manifest = manifest_of(members)
    assert [r["seq"] for r in manifest["key_rotations"]] == [rotated.rotation_seq]
    assert f"rotations/{rotated.rotation_seq}.json" in members
    assert manifest["verifier_key"] == rotated.vkey(rotated.new)


@pytest.mark.parametrize("pin", ["old", "new", "none"])
def test_pinned_old_or_new_key_verifies_across_the_rotation(rotated: Rotated, pin: str) -> None:
    key = {"old": rotated.vkey(rotated.old), "new": rotated.vkey(rotated.new), "none": None}[pin]
    result = verify_bundle(rotated.path, operator_key=key, entry_number=ENTRY)
    assert proof_problems(result) == []
    assert result.checkpoint is not None
    assert result.entries > 0
    assert result.checkpoint.size > rotated.rotation_seq


def test_a_bundle_without_its_rotation_fails_for_the_old_key(rotated: Rotated) -> None:
    members = read_members(rotated.path)
    manifest = manifest_of(members)
    del manifest["key_rotations"]
    put_manifest(members, manifest)
    del members[f"rotations/{rotated.rotation_seq}.json"]
    result = verify_bundle(rotated.tampered(members), operator_key=rotated.vkey(rotated.old))
    assert result.checkpoint is None
    assert any("not validly signed" in m for m in messages(result))


def test_a_missing_rotation_member_is_named(rotated: Rotated) -> None:
    members = read_members(rotated.path)
    del members[f"rotations/{rotated.rotation_seq}.json"]
    result = verify_bundle(rotated.tampered(members), operator_key=rotated.vkey(rotated.old))
    assert result.checkpoint is None
    assert any("key rotation" in m and "missing" in m for m in messages(result))


def test_a_rotation_to_a_key_the_old_key_did_not_sign_is_refused(rotated: Rotated) -> None:
    """A forger with only the new key rewrites the rotation's first signature."""
    members = read_members(rotated.path)
    name = f"rotations/{rotated.rotation_seq}.json"
    data = bytearray(members[name])
    at = data.index(b'"sig":"') + len(b'"sig":"') + 5
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    members[name] = bytes(data)
    result = verify_bundle(rotated.tampered(members), operator_key=rotated.vkey(rotated.old))
    assert result.checkpoint is None
    assert any(name in m for m in messages(result))


def test_a_checkpoint_signed_by_the_old_key_after_the_rotation_is_refused(
    rotated: Rotated,
) -> None:
    members = read_members(rotated.path)
    manifest = manifest_of(members)
    body = split_note(manifest["checkpoint"])[0]
    cp = parse_body(body)
    origin = rotated.world.ledger.origin
    manifest["checkpoint"] = sign_note(
        Checkpoint(origin, cp.size, cp.root, ()).body(),
        origin,
        rotated.old.sign,
        rotated.old.public_key,
    )
    put_manifest(members, manifest)
    result = verify_bundle(rotated.tampered(members), operator_key=rotated.vkey(rotated.old))
    assert result.checkpoint is None
    assert any("retired by the rotation" in m for m in messages(result))
