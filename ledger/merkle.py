"""Merkle tree math of RFC 6962 §2.1 / RFC 9162 §2.1 — pure functions, no I/O.

Hashes are raw 32-byte SHA-256 values: ``leaf_hash`` = SHA-256(0x00 ‖ data),
``node_hash`` = SHA-256(0x01 ‖ left ‖ right), the empty tree hashes to ``EMPTY_ROOT``.

Storage model: a *perfect* subtree is named by its coordinates ``(level, index)``
and covers leaves ``[index·2^level, (index+1)·2^level)``; level 0 holds leaf
hashes. Appending returns every newly completed node (``completed_nodes``), so
the store keeps all perfect nodes and answers any root or proof in O(log n)
reads: a *plan* lists, for each proof element, the perfect nodes whose
right-to-left fold (``combine``) gives that element (a perfect subtree, or the
incomplete subtree on the tree's right edge). ``plan_nodes`` lists what to fetch.

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency)
and raises ``ProofError`` with the expected and computed hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from ledger.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]
"""A perfect subtree ``(level, index)``."""
Plan = list[list[Coord]]
"""One list of perfect-node coordinates per proof element, bottom-up."""


# --- hashing -----------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def combine(hashes: Sequence[bytes]) -> bytes:
    """Fold subtree hashes (largest, leftmost first) right to left into one hash."""
    if not hashes:
        raise ValueError("combine needs at least one hash")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


# --- coordinates and plans ---------------------------------------------------


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size {size} is negative")


def _range_coords(start: int, count: int) -> list[Coord]:
    """Perfect subtrees covering ``[start, start+count)``, largest first.

    ``start`` is a multiple of the largest piece (true of every RFC 6962 subtree).
    """
    coords: list[Coord] = []
    for level in reversed(range(count.bit_length())):
        if count >> level & 1:
            coords.append((level, start >> level))
            start += 1 << level
    return coords


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def frontier_coords(size: int) -> list[Coord]:
    """The perfect subtrees whose hashes form the frontier of a tree of ``size`` leaves."""
    _check_size(size)
    return _range_coords(0, size)


def root_plan(size: int) -> list[Coord]:
    """The perfect nodes whose ``combine`` is the root (empty for size 0: ``EMPTY_ROOT``)."""
    return frontier_coords(size)


def inclusion_plan(index: int, size: int) -> Plan:
    """Plan of the RFC 6962 audit path (PATH) of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is out of range for tree size {size}")
    plan: Plan = []
    start, n = 0, size
    while n > 1:
        k = _split(n)
        if index < start + k:
            plan.append(_range_coords(start + k, n - k))
            n = k
        else:
            plan.append(_range_coords(start, k))
            start, n = start + k, n - k
    plan.reverse()
    return plan


