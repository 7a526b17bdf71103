"""The append pipeline: leaf format, hash chain, proofs against checkpoints, idempotency."""

import base64
import hashlib
import json

import pytest

from ledger import merkle
from ledger.checkpoint import open_checkpoint, parse_verifier_key
from ledger.errors import NotFoundError
from tests.support import World, q, site


def _chain(world: World, n: int) -> None:
    farm = world.party("farm", "Farm", subdivision="US-TX")
    for i in range(n):
        farm.submit(
            "origin",
            lot={
                "id": f"farm/lot-{i}",
                "material": "cotton.seed",
                "quantity": q(100 + i),
                "unit": "kg",
            },
            site=site("Field", "US", "US-TX"),
        )


def test_leaf_bytes_are_compact_sorted_ascii_json_with_hash_chain(world: World):
    _chain(world, 3)
    prev = "0" * 64
    for seq in range(world.ledger.size()):
        leaf = world.ledger.leaf(seq)
        obj = json.loads(leaf)
        assert set(obj) == {"seq", "prev", "received_at", "envelope"}
        assert obj["seq"] == seq
        assert obj["prev"] == prev
        assert obj["received_at"].endswith("Z")
        assert (
            leaf
            == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        )
        prev = hashlib.sha256(b"\x00" + leaf).hexdigest()


def test_every_inclusion_proof_verifies_against_the_signed_checkpoint(world: World):
    _chain(world, 12)
    verifier = parse_verifier_key(world.ledger.verifier_key())
    cp = open_checkpoint(world.ledger.checkpoint(), verifier)
    assert cp.size == world.ledger.size() == 14
    for seq in range(cp.size):
        p = world.ledger.prove(seq)
        assert p.root == cp.root
        merkle.verify_inclusion(
            merkle.leaf_hash(world.ledger.leaf(seq)), seq, cp.size, list(p.proof), cp.root
        )


def test_proofs_for_older_sizes_and_consistency(world: World):
    _chain(world, 10)
    n = world.ledger.size()
    roots = {m: world.ledger.root(m) for m in range(n + 1)}
    for m in range(1, n + 1):
        for seq in range(m):
            p = world.ledger.prove(seq, m)
            merkle.verify_inclusion(p.leaf_hash, seq, m, list(p.proof), roots[m])
    for m in range(n + 1):
        c = world.ledger.consistency(m, n)
        assert c.root1 == roots[m]
        merkle.verify_consistency(m, n, list(c.proof), roots[m], roots[n])
    assert world.ledger.consistency(0).to_json()["root_from"] == merkle.EMPTY_ROOT.hex()


def test_proof_requests_out_of_range_are_not_found(world: World):
    with pytest.raises(NotFoundError):
        world.ledger.prove(5)
    with pytest.raises(NotFoundError):
        world.ledger.prove(0, 7)
    with pytest.raises(NotFoundError):
        world.ledger.consistency(3, 2)


def test_same_envelope_twice_returns_the_original_seq(world: World):
    farm = world.party("farm")
    env = farm.envelope(
        "origin",
        lot={"id": "L1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"},
        site=site(),
    )
    (first,) = world.ledger.submit([env])
    (again,) = world.ledger.submit([env])
    assert again.seq == first.seq
    assert again.duplicate
    assert world.ledger.size() == first.seq + 1


def test_same_issuer_and_id_with_other_bytes_is_a_conflict(world: World):
    farm = world.party("farm")
    lot = {"id": "L1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"}
    farm.submit("origin", id="o-1", lot=lot, site=site())
    size = world.ledger.size()
    res = farm.attempt("origin", id="o-1", lot={**lot, "id": "L2"}, site=site())
    assert res.error is not None
    assert res.error.code == "conflict.statement_id"
    assert world.ledger.size() == size


def test_checkpoint_note_is_c2sp_text(world: World):
    note = world.ledger.checkpoint()
    body, _, sigs = note.partition("\n\n")
    origin, size, root = body.split("\n")
    assert origin == "custody.test/ledger"
    assert int(size) == 1
    assert len(base64.b64decode(root)) == 32
    assert sigs.startswith("— custody.test/ledger ")


@pytest.mark.postgres
def test_postgres_ledger_appends_and_proves(pg_world: World):
    _chain(pg_world, 5)
    from ledger.audit import audit

    report = audit(pg_world.ledger.store)
    assert report.ok, report.problems
    verifier = parse_verifier_key(pg_world.ledger.verifier_key())
    cp = open_checkpoint(pg_world.ledger.checkpoint(), verifier)
    p = pg_world.ledger.prove(3)
    merkle.verify_inclusion(p.leaf_hash, 3, cp.size, list(p.proof), cp.root)


def test_signature_copied_onto_other_bytes_in_the_same_batch_is_refused(world: World):
    """Regression: pre-verified signatures were memoised by (key, signature)
    without the message, so a valid signature pasted onto other bytes in the
    same batch was accepted."""
    from ledger.envelope import Envelope, EnvelopeSignature

    farm = world.party("farm")
    good = farm.envelope(
        "origin",
        lot={"id": "L1", "material": "cotton.seed", "quantity": q(5), "unit": "kg"},
        site=site(),
    )
    other = farm.payload(
        "origin",
        lot={"id": "L2", "material": "cotton.seed", "quantity": q(500), "unit": "kg"},
        site=site(),
    )
    forged = Envelope(
        good.payload_type,
        other,
        (EnvelopeSignature(good.signatures[0].keyid, good.signatures[0].sig),),
    )
    ok, bad = world.ledger.submit([good, forged])
    assert ok.error is None
    assert bad.error is not None
    assert bad.error.code == "bad_signature.invalid"
