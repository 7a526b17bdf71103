"""Errors of the ledger package.

Every error carries a stable machine-readable ``code`` (shared by the CLI's
``--json`` output and the HTTP API's error bodies), a human message, and
structured ``details`` (which field, which seq, expected and actual hashes).

Tree::

    CustodyError                      code            CLI exit  HTTP
    ├── InputError                    invalid_input        1     400
    │   ├── EnvelopeError             invalid_envelope     1     400
    │   ├── SignatureError            bad_signature        1     400
    │   ├── KeyFormatError            invalid_key          1     400
    │   ├── StatementError            invalid_statement    1     422
    │   ├── UnsafeBundleError         invalid_input.…      1     400
    │   │   (.unsafe_bundle: a bundle zip refused unread: traversal, zip bomb ...)
    │   ├── RejectedError             rejected             1     409
    │   │   (a statement that would break the custody state)
    │   └── ConflictError             conflict             1     409
    │       (same (issuer, id), other bytes)
    ├── ProofError                    invalid_proof        1     400
    ├── NoteError                     invalid_note         1     400
    ├── NotFoundError                 not_found            1     404
    ├── IntegrityError                integrity            1     409
    │   │   (stored data does not hold; audit reports it)
    │   └── LeafError                 integrity.leaf       1     409
    │       (bytes that are not a ledger leaf; ``reason``: the finer code)
    └── ConfigError                   config               2     503

Subclasses refine ``code`` with a suffix (``rejected.overdraw``,
``invalid_statement.missing_field``) so callers may match on the prefix.
"""

from __future__ import annotations

from typing import Any


class CustodyError(Exception):
    """Base of every error raised by custody."""

    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The error as ``{"code", "message", "details"}`` (API and ``--json``)."""
        return {"code": self.code, "message": self.message, "details": self.details}

    def __str__(self) -> str:
        return self.message


class InputError(CustodyError):
    """Bad input: rejected, nothing changed."""

    code = "invalid_input"


class EnvelopeError(InputError):
    """A DSSE envelope that is not well-formed."""

    code = "invalid_envelope"


class SignatureError(InputError):
    """A signature that does not verify, or whose key is unknown or revoked."""

    code = "bad_signature"


class KeyFormatError(InputError):
    """A key or key file that cannot be used (wrong length, small order, bad PEM)."""

    code = "invalid_key"


class StatementError(InputError):
    """A statement payload that does not parse or validate.

    ``field`` names the offending field with a dotted path (``inputs[1].unit``).
    """

    code = "invalid_statement"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = dict(details or {})
        if field is not None:
            merged.setdefault("field", field)
        super().__init__(message, code=code, details=merged)
        self.field = field


class UnsafeBundleError(InputError):
    """A bundle zip that is refused before anything in it is read.

    ``member`` names the culprit (or ``(archive)``), ``reason`` says what is wrong;
    the message is ``"<member>: <reason>"``.
    """

    code = "invalid_input.unsafe_bundle"

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"{member}: {reason}", details={"member": member, "reason": reason})
        self.member = member
        self.reason = reason


class RejectedError(InputError):
    """A well-formed statement that the custody state machine refuses."""

    code = "rejected"


class ConflictError(InputError):
    """The same (issuer, id) was already appended with other bytes."""

    code = "conflict"


class ProofError(CustodyError):
    """An inclusion or consistency proof that does not verify."""

    code = "invalid_proof"


class NoteError(CustodyError):
    """A signed note or checkpoint that does not parse or verify."""

    code = "invalid_note"


class NotFoundError(CustodyError):
    """A seq, digest, lot or party that does not exist."""

    code = "not_found"


class IntegrityError(CustodyError):
    """Stored data that does not hold (audit, bundle verification)."""

    code = "integrity"


class LeafError(IntegrityError):
    """Bytes that are not a ledger leaf (code ``integrity.leaf``; :mod:`ledger.leaf`).

    ``reason`` is the finer code that verification reports (``integrity.leaf_json``,
    ``integrity.leaf_shape``, ...), ``why`` says what does not hold, ``digest`` is the
    statement digest when the leaf is fine but its statement is not, ``prev`` the
    leaf's well-formed ``prev`` when the failure came after it (so the hash chain
    can still be checked).
    """

    def __init__(
        self, why: str, reason: str, digest: str | None = None, prev: str | None = None
    ) -> None:
        details: dict[str, Any] = {"reason": reason}
        if digest is not None:
            details["digest"] = digest
        super().__init__(
            f"stored leaf is not a ledger leaf: {why}", code="integrity.leaf", details=details
        )
        self.why = why
        self.reason = reason
        self.digest = digest
        self.prev = prev


class ConfigError(CustodyError):
    """A home folder, database URL or key file that cannot be used."""

    code = "config"
