"""Ledger leaves read in bulk: on this core, or in chunks on worker processes.

Verification reads every leaf of a trace (:func:`provenance.leaves.read_leaves`):
decode it (:func:`ledger.leaf.decode_leaf`), parse its statement, hash it and
build its signed bytes (PAE). None of that depends on the order of the leaves,
so a large trace is read in chunks, partly on :func:`ledger.sigpool.shared_pool`'s
workers (:func:`read_chunk_packed`, which also checks the chunk's signatures)
and partly here (:func:`read_chunk`), and the verifying process keeps its core
for what does depend on the order (the custody replay and the rules).

A chunk's result is one record a leaf, in the chunk's order:

* :data:`Read` ``(seq, leaf_hash, prev, received_at, time, statement,
  signatures, pae, verdicts)``: the leaf decoded and its statement parsed;
  ``verdicts`` holds, for each ``(keyid, sig)`` pair, whether the signature
  verifies under that key, or ``None`` where the key was not given (``()``
  when no keys were given: nothing was checked);
* :data:`Unread` ``(seq, leaf_hash, prev, reason, why, digest)``: the
  :class:`ledger.errors.LeafError` the leaf raised (its ``reason``, ``why``,
  ``digest``, and the ``prev`` it still gave, if any).

:func:`registered_keys` finds, ahead, the public keys the leaves register
(``party`` and ``key`` statements) so that workers can check signatures by keys
registered in other chunks. Worker results travel packed by
:mod:`ledger.packing`.
"""

from __future__ import annotations

import re
from binascii import Error as BinasciiError
from binascii import a2b_base64
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final

from ledger.envelope import pae
from ledger.errors import LeafError
from ledger.keys import is_valid_signature, kid_of
from ledger.leaf import decode_leaf
from ledger.merkle import leaf_hash
from ledger.packing import dumps, loads
from ledger.statements import Key, Party, Statement

__all__ = [
    "Read",
    "Record",
    "Unread",
    "read_chunk",
    "read_chunk_packed",
    "registered_keys",
    "unpack_chunk",
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
    tuple[bool | None, ...],
]
"""``(seq, leaf_hash, prev, received_at, time, statement, signatures, pae, verdicts)``."""

Unread = tuple[int, bytes, str | None, str, str, str | None]
"""``(seq, leaf_hash, prev, reason, why, digest)`` of a leaf that raised ``LeafError``."""

Record = Read | Unread


def read_chunk(
    chunk: Sequence[tuple[int, bytes]], keys: Mapping[str, bytes] | None = None
) -> list[Record]:
    """One :data:`Record` a ``(seq, leaf bytes)`` pair, in order (see the module docstring).

    With ``keys`` (public keys by keyid), every signature by one of them is checked.
    """
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
        verdicts: tuple[bool | None, ...] = ()
        if keys is not None:
            verdicts = tuple([_check(keys.get(kid), sig, signed) for kid, sig in signatures])
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
                verdicts,
            )
        )
    return out


def _check(public_key: bytes | None, signature: bytes, message: bytes) -> bool | None:
    return None if public_key is None else is_valid_signature(public_key, signature, message)


def read_chunk_packed(chunk: list[tuple[int, bytes]], keys: dict[str, bytes]) -> bytes:
    """:func:`read_chunk` with signature checks, packed (what a worker runs)."""
    return dumps(read_chunk(chunk, keys))


def unpack_chunk(data: bytes) -> list[Record]:
    """The records :func:`read_chunk_packed` packed (our own workers' output only)."""
    records: list[Record] = loads(data)
    return records


_HEAD: Final = b'{"envelope":{"payload":"'
_REGISTERS: Final = re.compile(rb'"type"\s*:\s*"(?:party|key)"')


def registered_keys(entries: Iterable[tuple[int, bytes]]) -> dict[str, bytes]:
    """The public keys, by keyid, that the ``party`` and ``key`` statements among the
    leaves register (first registration of a keyid kept).

    A quick look: only leaves whose payload may hold such a statement are decoded
    and parsed; a leaf that does not read is skipped (reading it again reports it).
    A key missed here is only a signature checked later, never another verdict.
    """
    keys: dict[str, bytes] = {}
    for seq, data in entries:
        if data.startswith(_HEAD):
            end = data.find(b'"', len(_HEAD))
            try:
                payload = a2b_base64(data[len(_HEAD) : end])
            except BinasciiError:
                continue
            if _REGISTERS.search(payload) is None:
                continue
        try:
            statement = decode_leaf(data, seq).parse_statement()
        except LeafError:
            continue
        if isinstance(statement, Party):
            for pk in statement.public_keys:
                keys.setdefault(kid_of(pk), pk)
        elif isinstance(statement, Key):
            keys.setdefault(kid_of(statement.public_key_bytes), statement.public_key_bytes)
    return keys
