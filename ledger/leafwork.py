"""Ledger leaves read in bulk, a chunk at a time.

Verification reads every leaf of a trace (:func:`provenance.leaves.read_leaves`):
decode it (:func:`ledger.leaf.decode_leaf`), parse its statement, hash it and
build its signed bytes (PAE). :func:`read_chunk` does that for a chunk of
leaves and returns one record a leaf, in the chunk's order:

* :data:`Read` ``(seq, leaf_hash, prev, received_at, time, statement,
  signatures, pae)``: the leaf decoded and its statement parsed;
* :data:`Unread` ``(seq, leaf_hash, prev, reason, why, digest)``: the
  :class:`ledger.errors.LeafError` the leaf raised (its ``reason``, ``why``,
  ``digest``, and the ``prev`` it still gave, if any).

(Reading the chunks on the signature workers instead was measured: on two
cores the worker, which also checks the signatures, is then the longer path,
so the leaves are read on the verifying process.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ledger.envelope import pae
from ledger.errors import LeafError
from ledger.leaf import decode_leaf
from ledger.merkle import leaf_hash
from ledger.statements import Statement

__all__ = [
    "Read",
    "Record",
    "Unread",
    "read_chunk",
]

Read = tuple[
    int,
    bytes,
    str,
    str,
    datetime,
    Statement,
    tuple[tuple[str, bytes], ...],
    bytes,
]
"""``(seq, leaf_hash, prev, received_at, time, statement, signatures, pae)``."""

Unread = tuple[int, bytes, str | None, str, str, str | None]
"""``(seq, leaf_hash, prev, reason, why, digest)`` of a leaf that raised ``LeafError``."""

Record = Read | Unread


def read_chunk(chunk: Sequence[tuple[int, bytes]]) -> list[Record]:
    """One :data:`Record` a ``(seq, leaf bytes)`` pair, in order (see the module docstring)."""
    out: list[Record] = []
    for seq, data in chunk:
        digest = leaf_hash(data)
        try:
            leaf = decode_leaf(data, seq)
            statement = leaf.parse_statement()
        except LeafError as e:
            out.append((seq, digest, e.prev, e.reason, e.why, e.digest))
            continue
        env = leaf.envelope
        signed = pae(env.payload_type, env.payload)
        signatures = tuple([(s.keyid, s.sig) for s in env.signatures])
        out.append(
            (
                seq,
                digest,
                leaf.prev,
                leaf.received_at,
                leaf.time,
                statement,
                signatures,
                signed,
            )
        )
    return out
