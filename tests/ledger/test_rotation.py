"""Operator key rotation (docs/decisions/0006): the rotation entry signed by both keys,
checkpoints after it signed by the new key, proofs and audit across it, the old key
retired, and a checkpoint signed by the old key after the rotation refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import update

from ledger import merkle
from ledger.audit import audit
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_note
from ledger.errors import ConfigError, NoteError
from ledger.keys import PrivateKey, load_private_key
from ledger.note import parse_verifier_key
from ledger.rotation import KeyChain, open_checkpoint_chained, verify_rotation_leaf
from ledger.rotation_home import rotate_operator_key
from ledger.store import CHECKPOINTS
from tests.support import World, site


def _grow(world: World, n: int, prefix: str) -> None:
    farm = world.parties.get("farm") or world.party("farm")
    for i in range(n):
        farm.submit(
            "origin",
            lot={"id": f"{prefix}/{i}", "material": "cotton", "quantity": 5, "unit": "kg"},
            site=site(),
        )


def _rotate(world: World) -> tuple[PrivateKey, PrivateKey, int]:
    old = world.home.operator_key()
    new = PrivateKey.generate()
    world.ledger.store.close()
    result = rotate_operator_key(world.home, new)
    assert result.rotation_seq is not None
    world.ledger = world.home.open()  # the home's key is the new one now
    world.operator.key = new
    return old, new, result.rotation_seq


def _rotation_across(world: World) -> None:
    _grow(world, 5, "before")
    before = world.ledger.size()
    cp_before = world.ledger.checkpoint()
    old, new, rot_seq = _rotate(world)
    assert rot_seq == before
    _grow(world, 4, "after")
    led = world.ledger
    origin = led.origin
    old_v = parse_verifier_key(led_vkey(origin, old))
    new_v = parse_verifier_key(led_vkey(origin, new))

    # checkpoints: before by the old key, from the rotation on by the new key
    assert open_checkpoint(cp_before, old_v).size == before
    latest = led.checkpoint()
    cp = open_checkpoint(latest, new_v)
    with pytest.raises(NoteError):
        open_checkpoint(latest, old_v)
    assert led.verifier_key() == led_vkey(origin, new)

    # the chain, followed offline from the pinned old key and the leaves alone
    chain = KeyChain(old.public_key)
    for seq in range(cp.size):
        found = verify_rotation_leaf(led.leaf(seq), chain.current)
        if found is not None:
            from ledger.rotation import Rotation

            chain.add(Rotation(seq, chain.current, found))
    assert [r.seq for r in chain.rotations] == [rot_seq]
    assert open_checkpoint_chained(latest, origin, chain).size == cp.size
    assert open_checkpoint_chained(cp_before, origin, chain).size == before

    # proofs across the rotation: inclusion before and after, consistency old -> new
    for seq in (0, rot_seq - 1, rot_seq, rot_seq + 1, cp.size - 1):
        p = led.prove(seq)
        merkle.verify_inclusion(p.leaf_hash, seq, cp.size, list(p.proof), cp.root)
    c = led.consistency(before, cp.size)
    old_root = open_checkpoint_chained(cp_before, origin, chain).root
    merkle.verify_consistency(before, cp.size, list(c.proof), old_root, cp.root)

    # audit follows the chain from entry 0's key
    report = audit(led.store)
    assert report.ok, [p.message for p in report.problems]
    assert report.key_rotations == [{"seq": rot_seq, "old_kid": old.kid, "new_kid": new.kid}]

    # the old key is retired: it can sign nothing more
    res = world.operator.attempt(
        "party",
        signers=[old],
        party={"id": "late", "name": "Late", "country": "US", "roles": ["supplier"]},
        keys=[PrivateKey.generate().public_key_b64],
    )
    assert res.error is not None
    assert res.error.code == "bad_signature.revoked"


def led_vkey(origin: str, key: PrivateKey) -> str:
    from ledger.checkpoint import verifier_key

    return verifier_key(origin, key.public_key)


def test_rotation_across_proofs_and_audit_sqlite(world: World) -> None:
    _rotation_across(world)


def test_rotation_across_proofs_and_audit_postgres(
    pg_world: World, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODY_DB_URL", pg_url)  # the home's ledger is on PostgreSQL
    _rotation_across(pg_world)


def test_home_holds_the_new_key_and_keeps_the_old_one(world: World) -> None:
    old, new, _ = _rotate(world)
    assert load_private_key(world.home.operator_key_path).public_key == new.public_key
    kept = world.home.path / "retired" / f"operator-{old.kid[:16]}.key"
    assert load_private_key(kept).public_key == old.public_key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(world.home.operator_key_path.stat().st_mode) == 0o600
    assert not list(world.home.path.glob(".operator.key*"))
    with pytest.raises(ConfigError) as e:
        rotate_operator_key(world.home, new)
    assert e.value.code == "config.same_key"


def test_an_interrupted_rotation_installs_the_key_on_a_second_run(
    world: World, tmp_path: Path
) -> None:
    old, new, _ = _rotate(world)
    size = world.ledger.size()
    world.ledger.store.close()
    # as if the process died after the commit, before operator.key was replaced
    world.home.operator_key_path.unlink()
    from ledger.keys import save_private_key

    save_private_key(world.home.operator_key_path, old)
    result = rotate_operator_key(world.home, new)
    assert result.rotation_seq is None
    world.ledger = world.home.open()
    assert world.ledger.size() == size  # nothing appended twice
    assert world.home.operator_key().public_key == new.public_key


def test_appending_with_the_old_key_after_the_rotation_is_refused(world: World) -> None:
    old, _new, _ = _rotate(world)
    size = world.ledger.size()
    stale = type(world.ledger)(world.ledger.store, old)
    farm = world.party("farm")
    env = farm.envelope(
        "origin", lot={"id": "x/1", "material": "c", "quantity": 1, "unit": "kg"}, site=site()
    )
    with pytest.raises(ConfigError) as e:
        stale.submit([env])
    assert e.value.code == "config.operator_key"
    assert world.ledger.size() == size + 1  # the party only: the refused batch wrote nothing


def test_a_checkpoint_signed_by_the_old_key_after_the_rotation_is_refused(world: World) -> None:
    old, _new, rot_seq = _rotate(world)
    led = world.ledger
    size = led.size()
    root = led.root(size)
    forged = sign_note(
        Checkpoint(led.origin, size, root, ()).body(), led.origin, old.sign, old.public_key
    )
    chain = KeyChain(old.public_key)
    from ledger.rotation import Rotation

    chain.add(Rotation(rot_seq, old.public_key, led.operator_public_key()))
    with pytest.raises(NoteError) as e:
        open_checkpoint_chained(forged, led.origin, chain)
    assert e.value.code == "invalid_note.retired_key"
    # stored in place of the real one, audit names it
    with led.store.write() as w:
        w.conn.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.size == size).values(note=forged))
    report = audit(led.store)
    assert not report.ok
    assert any("retired by the rotation" in p.message for p in report.problems)
