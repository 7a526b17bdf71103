"""RFC 6962 / RFC 9162 Merkle math: external vectors, then properties against a naive tree."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import ProofError
from tests.conftest import SHARED

VECTORS = SHARED / "vectors" / "merkle"


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(VECTORS)) for p in paths]


def _b64(s: str) -> bytes:
    return base64.b64decode(s)


def test_vectors_are_present():
    assert len(_cases("inclusion")) == 98
    assert len(_cases("consistency")) == 98


# --- transparency-dev/merkle testdata ----------------------------------------


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_ids(_cases("inclusion")))
def test_inclusion_vector(path: Path):
    case = json.loads(path.read_text())
    proof = [_b64(h) for h in case["proof"] or []]
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)
        assert merkle.root_from_inclusion_proof(*args[:4]) == args[4]


@pytest.mark.parametrize("path", _cases("consistency"), ids=_ids(_cases("consistency")))
def test_consistency_vector(path: Path):
    case = json.loads(path.read_text())
    proof = [_b64(h) for h in case["proof"] or []]
    args = (case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


# --- classic vectors (testonly/constants.go) ---------------------------------

CLASSIC = json.loads((VECTORS / "classic_vectors.json").read_text())
CLASSIC_LEAVES = [merkle.leaf_hash(bytes.fromhex(d)) for d in CLASSIC["leaves_hex"]]


def _classic_store() -> dict[tuple[int, int], bytes]:
    nodes, _ = merkle.completed_nodes(0, CLASSIC_LEAVES, [])
    store = {(0, i): h for i, h in enumerate(CLASSIC_LEAVES)}
    store.update({(level, index): h for level, index, h in nodes})
    return store


def test_classic_empty_root():
    assert merkle.EMPTY_ROOT.hex() == CLASSIC["root_by_size"][0]
    assert merkle.root([]) == merkle.EMPTY_ROOT
    assert merkle.root_from_frontier([]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_classic_root(size: int):
    assert merkle.root(CLASSIC_LEAVES[:size]).hex() == CLASSIC["root_by_size"][size]
    store = _classic_store()
    planned = merkle.combine([store[c] for c in merkle.root_plan(size)]) if size else None
    if planned is not None:
        assert planned.hex() == CLASSIC["root_by_size"][size]


def test_classic_subtree_hashes():
    expected = {
        (level, index): h
        for level, row in enumerate(CLASSIC["node_hashes_by_level"])
        for index, h in enumerate(row)
    }
    assert {c: h.hex() for c, h in _classic_store().items()} == expected


@pytest.mark.parametrize(
    "case",
    CLASSIC["inclusion"],
    ids=[f"{c['leaf_index']}-of-{c['tree_size']}" for c in CLASSIC["inclusion"]],
)
def test_classic_inclusion(case):
    store = _classic_store()
    index, size = case["leaf_index"], case["tree_size"]
    proof = merkle.inclusion_proof(index, size, lambda lv, ix: store[(lv, ix)])
    assert [h.hex() for h in proof] == case["proof"]
    leaf = merkle.leaf_hash(bytes.fromhex(case["leaf_hash_of"]))
    assert leaf == CLASSIC_LEAVES[index]
    merkle.verify_inclusion(leaf, index, size, proof, bytes.fromhex(CLASSIC["root_by_size"][size]))


@pytest.mark.parametrize(
    "case",
    CLASSIC["consistency"],
    ids=[f"{c['size1']}-to-{c['size2']}" for c in CLASSIC["consistency"]],
)
def test_classic_consistency(case):
    store = _classic_store()
    size1, size2 = case["size1"], case["size2"]
    proof = merkle.consistency_proof(size1, size2, lambda lv, ix: store[(lv, ix)])
    assert [h.hex() for h in proof] == case["proof"]
    roots = CLASSIC["root_by_size"]
    merkle.verify_consistency(
        size1, size2, proof, bytes.fromhex(roots[size1]), bytes.fromhex(roots[size2])
    )


# --- named cases -------------------------------------------------------------

H = merkle.leaf_hash(b"x")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((H, 0, 0, [], merkle.EMPTY_ROOT), "invalid_proof.size"),
        ((H, 1, 1, [], H), "invalid_proof.size"),
        ((H, -1, 1, [], H), "invalid_proof.size"),
        ((H, 0, 1, [H], H), "invalid_proof.length"),
        ((H, 0, 2, [], H), "invalid_proof.length"),
        ((b"short", 0, 1, [], H), "invalid_proof.hash_size"),
        ((H, 0, 1, [], b"short"), "invalid_proof.hash_size"),
        ((H, 0, 1, [], merkle.EMPTY_ROOT), "invalid_proof.root_mismatch"),
    ],
    ids=[
        "empty-tree",
        "index-equals-size",
        "negative-index",
        "proof-too-long",
        "proof-too-short",
        "short-leaf-hash",
        "short-root",
        "wrong-root",
    ],
)
def test_inclusion_rejects(args, code):
    with pytest.raises(ProofError) as info:
        merkle.verify_inclusion(*args)
    assert info.value.code == code
    assert info.value.details


def test_inclusion_mismatch_details_name_both_roots():
    with pytest.raises(ProofError) as info:
        merkle.verify_inclusion(H, 0, 1, [], merkle.EMPTY_ROOT)
    assert info.value.details["expected"] == merkle.EMPTY_ROOT.hex()
    assert info.value.details["computed"] == H.hex()


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ((0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT), True),
        ((0, 5, [], merkle.EMPTY_ROOT, H), True),
        ((0, 5, [H], merkle.EMPTY_ROOT, H), False),
        ((0, 5, [], H, H), False),
        ((0, 0, [], H, H), False),
        ((3, 3, [], H, H), True),
        ((3, 3, [H], H, H), False),
        ((3, 2, [], H, H), False),
        ((-1, 2, [], H, H), False),
    ],
    ids=[
        "zero-zero",
        "from-zero",
        "from-zero-with-proof",
        "from-zero-wrong-root1",
        "zero-zero-not-empty-root",
        "equal-sizes",
        "equal-sizes-with-proof",
        "shrinking",
        "negative",
    ],
)
def test_consistency_edge_cases(args, ok):
    if ok:
        merkle.verify_consistency(*args)
    else:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)


def test_plans_reject_bad_arguments():
    with pytest.raises(ValueError, match="out of range"):
        merkle.inclusion_plan(3, 3)
    with pytest.raises(ValueError, match="size1"):
        merkle.consistency_plan(4, 3)
    with pytest.raises(ValueError, match="frontier"):
        merkle.completed_nodes(3, [H], [H])
    with pytest.raises(ValueError, match="combine"):
        merkle.combine([])


def test_plan_nodes_is_one_sorted_query():
    plan = merkle.consistency_plan(6, 8) + merkle.inclusion_plan(5, 8)
    assert merkle.plan_nodes(plan) == [(0, 4), (1, 2), (1, 3), (2, 0)]


def test_frontier_coords():
    assert merkle.frontier_coords(0) == []
    assert merkle.frontier_coords(13) == [(3, 0), (2, 2), (0, 12)]


# --- properties against a naive recursive RFC 6962 tree ----------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH over leaf hashes."""
    if not d:
        return merkle.EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return merkle.node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def build(hashes: list[bytes], cuts: list[int]) -> dict[tuple[int, int], bytes]:
    """Append ``hashes`` in batches split at ``cuts``; return every stored node."""
    store = {(0, i): h for i, h in enumerate(hashes)}
    frontier: list[bytes] = []
    bounds = [0, *sorted(set(cuts)), len(hashes)]
    for lo, hi in itertools.pairwise(bounds):
        assert [store[c] for c in merkle.frontier_coords(lo)] == frontier
        nodes, frontier = merkle.completed_nodes(lo, hashes[lo:hi], frontier)
        for level, index, h in nodes:
            assert (level, index) not in store
            store[(level, index)] = h
        assert merkle.root_from_frontier(frontier) == ref_mth(hashes[:hi])
    return store


