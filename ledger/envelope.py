"""DSSE envelopes (secure-systems-lab/dsse, protocol v1) carrying custody statements.

``{"payloadType", "payload", "signatures": [{"keyid", "sig"}]}`` with standard
base64; every signature is over ``PAE(payloadType, payload)``:

    "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

The payload bytes are kept exactly as signed (SPEC §4); nothing is
canonicalised. ``keyid`` is the signer's ``kid`` (hex SHA-256 of its public key).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ledger.errors import EnvelopeError, SignatureError
from ledger.keys import Signer, verify_signature

PAYLOAD_TYPE = "application/vnd.custody.statement+json"
MAX_ENVELOPE_BYTES = 256 * 1024
_KID_CHARS = frozenset("0123456789abcdef")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclass(frozen=True)
class EnvelopeSignature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope; ``payload`` holds the verbatim signed bytes."""

    payload_type: str
    payload: bytes
    signatures: tuple[EnvelopeSignature, ...]

    @cached_property
    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_json_obj(self) -> dict[str, Any]:
        """The envelope as a JSON object (the form stored inside a ledger leaf)."""
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_obj(), separators=(",", ":"), sort_keys=True)

    def verify_with(self, lookup: Callable[[str], bytes | None]) -> list[str]:
        """Verify every signature, looking each public key up by keyid.

        Returns the keyids in order. Raises SignatureError if any key is unknown
        or any signature fails: one bad signature spoils the envelope.
        """
        kids: list[str] = []
        for i, s in enumerate(self.signatures):
            pk = lookup(s.keyid)
            if pk is None:
                raise SignatureError(
                    f"signatures[{i}]: unknown key {s.keyid[:16]}…",
                    code="bad_signature.unknown_key",
                    details={"kid": s.keyid, "index": i},
                )
            try:
                verify_signature(pk, s.sig, self.pae)
            except SignatureError as e:
                e.details["index"] = i
                e.message = f"signatures[{i}] by key {s.keyid[:16]}…: {e.message}"
                raise
            kids.append(s.keyid)
        return kids


def sign_envelope(
    payload: bytes, signers: Iterable[Signer], payload_type: str = PAYLOAD_TYPE
) -> Envelope:
    """Sign ``payload`` with every signer (at least one)."""
    body = pae(payload_type, payload)
    sigs = tuple(EnvelopeSignature(s.kid, s.sign(body)) for s in signers)
    if not sigs:
        raise EnvelopeError("an envelope needs at least one signature")
    return Envelope(payload_type, payload, sigs)


def _b64(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{where}: must be a base64 string", code="invalid_envelope.type")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise EnvelopeError(
            f"{where}: not valid standard base64", code="invalid_envelope.base64"
        ) from e


def envelope_from_obj(obj: object) -> Envelope:
    """Validate a decoded JSON envelope object."""
    if not isinstance(obj, Mapping):
        raise EnvelopeError("an envelope must be a JSON object", code="invalid_envelope.type")
    extra = set(obj) - {"payloadType", "payload", "signatures"}
    if extra:
        raise EnvelopeError(
            f"unknown envelope field(s): {', '.join(sorted(extra))}",
            code="invalid_envelope.field",
        )
    for field in ("payloadType", "payload", "signatures"):
        if field not in obj:
            raise EnvelopeError(f"missing field {field!r}", code="invalid_envelope.missing")
    ptype = obj["payloadType"]
    if ptype != PAYLOAD_TYPE:
        raise EnvelopeError(
            f"payloadType must be {PAYLOAD_TYPE!r}, got {ptype!r}",
            code="invalid_envelope.payload_type",
        )
    payload = _b64(obj["payload"], "payload")
    raw_sigs = obj["signatures"]
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise EnvelopeError(
            "signatures must be a non-empty list", code="invalid_envelope.signatures"
        )
    sigs: list[EnvelopeSignature] = []
    for i, item in enumerate(raw_sigs):
        if not isinstance(item, Mapping) or set(item) != {"keyid", "sig"}:
            raise EnvelopeError(
                f"signatures[{i}] must be an object with exactly 'keyid' and 'sig'",
                code="invalid_envelope.signatures",
            )
        keyid = item["keyid"]
        if not isinstance(keyid, str) or len(keyid) != 64 or not set(keyid) <= _KID_CHARS:
            raise EnvelopeError(
                f"signatures[{i}].keyid must be a key id (64 lowercase hex)",
                code="invalid_envelope.keyid",
            )
        sigs.append(EnvelopeSignature(keyid, _b64(item["sig"], f"signatures[{i}].sig")))
    return Envelope(PAYLOAD_TYPE, payload, tuple(sigs))


def parse_envelope(data: bytes | str) -> Envelope:
    """Parse one envelope from JSON text."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(
            f"envelope is larger than {MAX_ENVELOPE_BYTES} bytes", code="invalid_envelope.size"
        )
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise EnvelopeError(f"not valid JSON: {e}", code="invalid_envelope.json") from e
    return envelope_from_obj(obj)


def parse_envelopes(text: str) -> list[Envelope | EnvelopeError]:
    """Parse a file holding one envelope (possibly pretty-printed), a JSON array
    of envelopes, or JSON lines. Returns one item per envelope in order, either
    the envelope or the error that makes it unusable."""
    stripped = text.strip()
    if not stripped:
        return [EnvelopeError("no envelope in input", code="invalid_envelope.empty")]
    try:
        whole = json.loads(stripped)
    except ValueError:
        whole = None
    else:
        items = whole if isinstance(whole, list) else [whole]
        return [_safe(envelope_from_obj, o) for o in items]
    return [_safe(parse_envelope, line) for line in stripped.splitlines() if line.strip()]


def _safe(fn: Callable[[Any], Envelope], arg: Any) -> Envelope | EnvelopeError:
    try:
        return fn(arg)
    except EnvelopeError as e:
        return e
