"""Verification steps 1 and 2, and the store-level checks: reading leaves (SPEC §5, §6).

:func:`read_leaves` decodes every ``(seq, leaf bytes)`` pair with the one leaf
codec (:func:`ledger.leaf.decode_leaf`) and parses its statement; a leaf that
does not hold becomes an INTEGRITY finding whose ``code`` is the codec's reason
(``integrity.leaf_json``, ``integrity.leaf_shape``, ``integrity.leaf_seq``,
``integrity.leaf_prev``, ``integrity.invalid_envelope.*``,
``integrity.invalid_statement.*``). :func:`check_chain` checks the hash chain
(:func:`ledger.leaf.links`) wherever consecutive seqs are present and that the
ledger time (parsed ``received_at``, :func:`ledger.leaf.parse_received_at`)
never goes back. :func:`check_store` compares what storage says about the
leaves (stored leaf hash, Merkle leaf node, indexed columns) with the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ledger import merkle
from ledger.leaf import links, prev_of
from ledger.leafwork import Record, read_chunk
from ledger.sigcheck import Preverified
from provenance.graph import Collected, ParsedEntry
from provenance.rules.base import Finding

__all__ = [
    "Leaves",
    "check_chain",
    "check_store",
    "integrity",
    "read_leaves",
    "take_records",
    "unique_entries",
]


@dataclass
class Leaves:
    """What step 1 read: parsed entries, every leaf's hash, and what did not hold."""

    parsed: dict[int, ParsedEntry] = field(default_factory=dict)
    hashes: dict[int, bytes] = field(default_factory=dict)
    prevs: dict[int, str] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    unreadable: int = 0
    """How many leaves did not parse."""


def integrity(message: str, statements: Iterable[str] = (), **details: Any) -> Finding:
    """An INTEGRITY finding."""
    return Finding("INTEGRITY", "error", message, list(statements), details)


def unique_entries(
    entries: Iterable[tuple[int, bytes]],
) -> tuple[list[tuple[int, bytes]], dict[int, list[bytes]]]:
    """The pairs by seq, the first of each seq, and the leaves given again for a seq."""
    unique: list[tuple[int, bytes]] = []
    again: dict[int, list[bytes]] = {}
    last = None
    for seq, leaf in sorted(entries, key=lambda pair: pair[0]):
        if seq == last:
            again.setdefault(seq, []).append(bytes(leaf))
            continue
        last = seq
        unique.append((seq, bytes(leaf)))
    return unique, again


def take_records(
    out: Leaves,
    records: Iterable[Record],
    again: dict[int, list[bytes]],
    signatures: Preverified | None = None,
) -> None:
    """Add what :func:`ledger.leafwork.read_chunk` read of some leaves, in seq order.

    A leaf that did not read is an INTEGRITY finding; a seq given again with other
    bytes too. With ``signatures``, every entry read is handed over so that its
    checks start (step 4's batch).
    """
    for record in records:
        seq, digest = record[0], record[1]
        out.hashes[seq] = digest
        if len(record) == 6:
            prev, reason, why, stated = record[2:6]
            out.unreadable += 1
            if prev is not None:
                out.prevs[seq] = prev
            out.problems.append(
                integrity(f"seq {seq}: {why}", [stated] if stated else [], seq=seq, code=reason)
            )
        else:
            _, _, prev, received_at, time, statement, pairs, signed = record
            out.prevs[seq] = prev
            out.times[seq] = received_at
            parsed = ParsedEntry(seq, time, statement, pairs, signed, digest, prev)
            out.parsed[seq] = parsed
            if signatures is not None:
                signatures.add(parsed)
        for data in again.get(seq, ()):
            if merkle.leaf_hash(data) != digest:
                out.problems.append(
                    integrity(f"seq {seq} is given twice with different leaves", seq=seq)
                )


READ_CHUNK = 1024
"""Leaves read at a time on this core (their signature checks start after each)."""


