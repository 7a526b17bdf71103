"""C2SP tlog-cosignature ``cosignature/v1`` (Ed25519) — pure, no I/O.

A cosignature (c2sp.org/tlog-cosignature) is a signed-note signature line
``— <cosigner name> base64(key ID ‖ timestamp ‖ signature)`` appended to a
checkpoint (:mod:`ledger.checkpoint`):

* key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4];
* timestamp = the POSIX time of signing, a big-endian u64 below 2^63;
* signature = Ed25519 over ``"cosignature/v1\\ntime <timestamp>\\n"`` followed by
  the whole checkpoint body (every line, extension lines included, with its
  final newline; no signature lines).

Cosigner verifier keys read ``<name>+<8 hex key ID>+base64(0x04 ‖ public key)``;
a plain Ed25519 note key (type 0x01) of the same key is accepted too and means
the same cosigner. Signing and verification go through :mod:`ledger.keys`
(libsodium), like every other Ed25519 operation of custody.

:func:`count_cosigners` is the quorum count an auditor applies: one vote per
distinct cosigner public key whose cosignature verifies; lines by unknown keys
are ignored and lines that claim a known key but do not verify are reported.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.errors import NoteError
from ledger.keys import PrivateKey, Verifier
from ledger.note import (
    SIG_TYPE_ED25519,
    NoteSignature,
    b64,
    is_valid_name,
    split_note,
    strict_b64decode,
)

__all__ = [
    "COSIG_TYPE_ED25519",
    "Cosignature",
    "CosignatureCount",
    "Cosigner",
    "CosignerVerifier",
    "cosignature_message",
    "cosigner_key_hash",
    "cosigner_verifier_key",
    "count_cosigners",
    "parse_cosignature",
    "parse_cosigner_key",
]

COSIG_TYPE_ED25519 = 0x04
_HEADER = "cosignature/v1\n"
_MAX_TIMESTAMP = (1 << 63) - 1
_SIG_BYTES = 8 + 64


def _error(message: str, code: str = "invalid_note.cosignature", **details: object) -> NoteError:
    return NoteError(message, code=code, details=details)


def cosigner_key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte cosignature/v1 key ID: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]."""
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError as e:
        raise _error("cosigner name is not valid UTF-8", "invalid_note.encoding") from e
    return hashlib.sha256(raw + b"\n" + bytes([COSIG_TYPE_ED25519]) + public_key).digest()[:4]


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: header line, time line, then the checkpoint body."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise _error(f"cosignature timestamp {timestamp} is out of range", timestamp=timestamp)
    if not body.endswith("\n"):
        raise _error("the cosigned body does not end with a newline")
    return f"{_HEADER}time {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class CosignerVerifier:
    """A cosigner's name and Ed25519 public key, with the derived cosignature/v1 key ID."""

    name: str
    public_key: bytes
    key_hash: bytes = field(init=False)
    verifier: Verifier = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise _error(f"invalid cosigner name {self.name!r}", "invalid_note.name")
        if len(self.public_key) != 32:
            raise _error("cosigner public key is not 32 bytes", "invalid_note.key")
        object.__setattr__(self, "key_hash", cosigner_key_hash(self.name, self.public_key))
        object.__setattr__(self, "verifier", Verifier(self.public_key))

    @property
    def vkey(self) -> str:
        """The verifier key string ``<name>+<8 hex>+base64(0x04 ‖ public key)``."""
        return cosigner_verifier_key(self.name, self.public_key)

    def matches(self, sig: NoteSignature) -> bool:
        """True when the signature line names this cosigner and its key ID."""
        return sig.name == self.name and sig.key_hash == self.key_hash

    def verify(self, body: str, sig: NoteSignature) -> int | None:
        """The timestamp of a valid cosignature line by this cosigner over ``body``, or None."""
        if not self.matches(sig) or len(sig.signature) != _SIG_BYTES:
            return None
        timestamp = struct.unpack(">Q", sig.signature[:8])[0]
        if timestamp > _MAX_TIMESTAMP:
            return None
        message = cosignature_message(body, timestamp)
        return timestamp if self.verifier.is_valid(sig.signature[8:], message) else None


def cosigner_verifier_key(name: str, public_key: bytes) -> str:
    """A cosigner's verifier key: ``<name>+<8 hex key ID>+base64(0x04 ‖ public key)``."""
    key_id = cosigner_key_hash(name, public_key)
    return f"{name}+{key_id.hex()}+{b64(bytes([COSIG_TYPE_ED25519]) + public_key)}"


