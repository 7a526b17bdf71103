"""Many RFC 9162 inclusion proofs against one root, verified in one pass.

An evidence bundle holds thousands of leaves, each with its audit path against
the same checkpoint. Verified one by one (:func:`ledger.merkle.verify_inclusion`)
every path is folded up to the root, although the paths of nearby leaves share
all their upper nodes. :func:`verify_inclusion_many` folds each path only until
it reaches a node an earlier, already verified path went through with the same
hash *and the same remaining proof*: from there the fold is the same computation
(it depends only on the node's position, its hash and the remaining proof
hashes), so its result — the root — is already known to match.

The outcome for every leaf is exactly that of :func:`ledger.merkle.verify_inclusion`:
a path the shortcut does not accept is verified again on its own, which raises
the same :class:`ledger.errors.ProofError` (code and details) as it always did.
Nothing is trusted that the single verification would not accept.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import ProofError
from ledger.merkle import HASH_SIZE, node_hash, verify_inclusion

__all__ = ["verify_inclusion_many"]

_Node = tuple[int, int]
"""A node where a fold step starts: (level, index at that level) of RFC 9162 §2.1.3.2."""


def verify_inclusion_many(
    items: Sequence[tuple[bytes, int, Sequence[bytes]]], size: int, root: bytes
) -> list[ProofError | None]:
    """Check each ``(leaf_hash, index, proof)`` against the tree of ``size`` with ``root``.

    Returns, per item in order, ``None`` when its leaf is proven included, or the
    :class:`ProofError` :func:`ledger.merkle.verify_inclusion` raises for it.
    """
    seen: dict[_Node, tuple[bytes, tuple[bytes, ...], int]] = {}
    out: list[ProofError | None] = []
    for leaf, index, proof in items:
        if _fold(seen, leaf, index, tuple(proof), size, root):
            out.append(None)
            continue
        try:  # the exact verdict and error of the single verification
            verify_inclusion(leaf, index, size, proof, root)
        except ProofError as e:
            out.append(e)
        else:
            out.append(None)
    return out


def _fold(
    seen: dict[_Node, tuple[bytes, tuple[bytes, ...], int]],
    leaf: bytes,
    index: int,
    proof: tuple[bytes, ...],
    size: int,
    root: bytes,
) -> bool:
    """True when the path verifies (recording its nodes in ``seen``); False when unsure."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    for p in proof:
        if len(p) != HASH_SIZE:
            return False
    fn, sn, level, r = index, size - 1, 0, leaf
    trail: list[tuple[_Node, bytes, int]] = []
    for j, p in enumerate(proof):
        node = (level, fn)
        known = seen.get(node)
        if known is not None:
            # the same start state as a verified fold: the same result iff the
            # same hashes remain to be folded in
            value, other, at = known
            if value != r or proof[j:] != other[at:]:
                return False
            break
        trail.append((node, r, j))
        if sn == 0:
            return False  # too long
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn, level = fn >> 1, sn >> 1, level + 1
        else:
            r = node_hash(r, p)
        fn, sn, level = fn >> 1, sn >> 1, level + 1
    else:
        if sn != 0 or r != root:
            return False
        trail.append(((level, fn), r, len(proof)))
    for node, value, j in trail:
        seen[node] = (value, proof, j)
    return True