sizes = st.integers(min_value=1, max_value=300)


@st.composite
def tree_and_cuts(draw):
    n = draw(sizes)
    cuts = draw(st.lists(st.integers(min_value=0, max_value=n), max_size=8))
    return n, cuts


@st.composite
def index_in_tree(draw):
    n = draw(sizes)
    return draw(st.integers(min_value=0, max_value=n - 1)), n


@st.composite
def two_sizes(draw):
    n = draw(sizes)
    return draw(st.integers(min_value=1, max_value=n)), n


@settings(max_examples=150, deadline=None)
@given(tree_and_cuts())
def test_incremental_build_matches_reference(tc):
    n, cuts = tc
    d = leaves(n)
    store = build(d, cuts)
    # Every perfect subtree inside [0, n) is stored, with its MTH.
    expected = {
        (level, i): ref_mth(d[i << level : (i + 1) << level])
        for level in range(n.bit_length())
        for i in range(n >> level)
    }
    assert store == expected
    assert merkle.root(d) == ref_mth(d)
    assert merkle.combine([store[c] for c in merkle.root_plan(n)]) == ref_mth(d)


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@settings(max_examples=300, deadline=None)
@given(index_in_tree())
def test_inclusion_proofs(pair):
    index, n = pair
    d = leaves(n)
    store = build(d, [])
    proof = merkle.inclusion_proof(index, n, lambda lv, ix: store[(lv, ix)])
    assert proof == ref_path(index, d)
    root = ref_mth(d)
    merkle.verify_inclusion(d[index], index, n, proof, root)
    assert merkle.root_from_inclusion_proof(d[index], index, n, proof) == root

    bad = [
        (d[index], index, n, [*proof[:i], _flip(p), *proof[i + 1 :]], root)
        for i, p in enumerate(proof)
    ]
    bad += [
        (d[index], index, n, [*proof, root], root),
        (d[index], index, n, [root, *proof], root),
        (d[index], index, n, proof, _flip(root)),
        (_flip(d[index]), index, n, proof, root),
        (d[index], index, n * 2, proof, root),
        (d[index], index, n // 2, proof, root),
        (d[index], index + 1, n, proof, root),
        (d[index], index - 1, n, proof, root),
        (d[index], index ^ 2, n, proof, root),
    ]
    if proof:
        bad.append((d[index], index, n, proof[:-1], root))
    for args in bad:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)


@settings(max_examples=300, deadline=None)
@given(two_sizes())
def test_consistency_proofs(pair):
    m, n = pair
    d = leaves(n)
    store = build(d, [m])
    proof = merkle.consistency_proof(m, n, lambda lv, ix: store[(lv, ix)])
    assert proof == (ref_subproof(m, d, True) if m < n else [])
    root1, root2 = ref_mth(d[:m]), ref_mth(d)
    merkle.verify_consistency(m, n, proof, root1, root2)

    bad = [
        (m, n, [*proof[:i], _flip(p), *proof[i + 1 :]], root1, root2) for i, p in enumerate(proof)
    ]
    bad += [
        (m, n, [*proof, root2], root1, root2),
        (m, n, [root1, *proof], root1, root2),
        (m, n, proof, _flip(root1), root2),
        (m, n, proof, root1, _flip(root2)),
        (m, n * 2, proof, root1, root2),
        (m - 1, n, proof, root1, root2),
        (m + 1, n, proof, root1, root2),
    ]
    if proof:
        bad += [(m, n, proof[:-1], root1, root2), (m, n, proof, root2, root1)]
    for args in bad:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
