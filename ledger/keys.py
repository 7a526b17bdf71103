"""Ed25519 keys (RFC 8032): key files, key ids, and the signer/verifier interface.

* A public key is written as standard base64 of its 32 raw bytes; its key id
  (``kid``) is the lowercase hex SHA-256 of those bytes (SPEC §2).
* Private keys are PKCS#8 PEM files (``cryptography``), mode 0600, optionally
  encrypted with the passphrase in ``CUSTODY_KEY_PASSPHRASE``.
* Every verification goes through libsodium (PyNaCl), so every verifier reaches
  the same verdict on edge-case signatures; public keys that are not canonical
  encodings of a point of the prime-order subgroup (small-order keys included)
  are refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import KeyFormatError, SignatureError

PASSPHRASE_ENV = "CUSTODY_KEY_PASSPHRASE"  # noqa: S105 (an env var name)


class Signer(Protocol):
    """Anything that signs bytes with an Ed25519 key."""

    @property
    def public_key(self) -> bytes: ...

    @property
    def kid(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def kid_of(public_key: bytes) -> str:
    """The key id: lowercase hex SHA-256 of the 32 raw public key bytes."""
    return hashlib.sha256(public_key).hexdigest()


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, what: str = "value") -> bytes:
    """Strict standard base64 (padding required, no stray characters)."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as e:
        raise KeyFormatError(f"{what} is not valid base64", code="invalid_key.base64") from e


def check_public_key(public_key: bytes) -> bytes:
    """Return the key if it is usable for registration, else raise KeyFormatError.

    Refuses wrong lengths, non-canonical encodings, points off the curve and
    points of small order (libsodium ``crypto_core_ed25519_is_valid_point``).
    """
    if len(public_key) != 32:
        raise KeyFormatError(
            f"an Ed25519 public key is 32 bytes, got {len(public_key)}",
            code="invalid_key.length",
        )
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(public_key):
        raise KeyFormatError(
            "public key is not a canonical Ed25519 point of prime order "
            "(small-order or non-canonical keys are refused)",
            code="invalid_key.weak",
            details={"kid": kid_of(public_key)},
        )
    return public_key


def public_key_from_b64(text: str) -> bytes:
    """Decode and check a base64 public key (SPEC §2)."""
    return check_public_key(b64decode(text.strip(), what="public key"))


@functools.lru_cache(maxsize=4096)
def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(public_key)


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> None:
    """Verify an Ed25519 signature with libsodium; raise SignatureError if it fails."""
    if len(signature) != 64:
        raise SignatureError(
            f"an Ed25519 signature is 64 bytes, got {len(signature)}",
            code="bad_signature.length",
            details={"kid": kid_of(public_key)},
        )
    try:
        _verify_key(public_key).verify(data, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as e:
        raise SignatureError(
            "signature does not verify",
            code="bad_signature.invalid",
            details={"kid": kid_of(public_key)},
        ) from e


def is_valid_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Non-raising form of :func:`verify_signature`."""
    try:
        verify_signature(public_key, signature, data)
    except SignatureError:
        return False
    return True


@dataclass(frozen=True)
class Verifier:
    """A public key that verifies signatures: the verifier half of the signer/verifier
    interface (:class:`PrivateKey` signs). C2SP note keys (:class:`ledger.note.NoteVerifier`)
    verify through it."""

    public_key: bytes

    @property
    def kid(self) -> str:
        return kid_of(self.public_key)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise :class:`ledger.errors.SignatureError` unless ``signature`` signs ``data``."""
        verify_signature(self.public_key, signature, data)

    def is_valid(self, signature: bytes, data: bytes) -> bool:
        """Non-raising form of :meth:`verify`."""
        return is_valid_signature(self.public_key, signature, data)


class PrivateKey:
    """An Ed25519 private key that signs (libsodium, deterministic RFC 8032)."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes", code="invalid_key.length")
        self._signing = nacl.signing.SigningKey(seed)
        self._public = bytes(self._signing.verify_key)

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(os.urandom(32))

    @property
    def seed(self) -> bytes:
        return bytes(self._signing)

    @property
    def public_key(self) -> bytes:
        return self._public

    @property
    def public_key_b64(self) -> str:
        return b64encode(self._public)

    @property
    def kid(self) -> str:
        return kid_of(self._public)

    def sign(self, data: bytes) -> bytes:
        return self._signing.sign(data).signature

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None) -> PrivateKey:
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError as e:
            raise KeyFormatError(
                f"key file is encrypted: set {PASSPHRASE_ENV}"
                if passphrase is None
                else "key file is not encrypted but a passphrase was given",
                code="invalid_key.passphrase",
            ) from e
        except ValueError as e:
            raise KeyFormatError(
                "not a PKCS#8 PEM private key, or wrong passphrase",
                code="invalid_key.pem",
            ) from e
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("key file does not hold an Ed25519 key", code="invalid_key.type")
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(seed)


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def save_private_key(path: Path, key: PrivateKey, *, overwrite: bool = False) -> None:
    """Write ``key`` as PKCS#8 PEM with mode 0600 (created so, never widened)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as e:
        raise KeyFormatError(
            f"{path} already exists; refusing to overwrite a key", code="invalid_key.exists"
        ) from e
    with os.fdopen(fd, "wb") as f:
        f.write(key.to_pem(_passphrase()))
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)


def load_private_key(path: Path) -> PrivateKey:
    """Read a PEM key file written by :func:`save_private_key`."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyFormatError(f"cannot read key file {path}: {e.strerror}") from e
    mode = path.stat().st_mode & 0o077
    if mode & 0o007:
        raise KeyFormatError(
            f"key file {path} is world-accessible (mode {oct(path.stat().st_mode & 0o777)}); "
            "run: chmod 600 " + str(path),
            code="invalid_key.permissions",
        )
    return PrivateKey.from_pem(data, _passphrase())


def save_public_key(path: Path, public_key: bytes) -> None:
    """Write the one-line base64 public key file (``PREFIX.pub``)."""
    path.write_text(b64encode(public_key) + "\n", encoding="ascii")


def load_public_key(path: Path) -> bytes:
    """Read a ``.pub`` file (one line of base64), or a PEM private key's public half."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise KeyFormatError(f"cannot read public key file {path}") from e
    if text.startswith("-----BEGIN"):
        return load_private_key(path).public_key
    return public_key_from_b64(text)
