"""The ledger leaf (SPEC §5): encode, strict decode, chain link, ledger time — pure, no I/O.

A leaf is the compact, sorted-key, ASCII JSON object::

    {"envelope": <DSSE envelope>, "prev": "<64 hex>", "received_at": "<time>", "seq": <n>}

``prev`` is the lowercase hex RFC 6962 leaf hash of the leaf at ``seq - 1``
(:data:`ZERO_HASH` at seq 0); ``received_at`` is the ledger time of the append.
Its bytes are produced here only (:func:`leaf_bytes`, and :data:`LEAF_TEMPLATE`
with :func:`envelope_json` on the append path), stored verbatim and hashed;
nothing rebuilds them from database columns.

Every reader of stored or bundled leaves (append, audit, verification, bundles,
the API and the CLI) decodes them with :func:`decode_leaf`: strict JSON
(:mod:`ledger.strictjson`: UTF-8, no duplicate keys, bounded depth, so a
100,000-deep leaf is an INTEGRITY error and never a ``RecursionError``), exactly
the four keys, an integer ``seq`` (the expected one when given), a 64-hex
``prev``, an RFC 3339 ``received_at`` and a well-formed envelope. Anything else
raises :class:`ledger.errors.LeafError`, an ``IntegrityError`` whose
``code`` is ``integrity.leaf`` and whose ``reason`` is the finer code that
verification reports (``integrity.leaf_json``, ``integrity.leaf_shape``,
``integrity.leaf_seq``, ``integrity.leaf_prev``, ``integrity.invalid_statement.*``
for ``received_at``, ``integrity.invalid_envelope.*``, and for the statement
the envelope carries, :meth:`Leaf.parse_statement`, ``integrity.invalid_statement.*``).

Ledger time. ``received_at`` is written by :func:`format_received_at`: RFC 3339
UTC with ``Z`` and always six fractional digits (``2026-03-01T10:00:00.000000Z``),
unlike statement times (:func:`ledger.statements.format_time`, fraction only when
non-zero). It is read by :func:`parse_received_at` (the strict RFC 3339 reader of
statement times). Whoever compares ledger times (the append path keeping time
monotonic, ``ledger audit``, verification) compares the parsed datetimes, never
the strings: the leaf's text is checked for form when decoded, and two spellings
of one instant are the same time.
"""

from __future__ import annotations

import json
import re
from binascii import Error as BinasciiError
from binascii import a2b_base64, b2a_base64
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any, Final

from ledger import strictjson
from ledger.custody import EntryRef
from ledger.envelope import (
    PAYLOAD_TYPE,
    Envelope,
    EnvelopeSignature,
    envelope_from_obj,
    envelope_json,
)
from ledger.errors import CustodyError, LeafError
from ledger.statements import Statement, parse_statement, parse_time, statement_digest

__all__ = [
    "LEAF_KEYS",
    "LEAF_TEMPLATE",
    "ZERO_HASH",
    "Leaf",
    "LeafError",
    "decode_leaf",
    "envelope_json",
    "format_received_at",
    "leaf_bytes",
    "links",
    "parse_received_at",
    "prev_of",
]

ZERO_HASH: Final = "0" * 64
"""``prev`` of the leaf at seq 0."""

LEAF_KEYS: Final = frozenset({"seq", "prev", "received_at", "envelope"})

_HEX64: Final = re.compile(r"[0-9a-f]{64}")


# --------------------------------------------------------------------------- time