def consistency_plan(size1: int, size2: int) -> Plan:
    """Plan of the RFC 6962 consistency proof (PROOF) from ``size1`` to ``size2``.

    Empty when ``size1`` is 0 or equals ``size2`` (RFC 9162 §2.1.4).
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"tree sizes {size1} and {size2} are not 0 <= size1 <= size2")
    if size1 in (0, size2):
        return []
    plan: Plan = []
    start, m, n, is_old_root = 0, size1, size2, True
    while m != n:
        k = _split(n)
        if m <= k:
            plan.append(_range_coords(start + k, n - k))
            n = k
        else:
            plan.append(_range_coords(start, k))
            start, m, n, is_old_root = start + k, m - k, n - k, False
    if not is_old_root:
        plan.append(_range_coords(start, m))
    plan.reverse()
    return plan


def plan_nodes(plan: Sequence[Sequence[Coord]]) -> list[Coord]:
    """Every distinct node a plan needs, sorted (for a single store query)."""
    return sorted({c for element in plan for c in element})


# --- building ----------------------------------------------------------------


def completed_nodes(
    size_before: int, new_leaf_hashes: Sequence[bytes], frontier: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """Append leaves to a tree given by its frontier.

    ``frontier`` holds the hashes at ``frontier_coords(size_before)``. Returns every
    newly completed perfect node ``(level, index, hash)`` with level >= 1, bottom-up
    per leaf, and the frontier of the grown tree.
    """
    coords = frontier_coords(size_before)
    if len(frontier) != len(coords):
        raise ValueError(
            f"a tree of size {size_before} has {len(coords)} frontier hashes, got {len(frontier)}"
        )
    stack = [(level, index, h) for (level, index), h in zip(coords, frontier, strict=True)]
    done: list[tuple[int, int, bytes]] = []
    for position, h in enumerate(new_leaf_hashes, start=size_before):
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash at {position} is {len(h)} bytes, not {HASH_SIZE}")
        level, index, acc = 0, position, h
        while stack and stack[-1][0] == level:
            acc = node_hash(stack.pop()[2], acc)
            level, index = level + 1, index >> 1
            done.append((level, index, acc))
        stack.append((level, index, acc))
    return done, [h for _, _, h in stack]


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The root of the tree whose frontier is given (``EMPTY_ROOT`` if empty)."""
    return combine(frontier) if frontier else EMPTY_ROOT


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash (MTH) of the given leaf hashes."""
    return root_from_frontier(completed_nodes(0, leaf_hashes, [])[1])


def assemble(plan: Plan, get: Callable[[int, int], bytes]) -> list[bytes]:
    """The proof a plan describes: each element the fold of its perfect nodes, read
    with ``get(level, index)`` (:mod:`ledger.proofs` reads them from storage)."""
    return [combine([get(*c) for c in element]) for element in plan]


def inclusion_proof(index: int, size: int, get: Callable[[int, int], bytes]) -> list[bytes]:
    """The audit path of leaf ``index``, reading perfect nodes with ``get(level, index)``."""
    return assemble(inclusion_plan(index, size), get)


def consistency_proof(size1: int, size2: int, get: Callable[[int, int], bytes]) -> list[bytes]:
    """The consistency proof ``size1`` → ``size2``, reading nodes with ``get(level, index)``."""
    return assemble(consistency_plan(size1, size2), get)


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise ProofError(
                f"{what} is {len(h)} bytes, not {HASH_SIZE}",
                code="invalid_proof.hash_size",
                details={"what": what, "position": i, "length": len(h)},
            )


def _check_length(proof: Sequence[bytes], expected: int, details: dict[str, int]) -> None:
    if len(proof) != expected:
        raise ProofError(
            f"proof has {len(proof)} hashes, expected {expected}",
            code="invalid_proof.length",
            details={**details, "expected": expected, "actual": len(proof)},
        )


def _mismatch(what: str, expected: bytes, computed: bytes, details: dict[str, int]) -> ProofError:
    return ProofError(
        f"{what} computed from the proof does not match",
        code="invalid_proof.root_mismatch",
        details={**details, "expected": expected.hex(), "computed": computed.hex()},
    )


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-4).

    Steps: 1. the tree is not empty and ``0 <= index < size``; 2. every hash is 32
    bytes and the proof has the audit path's length; 3. fold the proof from the
    leaf up, left or right by the bits of ``index``.
    """
    where = {"index": index, "size": size}
    if size <= 0:
        raise ProofError(
            "no leaf is included in an empty tree", code="invalid_proof.size", details=where
        )
    if not 0 <= index < size:
        raise ProofError(
            f"leaf index {index} is out of range for tree size {size}",
            code="invalid_proof.size",
            details=where,
        )
    _check_hashes("leaf hash", [leaf_hash])
    _check_hashes("proof hash", proof)
    _check_length(proof, len(inclusion_plan(index, size)), where)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("proof is too long", code="invalid_proof.length", details=where)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is too short", code="invalid_proof.length", details=where)
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises ``ProofError`` on any failure (see ``root_from_inclusion_proof``).
    """
    _check_hashes("root", [root])
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise _mismatch("root", root, computed, {"index": index, "size": size})


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2``/``root2`` extends the one of ``size1``/``root1``.

    Steps: 1. ``0 <= size1 <= size2``; 2. equal sizes need an empty proof and equal
    roots (the empty tree's root is ``EMPTY_ROOT``); 3. from size 0 only an empty
    proof, ``root1 == EMPTY_ROOT`` and a 32-byte ``root2`` are accepted; 4. every
    hash is 32 bytes and the proof has the expected length; 5. RFC 9162 §2.1.4.2
    recomputes both roots from the proof and compares them.
    Raises ``ProofError`` on any failure.
    """
    where = {"size1": size1, "size2": size2}
    if not 0 <= size1 <= size2:
        raise ProofError(
            f"tree sizes {size1} and {size2} are not 0 <= size1 <= size2",
            code="invalid_proof.size",
            details=where,
        )
    if size1 in (0, size2):
        _check_length(proof, 0, where)
        if size1 == size2:
            if root1 != root2:
                raise _mismatch("root2", root2, root1, where)
        else:
            _check_hashes("root2", [root2])
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise _mismatch("root of the empty tree", EMPTY_ROOT, root1, where)
        return
    _check_hashes("root1", [root1])
    _check_hashes("root2", [root2])
    _check_hashes("proof hash", proof)
    _check_length(proof, len(consistency_plan(size1, size2)), where)

    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: root1 is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is too long", code="invalid_proof.length", details=where)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof is too short", code="invalid_proof.length", details=where)
    if fr != root1:
        raise _mismatch("root1", root1, fr, where)
    if sr != root2:
        raise _mismatch("root2", root2, sr, where)