def parse_cosigner_key(s: str) -> CosignerVerifier:
    """Parse a cosigner verifier key (type 0x04; a type 0x01 Ed25519 note key of the
    same key pair is accepted and converted). The key ID must match name and key."""
    s = s.strip()
    parts = s.split("+", 2)
    if len(parts) != 3:
        raise _error(
            "malformed witness key: expected <name>+<key id>+<key>", "invalid_note.key", key=s[:80]
        )
    name, key_id, key64 = parts
    raw = strict_b64decode(key64)
    if not is_valid_name(name) or len(key_id) != 8 or raw is None or len(raw) != 33:
        raise _error(
            "malformed witness key: expected <name>+<8 hex>+base64(type ‖ 32-byte key)",
            "invalid_note.key",
            key=name,
        )
    try:
        claimed = bytes.fromhex(key_id)
    except ValueError as e:
        raise _error("malformed witness key: key id is not hex", "invalid_note.key") from e
    kind, public_key = raw[0], raw[1:]
    if kind == COSIG_TYPE_ED25519:
        expected = cosigner_key_hash(name, public_key)
    elif kind == SIG_TYPE_ED25519:
        expected = hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
    else:
        raise _error(
            f"unsupported witness key type 0x{kind:02x} (cosignature/v1 Ed25519 is 0x04)",
            "invalid_note.key",
            key=name,
        )
    if claimed != expected:
        raise _error("witness key id does not match its name and key", "invalid_note.key", key=name)
    return CosignerVerifier(name, public_key)


@dataclass(frozen=True)
class Cosigner:
    """A cosigner's Ed25519 key: signs cosignature/v1 lines over checkpoint bodies."""

    name: str
    key: PrivateKey = field(repr=False)

    @property
    def verifier(self) -> CosignerVerifier:
        return CosignerVerifier(self.name, self.key.public_key)

    def cosign(self, body: str, timestamp: int) -> NoteSignature:
        """The cosignature of ``body`` at ``timestamp`` (checked before it is returned)."""
        message = cosignature_message(body, timestamp)
        signature = struct.pack(">Q", timestamp) + self.key.sign(message)
        sig = NoteSignature(self.name, self.verifier.key_hash, signature)
        if self.verifier.verify(body, sig) != timestamp:
            raise _error("the witness key does not produce valid cosignatures")
        return sig


@dataclass(frozen=True)
class Cosignature:
    """A parsed cosignature/v1 line: who, key ID, time, and the Ed25519 signature."""

    name: str
    key_hash: bytes
    timestamp: int
    signature: bytes


def parse_cosignature(sig: NoteSignature) -> Cosignature:
    """Split a cosignature/v1 signature line into timestamp and signature (no verification)."""
    if len(sig.signature) != _SIG_BYTES:
        raise _error(
            f"cosignature by {sig.name!r} is {len(sig.signature)} bytes after the key id, "
            f"not {_SIG_BYTES} (timestamp and Ed25519 signature)",
            name=sig.name,
        )
    timestamp = struct.unpack(">Q", sig.signature[:8])[0]
    if timestamp > _MAX_TIMESTAMP:
        raise _error(f"cosignature by {sig.name!r} has a timestamp over 2^63-1", name=sig.name)
    return Cosignature(sig.name, sig.key_hash, timestamp, sig.signature[8:])


@dataclass(frozen=True)
class CosignatureCount:
    """How many distinct trusted cosigners validly cosigned a note, and who."""

    valid: tuple[tuple[str, int], ...]
    """(verifier key, timestamp) of each counted cosigner, in the order of the trusted keys."""
    invalid: tuple[str, ...]
    """Verifier keys of trusted cosigners whose line in the note does not verify."""
    missing: tuple[str, ...]
    """Verifier keys of trusted cosigners with no line in the note."""

    @property
    def count(self) -> int:
        return len(self.valid)


def count_cosigners(note: str, trusted: Sequence[CosignerVerifier]) -> CosignatureCount:
    """Count the distinct ``trusted`` cosigners with a valid cosignature in ``note``.

    Steps: 1. split the note (:func:`ledger.note.split_note`); 2. trusted keys are
    deduplicated by public key (one key is one vote, whatever names it is given);
    3. a trusted cosigner counts once if any of its lines verifies over the note's
    body; a line with its name and key ID that does not verify is reported as
    invalid; lines by other keys are ignored.
    """
    body, signatures = split_note(note)
    seen: set[bytes] = set()
    valid: list[tuple[str, int]] = []
    invalid: list[str] = []
    missing: list[str] = []
    for cosigner in trusted:
        if cosigner.public_key in seen:
            continue
        seen.add(cosigner.public_key)
        mine = [s for s in signatures if cosigner.matches(s)]
        times = [t for t in (cosigner.verify(body, s) for s in mine) if t is not None]
        if times:
            valid.append((cosigner.vkey, max(times)))
        elif mine:
            invalid.append(cosigner.vkey)
        else:
            missing.append(cosigner.vkey)
    return CosignatureCount(tuple(valid), tuple(invalid), tuple(missing))
