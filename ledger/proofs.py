"""The one proof builder: RFC 6962 / RFC 9162 inclusion and consistency proofs from storage.

Every proof the ledger hands out (``custody ledger prove``, the API's
``/v1/proofs``, evidence bundles) is assembled here from the perfect subtrees
the store keeps (:mod:`ledger.merkle` plans), inside the caller's read
transaction:

* :func:`prove_many` answers the inclusion proofs of many seqs in one tree size
  with one bulk node read. Perfect subtrees all of whose leaves the caller
  already hashed (``leaf_hashes``, e.g. a bundle's leaves, which are mostly runs
  of consecutive seqs) are computed rather than read; the rest comes from
  storage.
* :func:`consistency` answers one consistency proof, :func:`root` one tree hash.

:class:`ledger.log.Ledger` wraps these in a read transaction of its own
(``Ledger.prove``, ``Ledger.prove_many``, ``Ledger.consistency``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.errors import NotFoundError
from ledger.store import ReadTx

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "consistency",
    "derived_nodes",
    "prove_many",
    "root",
]


@dataclass(frozen=True)
class InclusionProof:
    """The audit path of leaf ``seq`` in the tree of ``size`` leaves whose hash is ``root``."""

    seq: int
    size: int
    leaf_hash: bytes
    root: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root": self.root.hex(),
            "proof": [h.hex() for h in self.proof],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.size1,
            "to": self.size2,
            "root_from": self.root1.hex(),
            "root_to": self.root2.hex(),
            "proof": [h.hex() for h in self.proof],
        }


def derived_nodes(leaf_hashes: Mapping[int, bytes]) -> dict[merkle.Coord, bytes]:
    """Every perfect subtree ``(level, index)`` all of whose leaves are given, with its hash."""
    known: dict[merkle.Coord, bytes] = {(0, seq): h for seq, h in leaf_hashes.items()}
    level, current = 0, dict(leaf_hashes)
    while len(current) > 1:
        parents = {
            i >> 1: merkle.node_hash(h, current[i + 1])
            for i, h in current.items()
            if not i & 1 and i + 1 in current
        }
        level += 1
        known.update(((level, i), h) for i, h in parents.items())
        current = parents
    return known


def _tree_size(r: ReadTx, size: int | None) -> int:
    """``size``, or the ledger size when None; NotFoundError unless between 1 and the head."""
    head = r.head().size
    size = head if size is None else size
    if not 0 < size <= head:
        raise NotFoundError(
            f"tree size {size} is not between 1 and the ledger size {head}",
            details={"size": size, "ledger_size": head},
        )
    return size


def prove_many(
    r: ReadTx,
    seqs: Iterable[int],
    size: int | None = None,
    *,
    leaf_hashes: Mapping[int, bytes] | None = None,
) -> dict[int, InclusionProof]:
    """Inclusion proofs of ``seqs`` in the tree of ``size`` leaves (default: the ledger
    size), from one bulk node read.

    ``leaf_hashes`` (seq → RFC 6962 leaf hash of leaf bytes the caller holds) lets
    perfect subtrees made only of those leaves be computed instead of read; the
    proofs then prove those bytes, and the caller compares each proof's ``root``
    with the signed checkpoint. Raises NotFoundError when ``size`` is not between
    1 and the ledger size, or a seq is not below ``size``; storage that lacks a
    node the proofs need is a NotFoundError from the store.
    """
    wanted_seqs = sorted(set(seqs))
    size = _tree_size(r, size)
    for seq in wanted_seqs:
        if not 0 <= seq < size:
            raise NotFoundError(
                f"seq {seq} is not in a tree of size {size}",
                details={"seq": seq, "size": size},
            )
    known = derived_nodes(leaf_hashes) if leaf_hashes else {}
    plans = {seq: merkle.inclusion_plan(seq, size) for seq in wanted_seqs}
    rplan = merkle.root_plan(size)
    wanted = {c for c in rplan if c not in known}
    for seq, plan in plans.items():
        if (0, seq) not in known:
            wanted.add((0, seq))
        for element in plan:
            wanted.update(c for c in element if c not in known)
    nodes = {**r.nodes(sorted(wanted)), **known} if wanted else known
    tree_root = merkle.combine([nodes[c] for c in rplan])

    def get(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    return {
        seq: InclusionProof(
            seq, size, nodes[(0, seq)], tree_root, tuple(merkle.assemble(plan, get))
        )
        for seq, plan in plans.items()
    }


def root(r: ReadTx, size: int) -> bytes:
    """The RFC 6962 hash of the tree of the first ``size`` leaves (``EMPTY_ROOT`` for 0)."""
    plan = merkle.root_plan(size)
    if not plan:
        return merkle.EMPTY_ROOT
    nodes = r.nodes(plan)
    return merkle.combine([nodes[c] for c in plan])


def consistency(r: ReadTx, size1: int, size2: int | None = None) -> ConsistencyProof:
    """Consistency proof from ``size1`` to ``size2`` (default: the head), from one read."""
    head = r.head().size
    size2 = head if size2 is None else size2
    if not 0 <= size1 <= size2 <= head:
        raise NotFoundError(
            f"need 0 <= from ({size1}) <= to ({size2}) <= ledger size ({head})",
            details={"from": size1, "to": size2, "ledger_size": head},
        )
    plan = merkle.consistency_plan(size1, size2)
    p1, p2 = merkle.root_plan(size1), merkle.root_plan(size2)
    coords = [*merkle.plan_nodes(plan), *p1, *p2]
    nodes = r.nodes(coords) if coords else {}

    def root_of(p: list[merkle.Coord]) -> bytes:
        return merkle.combine([nodes[c] for c in p]) if p else merkle.EMPTY_ROOT

    def get(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    return ConsistencyProof(
        size1, size2, root_of(p1), root_of(p2), tuple(merkle.assemble(plan, get))
    )
