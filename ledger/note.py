"""C2SP signed-note, Ed25519 only — pure, no I/O.

A signed note (c2sp.org/signed-note) is a text ending in a newline, a blank
line, then signature lines ``— <key name> base64(key ID ‖ signature)``. Keys are
Ed25519 (signature type 0x01): key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4],
verifier keys read ``<name>+<8 hex key ID>+base64(0x01 ‖ public key)`` and signer
keys ``PRIVATE+KEY+<name>+<8 hex key ID>+base64(0x01 ‖ seed)``.

Signing and verification go through :mod:`ledger.keys` (libsodium), like every
other Ed25519 operation of custody; every failure raises ``NoteError``. The
checkpoint carried by a note is :mod:`ledger.checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger.errors import NoteError
from ledger.keys import PrivateKey, Verifier

SIG_TYPE_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # EM DASH, space
MAX_SIGNATURES = 100  # the spec asks to accept at least 16
MAX_NOTE_BYTES = 1 << 20
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


# --- helpers -----------------------------------------------------------------


def strict_b64decode(s: str) -> bytes | None:
    """Strict standard base64 (padding required, canonical), or None."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == s else None


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def has_control(s: str) -> bool:
    return any(ord(ch) < 0x20 and ch != "\n" for ch in s)


def _utf8(s: str, what: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteError(f"{what} is not valid UTF-8", code="invalid_note.encoding") from e


def is_valid_name(name: str) -> bool:
    """A key name: non-empty, no Unicode spaces, no ``+``, no control characters."""
    return bool(name) and not any(ch.isspace() or ch == "+" or ord(ch) < 0x20 for ch in name)


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise NoteError(
            f"invalid key name {name!r}", code="invalid_note.name", details={"name": name}
        )


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte Ed25519 key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(
        _utf8(name, "key name") + b"\n" + bytes([SIG_TYPE_ED25519]) + public_key
    ).digest()[:4]


# --- keys --------------------------------------------------------------------


def _key_error(message: str, key: str) -> NoteError:
    return NoteError(message, code="invalid_note.key", details={"key": key.partition("+")[0]})


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 note verifier: key name, 32-byte public key, derived 4-byte key ID."""

    name: str
    public_key: bytes
    key_hash: bytes = field(init=False)
    verifier: Verifier = field(init=False, repr=False, compare=False)
    """The Ed25519 verifier of :mod:`ledger.keys` (libsodium) behind this note key."""

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError(
                f"Ed25519 public key is {len(self.public_key)} bytes, not 32",
                code="invalid_note.key",
                details={"name": self.name},
            )
        object.__setattr__(self, "key_hash", key_hash(self.name, self.public_key))
        object.__setattr__(self, "verifier", Verifier(self.public_key))

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``message``."""
        return self.verifier.is_valid(signature, message)


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signer from a 32-byte seed (derives public key and key ID)."""

    name: str
    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)
    key_hash: bytes = field(init=False)
    _key: PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise NoteError("Ed25519 seed is not 32 bytes", code="invalid_note.key")
        key = PrivateKey(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "public_key", key.public_key)
        object.__setattr__(self, "key_hash", key_hash(self.name, key.public_key))

    def sign(self, message: bytes) -> bytes:
        """The deterministic Ed25519 signature of ``message``."""
        return self._key.sign(message)


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string ``<name>+<8 hex>+<base64(0x01 ‖ public key)>``."""
    v = NoteVerifier(name, public_key)
    return f"{name}+{v.key_hash.hex()}+{b64(bytes([SIG_TYPE_ED25519]) + public_key)}"


def signer_key(name: str, seed: bytes) -> str:
    """The signer key string ``PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 ‖ seed)>``."""
    s = NoteSigner(name, seed)
    return f"{_PRIVATE_PREFIX}{name}+{s.key_hash.hex()}+{b64(bytes([SIG_TYPE_ED25519]) + seed)}"


def _parse_key(s: str, what: str) -> tuple[str, bytes, bytes]:
    """Split ``<name>+<hex key ID>+<base64(0x01 ‖ key)>`` into name, key ID, key."""
    parts = s.split("+", 2)
    if len(parts) != 3:
        raise _key_error(f"malformed {what}: expected <name>+<key id>+<key>", s)
    name, key_id, key64 = parts
    if not is_valid_name(name):
        raise _key_error(f"malformed {what}: invalid key name", s)
    if not _KEY_ID_HEX.fullmatch(key_id):
        raise _key_error(f"malformed {what}: key id is not 8 hex digits", s)
    raw = strict_b64decode(key64)
    if not raw:
        raise _key_error(f"malformed {what}: key is not base64", s)
    if raw[0] != SIG_TYPE_ED25519:
        raise _key_error(f"unsupported {what} type 0x{raw[0]:02x} (only Ed25519, 0x01)", s)
    if len(raw) != 33:
        raise _key_error(f"{what} is {len(raw) - 1} bytes, not 32", s)
    return name, bytes.fromhex(key_id), raw[1:]


def parse_verifier_key(s: str) -> NoteVerifier:
    """Parse a verifier key string; the key ID must match the name and key."""
    name, key_id, public_key = _parse_key(s, "verifier key")
    v = NoteVerifier(name, public_key)
    if v.key_hash != key_id:
        raise _key_error("verifier key id does not match its name and key", s)
    return v


def parse_signer_key(s: str) -> NoteSigner:
    """Parse a ``PRIVATE+KEY+...`` signer key string; the key ID must match."""
    if not s.startswith(_PRIVATE_PREFIX):
        raise NoteError("malformed signer key: missing PRIVATE+KEY+", code="invalid_note.key")
    name, key_id, seed = _parse_key(s[len(_PRIVATE_PREFIX) :], "signer key")
    signer = NoteSigner(name, seed)
    if signer.key_hash != key_id:
        raise NoteError(
            "signer key id does not match its name and key",
            code="invalid_note.key",
            details={"key": name},
        )
    return signer


# --- notes -------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, signature bytes (after the ID)."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, newline included."""
        return f"{SIG_PREFIX}{self.name} {b64(self.key_hash + self.signature)}\n"


@dataclass(frozen=True)
class VerifiedNote:
    """An opened note: its text, the names of known keys that signed it, and the
    signatures by unknown keys (kept, not trusted)."""

    text: str
    signers: tuple[str, ...]
    unverified: tuple[NoteSignature, ...]


def _malformed(message: str, **details: object) -> NoteError:
    return NoteError(f"malformed note: {message}", code="invalid_note.malformed", details=details)


def _check_text(text: str) -> bytes:
    raw = _utf8(text, "note text")
    if not text.endswith("\n"):
        raise _malformed("text does not end with a newline")
    if has_control(text):
        raise _malformed("text contains a control character")
    if len(raw) > MAX_NOTE_BYTES:
        raise _malformed(f"note is larger than {MAX_NOTE_BYTES} bytes")
    return raw


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    if not line.startswith(SIG_PREFIX):
        raise _malformed("signature line does not start with an em dash and a space", line=number)
    name, _, sig64 = line[len(SIG_PREFIX) :].partition(" ")
    if not is_valid_name(name):
        raise _malformed(f"invalid key name {name!r} in a signature line", line=number)
    raw = strict_b64decode(sig64)
    if raw is None or len(raw) < 5:
        raise _malformed("signature is not base64 of a key id and a signature", line=number)
    return NoteSignature(name, raw[:4], raw[4:])


def split_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Parse a signed note into its text and signature lines, verifying nothing.

    Steps: 1. UTF-8, at most ``MAX_NOTE_BYTES``, no control characters but newline;
    2. the text ends at the last blank line; 3. one or more signature lines, each
    ``— <name> <base64>`` ending in a newline, at most ``MAX_SIGNATURES``.
    """
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise _malformed(f"note is larger than {MAX_NOTE_BYTES} bytes")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError("note is not valid UTF-8", code="invalid_note.encoding") from e
    if len(_utf8(note, "note")) > MAX_NOTE_BYTES:
        raise _malformed(f"note is larger than {MAX_NOTE_BYTES} bytes")
    if has_control(note):
        raise _malformed("note contains a control character")
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("signature block is empty or does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line, i) for i, line in enumerate(lines)]


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> VerifiedNote:
    """Parse a note and verify its signatures by the known ``verifiers``.

    Steps: 1. ``split_note``; 2. signatures whose (name, key ID) is unknown are
    kept as unverified (duplicates dropped); 3. every signature by a known key
    must verify, else the note is rejected; 4. at least one must be by a known key.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if known.setdefault((v.name, v.key_hash), v) != v:
            raise NoteError(
                f"two verifiers share the name {v.name!r} and key id",
                code="invalid_note.key",
                details={"name": v.name, "key_hash": v.key_hash.hex()},
            )
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    signers: list[str] = []
    unverified: list[NoteSignature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_hash))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if not verifier.verify(message, sig.signature):
            raise NoteError(
                f"signature by known key {sig.name!r} does not verify",
                code="invalid_note.bad_signature",
                details={"name": sig.name, "key_hash": sig.key_hash.hex()},
            )
        if sig.name not in signers:
            signers.append(sig.name)
    if not signers:
        raise NoteError(
            "note has no signature by a known key",
            code="invalid_note.unverified",
            details={
                "known": sorted(v.name for v in verifiers),
                "signed_by": [s.name for s in unverified],
            },
        )
    return VerifiedNote(text, tuple(signers), tuple(unverified))


def _signature_line(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    message = _check_text(text)
    verifier = NoteVerifier(name, public_key)
    signature = sign(message)
    if not verifier.verify(message, signature):
        raise NoteError(
            f"signer does not produce valid signatures for key {name!r}",
            code="invalid_note.bad_signature",
            details={"name": name},
        )
    return NoteSignature(name, verifier.key_hash, signature).line()


def sign_note(text: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Sign ``text`` (ending in a newline) with an Ed25519 key: text, blank line, signature.

    ``sign`` returns the 64-byte signature of the UTF-8 text; it is checked
    against ``public_key`` before use.
    """
    return text + "\n" + _signature_line(text, name, sign, public_key)


def add_signature(note: str, name: str, sign: Callable[[bytes], bytes], public_key: bytes) -> str:
    """Append one more signature line (another key, e.g. a witness) to a signed note."""
    text, _ = split_note(note)
    return note + _signature_line(text, name, sign, public_key)
