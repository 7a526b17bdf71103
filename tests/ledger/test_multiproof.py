"""ledger.multiproof: many inclusion proofs against one root, exactly as one by one."""

from __future__ import annotations

import random

import pytest

from ledger import merkle
from ledger.errors import ProofError
from ledger.multiproof import verify_inclusion_many


def _tree(size: int) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    leaves = [merkle.leaf_hash(b"leaf %d" % i) for i in range(size)]
    nodes: dict[tuple[int, int], bytes] = {(0, i): h for i, h in enumerate(leaves)}
    done, _ = merkle.completed_nodes(0, leaves, [])
    nodes.update({(level, index): h for level, index, h in done})
    return leaves, nodes


def _proof(nodes: dict[tuple[int, int], bytes], index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, size, lambda lv, ix: nodes[(lv, ix)])


def _one_by_one(
    items: list[tuple[bytes, int, list[bytes]]], size: int, root: bytes
) -> list[tuple[str, dict[str, object]] | None]:
    out: list[tuple[str, dict[str, object]] | None] = []
    for leaf, index, proof in items:
        try:
            merkle.verify_inclusion(leaf, index, size, proof, root)
        except ProofError as e:
            out.append((e.code, dict(e.details)))
        else:
            out.append(None)
    return out


def _batched(
    items: list[tuple[bytes, int, list[bytes]]], size: int, root: bytes
) -> list[tuple[str, dict[str, object]] | None]:
    return [
        None if e is None else (e.code, dict(e.details))
        for e in verify_inclusion_many(items, size, root)
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 32, 33, 100, 255, 256, 257])
def test_every_leaf_of_every_small_tree(size: int) -> None:
    leaves, nodes = _tree(size)
    root = merkle.root(leaves)
    items = [(leaves[i], i, _proof(nodes, i, size)) for i in range(size)]
    assert verify_inclusion_many(items, size, root) == [None] * size
    # in any order, and a subset
    rng = random.Random(size)
    rng.shuffle(items)
    assert verify_inclusion_many(items[: size // 2 + 1], size, root) == [None] * (size // 2 + 1)


def test_the_fold_consumes_exactly_the_audit_path() -> None:
    """A proof one hash too long or too short fails in the batch as it does alone."""
    for size in range(1, 70):
        leaves, nodes = _tree(size)
        root = merkle.root(leaves)
        items = []
        for i in range(size):
            proof = _proof(nodes, i, size)
            items += [(leaves[i], i, proof), (leaves[i], i, proof[:-1])]
            items += [(leaves[i], i, [*proof, root]), (leaves[i], i, proof[::-1])]
        assert _batched(items, size, root) == _one_by_one(items, size, root)


def test_tampered_paths_fail_with_the_single_verification_error() -> None:
    size = 1000
    leaves, nodes = _tree(size)
    root = merkle.root(leaves)
    rng = random.Random(7)
    items: list[tuple[bytes, int, list[bytes]]] = []
    for i in rng.sample(range(size), 400):
        proof = _proof(nodes, i, size)
        leaf = leaves[i]
        kind = rng.randrange(8)
        if kind == 0:  # one hash of the path flipped, anywhere (also above a shared node)
            j = rng.randrange(len(proof))
            proof[j] = bytes([proof[j][0] ^ 1]) + proof[j][1:]
        elif kind == 1:
            leaf = merkle.leaf_hash(b"forged")
        elif kind == 2:
            proof = proof[:-1]
        elif kind == 3:
            proof = [*proof, proof[0]]
        elif kind == 4:
            proof[0] = proof[0][:31]
        elif kind == 5:  # another leaf's valid proof
            proof = _proof(nodes, (i + 1) % size, size)
        items.append((leaf, i, proof))
    items.append((leaves[3], size, _proof(nodes, 3, size)))  # index out of range
    items.append((leaves[3], -1, _proof(nodes, 3, size)))
    assert _batched(items, size, root) == _one_by_one(items, size, root)
    assert any(r is not None for r in _batched(items, size, root))


def test_a_wrong_root_fails_every_leaf() -> None:
    size = 77
    leaves, nodes = _tree(size)
    items = [(leaves[i], i, _proof(nodes, i, size)) for i in range(size)]
    bad_root = merkle.leaf_hash(b"not the root")
    assert _batched(items, size, bad_root) == _one_by_one(items, size, bad_root)
    assert all(
        r is not None and r[0] == "invalid_proof.root_mismatch"
        for r in _batched(items, size, bad_root)
    )
    short = _batched(items, size, b"\x00" * 31)
    assert short == _one_by_one(items, size, b"\x00" * 31)
    assert all(r is not None and r[0] == "invalid_proof.hash_size" for r in short)


def test_a_forged_proof_after_a_valid_one_of_the_same_leaf_still_fails() -> None:
    """A shared node is reused only with the same hash and the same remaining proof."""
    size = 64
    leaves, nodes = _tree(size)
    root = merkle.root(leaves)
    good = _proof(nodes, 10, size)
    forged = list(good)
    forged[-1] = merkle.leaf_hash(b"x")
    items = [(leaves[10], 10, good), (leaves[10], 10, forged), (leaves[11], 11, forged)]
    result = _batched(items, size, root)
    assert result == _one_by_one(items, size, root)
    assert result[0] is None
    assert result[1] is not None
    assert result[2] is not None


def test_empty_tree_and_empty_batch() -> None:
    assert verify_inclusion_many([], 5, merkle.EMPTY_ROOT) == []
    items = [(merkle.leaf_hash(b"a"), 0, [])]
    assert _batched(items, 0, merkle.EMPTY_ROOT) == _one_by_one(items, 0, merkle.EMPTY_ROOT)