def format_received_at(moment: datetime) -> str:
    """A ledger time as a leaf writes it: RFC 3339 UTC, ``Z``, six fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=4096)
def parse_received_at(text: str) -> datetime:
    """A leaf's ``received_at`` as an aware datetime (strict RFC 3339 UTC with ``Z``).

    Raises :class:`ledger.errors.StatementError` (``invalid_statement.bad_time``).
    A batch of appends shares one time, so the parse is memoised.
    """
    return parse_time(text, "received_at")


# --------------------------------------------------------------------------- encode


def leaf_bytes(seq: int, prev: str, received_at: str, envelope: dict[str, Any]) -> bytes:
    """Compact, sorted-key, ASCII JSON of the leaf object (SPEC §5)."""
    obj = {"seq": seq, "prev": prev, "received_at": received_at, "envelope": envelope}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


LEAF_TEMPLATE: Final = b'{"envelope":%s,"prev":"%s","received_at":"%s","seq":%d}'
""":func:`leaf_bytes` with the envelope already encoded (its keys sort first):
``LEAF_TEMPLATE % (envelope_json(env), prev_hex, received_at, seq)``, all bytes."""


# --------------------------------------------------------------------------- chain link


def prev_of(previous_leaf_hash: bytes | None) -> str:
    """The ``prev`` a leaf must carry after a leaf of this hash (None: it is seq 0)."""
    return ZERO_HASH if previous_leaf_hash is None else previous_leaf_hash.hex()


def links(prev: str, previous_leaf_hash: bytes | None) -> bool:
    """Whether ``prev`` links to the previous leaf (None: the leaf is seq 0)."""
    return prev == prev_of(previous_leaf_hash)


# --------------------------------------------------------------------------- decode


@dataclass(frozen=True)
class Leaf:
    """A leaf decoded: its chain fields (as written) and the envelope it carries."""

    seq: int
    prev: str
    received_at: str
    envelope: Envelope
    time: datetime
    """``received_at`` parsed (:func:`parse_received_at`)."""

    def to_bytes(self) -> bytes:
        """The canonical bytes of this leaf (equal to the stored ones for a genuine leaf)."""
        return leaf_bytes(self.seq, self.prev, self.received_at, self.envelope.to_json_obj())

    def parse_statement(self) -> Statement:
        """The statement the envelope carries; :class:`LeafError` if it does not parse."""
        try:
            return parse_statement(self.envelope.payload)
        except CustodyError as e:
            digest = statement_digest(self.envelope.payload)
            raise LeafError(
                f"statement: {e.message}", f"integrity.{e.code}", digest, self.prev
            ) from e

    @cached_property
    def statement(self) -> Statement:
        return self.parse_statement()

    @property
    def signatures(self) -> tuple[tuple[str, bytes], ...]:
        """``(keyid, sig)`` pairs, as the custody state machine takes them."""
        return tuple((s.keyid, s.sig) for s in self.envelope.signatures)

    @property
    def entry(self) -> EntryRef:
        """The statement as the custody state machine judges it at this seq."""
        return EntryRef(self.seq, self.time, self.statement, self.signatures, self.envelope.pae)


_HEAD: Final = b'{"envelope":{"payload":"'
_B64: Final = rb"[A-Za-z0-9+/]*={0,2}"
_SIG: Final = rb'\{"keyid":"([0-9a-f]{64})","sig":"(' + _B64 + rb')"\}'
_TAIL: Final = re.compile(
    rb'","payloadType":"application/vnd\.custody\.statement\+json","signatures":\['
    + _SIG
    + rb"((?:,"
    + _SIG.replace(b"(", b"(?:")
    + rb')*)\]\},"prev":"([0-9a-f]{64})","received_at":"([0-9A-Za-z:.+-]{1,64})",'
    rb'"seq":(0|[1-9][0-9]{0,17})\}'
)
"""What follows the payload in a canonical leaf (no string escapes anywhere)."""
_SIGS: Final = re.compile(rb"," + _SIG)
assert PAYLOAD_TYPE == "application/vnd.custody.statement+json"


def _canonical_b64(text: bytes) -> bytes | None:
    """``text`` decoded if it is canonical standard base64 (so only its alphabet), else None."""
    try:
        raw = a2b_base64(text, strict_mode=True)
    except BinasciiError:
        return None
    return raw if b2a_base64(raw, newline=False) == text else None


def _decode_canonical(data: bytes, seq: int | None) -> Leaf | None:
    """The leaf, when ``data`` has exactly the form :func:`leaf_bytes` writes; else None.

    A fast path of :func:`decode_leaf` with the same result: it admits only strict
    JSON with the four keys once each, no string escapes (the payload is canonical
    base64, the rest matches :data:`_TAIL`), an integer seq and the canonical
    envelope, so the values are the text itself. Anything it does not accept as is
    (another form, an error to report) is left to the full decoder.
    """
    if not data.startswith(_HEAD):
        return None
    end = data.find(b'"', len(_HEAD))
    m = _TAIL.fullmatch(data, end) if end > 0 else None
    if m is None:
        return None
    kid, sig_b64, more, prev, text, said = m.groups()
    number = int(said)
    if seq is not None and number != seq:
        return None
    payload = _canonical_b64(data[len(_HEAD) : end])
    sig = _canonical_b64(sig_b64)
    if payload is None or sig is None:
        return None
    sigs = [EnvelopeSignature(kid.decode("ascii"), sig)]
    if more:
        for kid, sig_b64 in _SIGS.findall(more):
            sig = _canonical_b64(sig_b64)
            if sig is None:
                return None
            sigs.append(EnvelopeSignature(kid.decode("ascii"), sig))
    received_at = text.decode("ascii")
    try:
        time = parse_received_at(received_at)
    except CustodyError:
        return None
    envelope = Envelope(PAYLOAD_TYPE, payload, tuple(sigs))
    return Leaf(number, prev.decode("ascii"), received_at, envelope, time)


def decode_leaf(data: bytes, seq: int | None = None) -> Leaf:
    """Decode leaf bytes strictly; ``seq``, when given, is the seq the leaf must say.

    Raises :class:`LeafError` (see the module docstring for its reasons). Leaves in
    the canonical form (all that :func:`leaf_bytes` writes) take a faster path with
    the same result (:func:`_decode_canonical`).
    """
    if type(data) is bytes:
        fast = _decode_canonical(data, seq)
        if fast is not None:
            return fast
    try:
        obj = strictjson.loads(data)
    except strictjson.JsonError as e:
        raise LeafError(f"leaf is not JSON ({e})", "integrity.leaf_json") from e
    if type(obj) is not dict or obj.keys() != LEAF_KEYS:
        raise LeafError(
            "leaf is not an object of exactly seq, prev, received_at, envelope",
            "integrity.leaf_shape",
        )
    said, prev, text = obj["seq"], obj["prev"], obj["received_at"]
    if type(said) is not int or (seq is not None and said != seq):
        raise LeafError(f"leaf says seq {said!r}", "integrity.leaf_seq")
    if type(prev) is not str or _HEX64.fullmatch(prev) is None:
        raise LeafError("leaf prev is not a 64-hex hash", "integrity.leaf_prev")
    try:
        if type(text) is not str:
            parse_time(text, "received_at")  # raises the wrong-type error
        time = parse_received_at(text)
        envelope = envelope_from_obj(obj["envelope"], stored=True)  # canonical form only
    except CustodyError as e:
        raise LeafError(e.message, f"integrity.{e.code}", prev=prev) from e
    return Leaf(said, prev, text, envelope, time)
