"""The one proof builder (ledger.proofs): bulk inclusion proofs equal single ones and verify."""

import pytest

from ledger import merkle, proofs
from ledger.checkpoint import open_checkpoint, parse_verifier_key
from ledger.errors import NotFoundError
from tests.ledger.test_log import _chain
from tests.support import World


def test_prove_many_equals_prove_and_verifies_for_every_size(world: World):
    _chain(world, 11)
    n = world.ledger.size()
    for size in range(1, n + 1):
        root = world.ledger.root(size)
        many = world.ledger.prove_many(range(size), size)
        assert sorted(many) == list(range(size))
        for seq, p in many.items():
            assert p == world.ledger.prove(seq, size)
            assert p.root == root
            merkle.verify_inclusion(
                merkle.leaf_hash(world.ledger.leaf(seq)), seq, size, list(p.proof), root
            )


def test_prove_many_defaults_to_the_signed_head(world: World):
    _chain(world, 5)
    cp = open_checkpoint(world.ledger.checkpoint(), parse_verifier_key(world.ledger.verifier_key()))
    many = world.ledger.prove_many([0, 3, 6])
    assert {p.size for p in many.values()} == {cp.size}
    for seq, p in many.items():
        merkle.verify_inclusion(p.leaf_hash, seq, cp.size, list(p.proof), cp.root)


def test_prove_many_inside_a_read_transaction_with_leaves_the_caller_hashed(world: World):
    """The bundle exporter's form: its own read transaction, and subtrees of the
    leaves it already holds computed rather than read; the proofs are the same."""
    _chain(world, 14)
    size = world.ledger.size()
    seqs = [0, 1, 2, 3, 4, 5, 9, 12, 13]
    with world.ledger.store.read() as r:
        hashes = {e.seq: merkle.leaf_hash(e.leaf) for e in r.entries_by_seqs(seqs)}
        derived = proofs.prove_many(r, seqs, size, leaf_hashes=hashes)
        read = proofs.prove_many(r, seqs, size)
    assert derived == read == world.ledger.prove_many(seqs, size)


def test_prove_many_of_nothing_is_empty(world: World):
    assert world.ledger.prove_many([]) == {}


@pytest.mark.parametrize(
    ("seqs", "size"),
    [([0, 5], None), ([0], 7), ([0], 0), ([-1], None)],
    ids=["seq beyond head", "size beyond head", "size zero", "negative seq"],
)
def test_prove_many_out_of_range_is_not_found(world: World, seqs: list[int], size: int | None):
    _chain(world, 2)
    with pytest.raises(NotFoundError):
        world.ledger.prove_many(seqs, size)


@pytest.mark.postgres
def test_prove_many_on_postgresql_verifies_against_the_signed_checkpoint(pg_world: World):
    _chain(pg_world, 6)
    verifier = parse_verifier_key(pg_world.ledger.verifier_key())
    cp = open_checkpoint(pg_world.ledger.checkpoint(), verifier)
    many = pg_world.ledger.prove_many(range(cp.size), cp.size)
    for seq, p in many.items():
        assert p == pg_world.ledger.prove(seq)
        merkle.verify_inclusion(p.leaf_hash, seq, cp.size, list(p.proof), cp.root)


def test_cli_proofs_verify_against_the_signed_checkpoint(world: World):
    """``custody ledger prove`` / ``consistency`` through the installed script: what an
    auditor reads verifies with ledger.merkle against the checkpoint the script prints."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    _chain(world, 6)
    binary = Path(sys.executable).with_name("custody")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}

    def custody(*args: str) -> str:
        result = subprocess.run(
            [str(binary), "ledger", *args, "--home", str(world.home.path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    note = custody("checkpoint")
    cp = open_checkpoint(note, parse_verifier_key(custody("key").strip()))
    proof = json.loads(custody("prove", "--seq", "3", "--json"))
    assert proof["size"] == cp.size
    merkle.verify_inclusion(
        merkle.leaf_hash(world.ledger.leaf(3)),
        3,
        cp.size,
        [bytes.fromhex(h) for h in proof["proof"]],
        cp.root,
    )
    older = json.loads(custody("prove", "--seq", "1", "--size", "4", "--json"))
    c = json.loads(custody("consistency", "--from", "4", "--json"))
    assert c["root_from"] == older["root"]
    assert bytes.fromhex(c["root_to"]) == cp.root
    merkle.verify_consistency(
        4, cp.size, [bytes.fromhex(h) for h in c["proof"]], bytes.fromhex(older["root"]), cp.root
    )
