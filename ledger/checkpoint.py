"""C2SP tlog-checkpoint — pure, no I/O.

A checkpoint (c2sp.org/tlog-checkpoint) is a signed note (:mod:`ledger.note`,
c2sp.org/signed-note) whose text is the origin line, the decimal tree size, the
base64 RFC 6962 root hash and optional extension lines. The signed-note names
are re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import NoteError
from ledger.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SIG_PREFIX,
    SIG_TYPE_ED25519,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    VerifiedNote,
    add_signature,
    b64,
    has_control,
    is_valid_name,
    key_hash,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    signer_key,
    split_note,
    strict_b64decode,
    verifier_key,
)

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "SIG_PREFIX",
    "SIG_TYPE_ED25519",
    "Checkpoint",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "VerifiedNote",
    "add_signature",
    "is_valid_name",
    "key_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "signer_key",
    "split_note",
    "verifier_key",
]

_HASH_SIZE = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


# --- checkpoints -------------------------------------------------------------


def _checkpoint_error(message: str, **details: object) -> NoteError:
    return NoteError(
        f"invalid checkpoint: {message}", code="invalid_note.checkpoint", details=details
    )


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: origin, tree size, RFC 6962 root, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [("origin", self.origin), *(("extension", e) for e in self.extensions)]:
            if not line or "\n" in line or has_control(line):
                raise _checkpoint_error(f"{what} line is empty or has a control character")
        if not 0 <= self.size < 1 << 64:
            raise _checkpoint_error(f"tree size {self.size} is out of range", size=self.size)
        if len(self.root) != _HASH_SIZE:
            raise _checkpoint_error(f"root hash is {len(self.root)} bytes, not {_HASH_SIZE}")

    def body(self) -> str:
        """The note text: origin, size, base64 root and extensions, one per line."""
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body (the note text) strictly."""
    if not body.endswith("\n"):
        raise _checkpoint_error("body does not end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise _checkpoint_error("fewer than three lines")
    if any(not line for line in lines):
        raise _checkpoint_error("empty line")
    origin, size, root64, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise _checkpoint_error("tree size is not a decimal without leading zeros", size=size)
    root = strict_b64decode(root64)
    if root is None or len(root) != _HASH_SIZE:
        raise _checkpoint_error("root hash is not the base64 of 32 bytes")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def open_checkpoint(
    note: str | bytes, verifier: NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint by the log's key and parse it.

    The origin line must equal ``origin`` (by default the verifier's key name).
    """
    checkpoint = parse_checkpoint(open_note(note, [verifier]).text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise _checkpoint_error(
            f"origin {checkpoint.origin!r} is not {expected!r}",
            origin=checkpoint.origin,
            expected=expected,
        )
    return checkpoint
