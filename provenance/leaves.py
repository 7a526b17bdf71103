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
from ledger.envelope import pae
from ledger.leaf import LeafError, decode_leaf, links, prev_of
from ledger.sigcheck import Preverified
from provenance.graph import Collected, ParsedEntry
from provenance.rules.base import Finding

__all__ = ["Leaves", "check_chain", "check_store", "integrity", "read_leaves"]


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


def _read_leaf(seq: int, data: bytes, out: Leaves) -> ParsedEntry:
    try:
        leaf = decode_leaf(data, seq)
    except LeafError as e:
        if e.prev is not None:
            out.prevs[seq] = e.prev
        raise
    out.prevs[seq] = leaf.prev
    out.times[seq] = leaf.received_at
    statement = leaf.parse_statement()
    env = leaf.envelope
    return ParsedEntry(
        seq,
        leaf.time,
        statement,
        tuple([(s.keyid, s.sig) for s in env.signatures]),
        pae(env.payload_type, env.payload),  # once: not through the cached property
        out.hashes[seq],
        leaf.prev,
    )


def read_leaves(
    entries: Sequence[tuple[int, bytes]], signatures: Preverified | None = None
) -> Leaves:
    """Step 1: parse every leaf, its envelope and statement, in seq order.

    With ``signatures``, each parsed entry is handed over so that its signature
    checks start while the rest is read (step 4's batch,
    :func:`provenance.verify.start_signatures`).
    """
    out = Leaves()
    for seq, leaf in sorted(entries, key=lambda pair: pair[0]):
        data = bytes(leaf)
        if seq in out.hashes:
            if out.hashes[seq] != merkle.leaf_hash(data):
                out.problems.append(
                    integrity(f"seq {seq} is given twice with different leaves", seq=seq)
                )
            continue
        out.hashes[seq] = merkle.leaf_hash(data)
        try:
            parsed = out.parsed[seq] = _read_leaf(seq, data, out)
        except LeafError as e:
            out.unreadable += 1
            out.problems.append(
                integrity(
                    f"seq {seq}: {e.why}",
                    [e.digest] if e.digest else [],
                    seq=seq,
                    code=e.reason,
                )
            )
            continue
        if signatures is not None:
            signatures.add(parsed)
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
    for e in collected.entries:
        computed = leaves.hashes.get(e.seq)
        if computed is None:
            continue
        parsed = leaves.parsed.get(e.seq)
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
        node = collected.leaf_nodes.get(e.seq)
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
        if parsed is not None:
            st = parsed.statement
            if (e.digest, e.issuer, e.stmt_id, e.type) != (st.digest, st.issuer, st.id, st.type):
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
