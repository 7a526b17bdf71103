"""Operator key rotation: the chain of checkpoint keys (docs/decisions/0006).

A rotation is an ordinary ``key`` statement in the log, issued by the operator for
itself (``party`` = ``issuer``), adding the new key, and carrying two signatures:
one by the checkpoint key in force (the old key: the operator authorises the
successor) and one by the key it adds (the new key proves possession). Every
checkpoint of a tree that contains the rotation (size > its seq) is signed by the
new key; a checkpoint of such a size signed by the old key is refused.

The chain starts at the key that signed entry 0 (the operator's own registration)
or, for an auditor, at the key they pinned. :class:`KeyChain` records it;
:func:`observe` recognises a rotation in the log (where the custody state machine
has already verified every signature), :func:`verify_rotation_leaf` recognises and
verifies one offline (bundles, tiles clients) from the leaf bytes alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint, verifier_key
from ledger.errors import NoteError
from ledger.keys import is_valid_signature, kid_of
from ledger.leaf import decode_leaf
from ledger.note import parse_verifier_key, split_note
from ledger.statements import Key, Party, Statement

if TYPE_CHECKING:  # offline verification (bundles) loads no storage stack
    from ledger.store import ReadTx

__all__ = [
    "KeyChain",
    "Rotation",
    "chain_in_log",
    "initial_key",
    "is_rotation",
    "open_checkpoint_chained",
    "verify_rotation_leaf",
]


@dataclass(frozen=True)
class Rotation:
    """The checkpoint key ``old`` gave way to ``new`` at entry ``seq``."""

    seq: int
    old: bytes
    new: bytes


@dataclass
class KeyChain:
    """The checkpoint keys from ``initial``, with the rotations in seq order."""

    initial: bytes
    rotations: list[Rotation] = field(default_factory=list)

    @property
    def current(self) -> bytes:
        return self.rotations[-1].new if self.rotations else self.initial

    def key_for_size(self, size: int) -> bytes:
        """The key that signs the checkpoint of ``size`` entries: that of the last
        rotation the tree contains (seq < size)."""
        key = self.initial
        for rot in self.rotations:
            if rot.seq < size:
                key = rot.new
        return key

    def add(self, rotation: Rotation) -> None:
        if rotation.old != self.current:
            raise ValueError("a rotation must start from the current key")
        if self.rotations and rotation.seq <= self.rotations[-1].seq:
            raise ValueError("rotations must come in seq order")
        self.rotations.append(rotation)

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"seq": r.seq, "old_kid": kid_of(r.old), "new_kid": kid_of(r.new)}
            for r in self.rotations
        ]


def is_rotation(stmt: Statement, kids: Iterable[str], current: bytes) -> bytes | None:
    """The new checkpoint key if ``stmt``, whose signatures name ``kids`` (already
    verified), rotates the key ``current``; else None."""
    if not isinstance(stmt, Key) or stmt.party != stmt.issuer:
        return None
    new = stmt.public_key_bytes
    names = set(kids)
    if new == current or kid_of(current) not in names or kid_of(new) not in names:
        return None
    return new


def verify_rotation_leaf(leaf: bytes, current: bytes) -> bytes | None:
    """Offline: the new key if the leaf is a rotation of ``current`` whose two
    signatures verify over the envelope; None if it is not a rotation of ``current``."""
    entry = decode_leaf(leaf).entry
    new = is_rotation(entry.statement, (kid for kid, _ in entry.signatures), current)
    if new is None:
        return None
    want = {kid_of(current): current, kid_of(new): new}
    good = {
        kid
        for kid, sig in entry.signatures
        if kid in want and is_valid_signature(want[kid], sig, entry.pae)
    }
    return new if good == set(want) else None


def open_checkpoint_chained(note: str | bytes, origin: str, chain: KeyChain) -> Checkpoint:
    """Verify a signed checkpoint by the key the chain puts in force at its size.

    A checkpoint signed by a key the chain retired before that size is refused with
    ``invalid_note.retired_key``."""
    text, _ = split_note(note)
    size = parse_checkpoint(text).size
    key = chain.key_for_size(size)
    try:
        return open_checkpoint(note, parse_verifier_key(verifier_key(origin, key)))
    except NoteError:
        for rot in chain.rotations:
            if rot.seq >= size:
                break
            try:
                open_checkpoint(note, parse_verifier_key(verifier_key(origin, rot.old)))
            except NoteError:
                continue
            raise NoteError(
                f"the checkpoint of size {size} is signed by the operator key "
                f"{kid_of(rot.old)[:16]}…, retired by the rotation at seq {rot.seq}; "
                f"checkpoints of that size must be signed by {kid_of(key)[:16]}…",
                code="invalid_note.retired_key",
                details={"size": size, "rotation_seq": rot.seq, "kid": kid_of(key)},
            ) from None
        raise


def initial_key(leaf0: bytes) -> bytes | None:
    """The key that signed entry 0, the operator's own registration: the chain's start."""
    entry = decode_leaf(leaf0).entry
    stmt = entry.statement
    if not isinstance(stmt, Party) or not entry.signatures:
        return None
    own = {kid_of(k): k for k in stmt.public_keys}
    return own.get(entry.signatures[0][0])


def chain_in_log(r: ReadTx, size: int) -> tuple[KeyChain, list[tuple[int, bytes]]]:
    """The checkpoint keys of the tree of ``size`` entries, from entry 0's key, and the
    rotation leaves ``(seq, leaf)`` (seq < size) in order, read in the caller's read
    transaction (bundle export)."""
    from ledger.store import StatementFilter

    start = initial_key(r.entry(0).leaf) if size else None
    if start is None:
        raise NoteError("entry 0 is not the operator's own registration", code="invalid_note")
    chain = KeyChain(start)
    found: list[tuple[int, bytes]] = []
    operator = r.meta("operator")
    after = 0
    while operator is not None:
        page = r.statement_page(StatementFilter(type="key", issuer=operator), after, 500)
        for row in page:
            if row.seq >= size:
                return chain, found
            new = verify_rotation_leaf(row.leaf, chain.current)
            if new is not None:
                chain.add(Rotation(row.seq, chain.current, new))
                found.append((row.seq, row.leaf))
        if len(page) < 500:
            break
        after = page[-1].seq
    return chain, found