def read_leaves(
    entries: Sequence[tuple[int, bytes]], signatures: Preverified | None = None
) -> Leaves:
    """Step 1: parse every leaf, its envelope and statement, in seq order.

    With ``signatures``, each parsed entry is handed over so that its signature
    checks start while the rest is read (step 4's batch,
    :func:`provenance.verify.start_signatures`).
    """
    out = Leaves()
    unique, again = unique_entries(entries)
    for i in range(0, len(unique), READ_CHUNK):
        take_records(out, read_chunk(unique[i : i + READ_CHUNK]), again, signatures)
    return out


def check_chain(leaves: Leaves) -> list[Finding]:
    """Step 2: hash-chain links where consecutive seqs are present; time never goes back."""
    problems: list[Finding] = []
    seqs = sorted(leaves.hashes)
    for a, b in pairwise(seqs):
        if b != a + 1 or b not in leaves.prevs:
            continue
        if not links(leaves.prevs[b], leaves.hashes[a]):
            problems.append(
                integrity(
                    f"seq {b}: prev does not link to the leaf hash of seq {a}",
                    _digests(leaves, a, b),
                    seq=b,
                    code="integrity.chain",
                    expected=prev_of(leaves.hashes[a]),
                    actual=leaves.prevs[b],
                )
            )
    timed = sorted(leaves.times)
    for a, b in pairwise(timed):
        ta, tb = leaves.parsed.get(a), leaves.parsed.get(b)
        if ta is not None and tb is not None and tb.received_at < ta.received_at:
            problems.append(
                integrity(
                    f"seq {b}: received_at {leaves.times[b]} is before that of seq {a} "
                    f"({leaves.times[a]})",
                    _digests(leaves, a, b),
                    seq=b,
                    code="integrity.time",
                )
            )
    if 0 not in leaves.hashes:
        problems.append(
            integrity(
                "seq 0 (the operator's registration) is missing from the evidence",
                code="integrity.no_seq0",
            )
        )
    return problems


def _digests(leaves: Leaves, *seqs: int) -> list[str]:
    return [leaves.parsed[s].digest for s in seqs if s in leaves.parsed]


def check_store(collected: Collected, leaves: Leaves) -> list[Finding]:
    """Store-level INTEGRITY: stored hashes, leaf nodes and columns against the leaf bytes."""
    problems: list[Finding] = []
    nodes = collected.leaf_nodes
    for e in collected.entries:
        computed = leaves.hashes.get(e.seq)
        if computed is None:
            continue
        parsed = leaves.parsed.get(e.seq)
        if parsed is not None:
            st = parsed.statement
            columns_match = (e.digest, e.issuer, e.stmt_id, e.type) == (
                st.digest,
                st.issuer,
                st.id,
                st.type,
            )
        else:
            columns_match = True
        if e.leaf_hash == computed and nodes.get(e.seq) == computed and columns_match:
            continue  # the common case: nothing to report
        digests = [parsed.digest] if parsed is not None else []
        if e.leaf_hash != computed:
            problems.append(
                integrity(
                    f"seq {e.seq}: the stored leaf hash does not match the leaf bytes",
                    digests,
                    seq=e.seq,
                    code="integrity.leaf_hash",
                    expected=computed.hex(),
                    actual=e.leaf_hash.hex(),
                )
            )
        node = nodes.get(e.seq)
        if node != computed:
            problems.append(
                integrity(
                    f"seq {e.seq}: the Merkle leaf node (0, {e.seq}) "
                    + ("is missing" if node is None else "does not match the leaf bytes"),
                    digests,
                    seq=e.seq,
                    code="integrity.leaf_node",
                    expected=computed.hex(),
                    actual=None if node is None else node.hex(),
                )
            )
        if not columns_match:
            problems.append(
                integrity(
                    f"seq {e.seq}: the indexed columns (digest, issuer, id, type) do not "
                    "match the payload",
                    digests,
                    seq=e.seq,
                    code="integrity.columns",
                )
            )
    for seq in collected.missing_seqs:
        problems.append(
            integrity(
                f"the lot index names seq {seq} but the ledger has no such entry",
                seq=seq,
                code="integrity.missing_entry",
            )
        )
    return problems
