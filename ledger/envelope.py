"""DSSE envelopes (secure-systems-lab/dsse, protocol v1) carrying custody statements.

``{"payloadType", "payload", "signatures": [{"keyid", "sig"}]}``; every
signature is over ``PAE(payloadType, payload)``:

    "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

The payload bytes are kept exactly as signed (SPEC §4); nothing is
canonicalised. ``keyid`` is the signer's ``kid`` (hex SHA-256 of its public key).

As a DSSE consumer (envelope.md "Parsing rules", protocol.md) custody

* ignores fields it does not know, at the top level and inside signatures;
* accepts standard or URL-safe base64 (RFC 4648 §4 and §5) for ``payload`` and
  ``sig``, with the padding RFC 4648 requires (DSSE does not waive it); one
  value may not mix the two alphabets;
* treats an unset ``keyid`` as empty. custody finds a signature's key by its
  ``keyid`` (an unauthenticated hint: the key it names must still verify the
  signature), so a signature without one cannot be verified here.

What custody keeps is the canonical form: :meth:`Envelope.to_json_obj` writes the
known fields only, in standard base64 with padding, so stored leaves stay
canonical whatever form was submitted. Signatures are unaffected: they cover the
PAE of the payload bytes, not the envelope's JSON. Stored leaves are read back with
``envelope_from_obj(obj, stored=True)``, which accepts the canonical form only.

All JSON is read by :mod:`ledger.strictjson` (UTF-8, no duplicate keys, no NaN,
bounded depth).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from ledger import strictjson
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
        """Compact JSON, keys sorted: the text of :func:`envelope_json`."""
        return envelope_json(self).decode("ascii")

    def verify_with(self, lookup: Callable[[str], bytes | None]) -> list[str]:
        """Verify every signature, looking each public key up by keyid.

        Returns the keyids in order. Raises SignatureError if any key is unknown
        or any signature fails: one bad signature spoils the envelope.
        """
        kids: list[str] = []
        for i, s in enumerate(self.signatures):
            if not s.keyid:
                raise no_keyid(i)
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


def envelope_json(envelope: Envelope) -> bytes:
    """The envelope as :func:`ledger.leaf.leaf_bytes` encodes it inside a leaf.

    Byte for byte ``json.dumps(envelope.to_json_obj(), sort_keys=True,
    separators=(",", ":"), ensure_ascii=True)``, written out directly: the keys
    in sorted order, base64 text needing no escapes, other strings escaped by
    :mod:`json`'s own encoder.
    """
    sigs = b",".join(
        b'{"keyid":%s,"sig":"%s"}' % (_json_str(s.keyid), binascii.b2a_base64(s.sig, newline=False))
        for s in envelope.signatures
    )
    return b'{"payload":"%s","payloadType":%s,"signatures":[%s]}' % (
        binascii.b2a_base64(envelope.payload, newline=False),
        _json_str(envelope.payload_type),
        sigs,
    )


def _json_str(text: str) -> bytes:
    return encode_basestring_ascii(text).encode("ascii")


def no_keyid(index: int) -> SignatureError:
    """The error for a signature without a ``keyid``: custody finds keys by keyid."""
    return SignatureError(
        f"signatures[{index}] has no keyid: custody finds the signing key by its keyid "
        "(the hex SHA-256 of the Ed25519 public key)",
        code="bad_signature.unknown_key",
        details={"kid": "", "index": index},
    )


def sign_envelope(
    payload: bytes, signers: Iterable[Signer], payload_type: str = PAYLOAD_TYPE
) -> Envelope:
    """Sign ``payload`` with every signer (at least one)."""
    body = pae(payload_type, payload)
    sigs = tuple(EnvelopeSignature(s.kid, s.sign(body)) for s in signers)
    if not sigs:
        raise EnvelopeError("an envelope needs at least one signature")
    return Envelope(payload_type, payload, sigs)


_STANDARD: Final = frozenset("+/")
_URL_SAFE: Final = frozenset("-_")
_BASE64_RULE: Final = "standard or URL-safe base64 with padding"


def _b64(value: object, where: str, *, stored: bool = False) -> bytes:
    """Decode standard or URL-safe base64; ``stored`` accepts canonical standard only."""
    if not isinstance(value, str):
        raise EnvelopeError(f"{where}: must be a base64 string", code="invalid_envelope.type")
    if value.isascii():  # the common case first: strict mode refuses any non-standard character
        data = value.encode("ascii")
        try:
            raw = binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error:
            pass
        else:
            if not stored or binascii.b2a_base64(raw, newline=False) == data:
                return raw
    chars = set(value)
    url_safe = not chars.isdisjoint(_URL_SAFE)
    if url_safe and (stored or not chars.isdisjoint(_STANDARD)):
        what = "standard base64" if stored else "one base64 alphabet, not a mix"
        raise EnvelopeError(f"{where}: must be {what}", code="invalid_envelope.base64")
    try:
        raw = base64.b64decode(value, altchars=b"-_" if url_safe else None, validate=True)
    except (binascii.Error, ValueError) as e:
        rule = "canonical standard base64" if stored else _BASE64_RULE
        raise EnvelopeError(f"{where}: not valid {rule}", code="invalid_envelope.base64") from e
    if stored and base64.b64encode(raw).decode("ascii") != value:
        raise EnvelopeError(
            f"{where}: not canonical standard base64", code="invalid_envelope.base64"
        )
    return raw


def _keyid(item: Mapping[str, Any], i: int) -> str:
    keyid = item.get("keyid")
    if keyid is None:  # DSSE: an unset keyid is the same as an empty one
        return ""
    if not isinstance(keyid, str) or (keyid and (len(keyid) != 64 or not set(keyid) <= _KID_CHARS)):
        raise EnvelopeError(
            f"signatures[{i}].keyid must be a key id (64 lowercase hex)",
            code="invalid_envelope.keyid",
        )
    return keyid


def envelope_from_obj(obj: object, *, stored: bool = False) -> Envelope:
    """Validate a decoded JSON envelope object, as a DSSE consumer.

    Unknown fields are ignored and URL-safe base64 is accepted unless ``stored``
    is true: a stored leaf must hold the canonical form (known fields only,
    standard base64, every ``keyid`` present), which is what :meth:`Envelope.to_json_obj`
    writes.
    """
    if not isinstance(obj, Mapping):
        raise EnvelopeError("an envelope must be a JSON object", code="invalid_envelope.type")
    extra = set(obj) - {"payloadType", "payload", "signatures"}
    if extra and stored:
        raise EnvelopeError(
            f"unknown envelope field(s): {', '.join(sorted(map(str, extra)))}",
            code="invalid_envelope.field",
        )
    for field in ("payloadType", "payload", "signatures"):
        if field not in obj:
            raise EnvelopeError(f"missing field {field!r}", code="invalid_envelope.missing")
    ptype = obj["payloadType"]
    if ptype != PAYLOAD_TYPE:
        raise EnvelopeError(
            f"payloadType must be {PAYLOAD_TYPE!r}, got {_show(ptype)}",
            code="invalid_envelope.payload_type",
        )
    payload = _b64(obj["payload"], "payload", stored=stored)
    raw_sigs = obj["signatures"]
    if not isinstance(raw_sigs, list) or not raw_sigs:
        raise EnvelopeError(
            "signatures must be a non-empty list", code="invalid_envelope.signatures"
        )
    sigs: list[EnvelopeSignature] = []
    for i, item in enumerate(raw_sigs):
        if not isinstance(item, Mapping) or "sig" not in item:
            raise EnvelopeError(
                f"signatures[{i}] must be an object with a 'sig' (and a 'keyid')",
                code="invalid_envelope.signatures",
            )
        if stored and set(item) != {"keyid", "sig"}:
            raise EnvelopeError(
                f"signatures[{i}] must be an object with exactly 'keyid' and 'sig'",
                code="invalid_envelope.signatures",
            )
        keyid = _keyid(item, i)
        sig = _b64(item["sig"], f"signatures[{i}].sig", stored=stored)
        sigs.append(EnvelopeSignature(keyid, sig))
    return Envelope(PAYLOAD_TYPE, payload, tuple(sigs))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "...'"


def _json_error(e: strictjson.JsonError) -> EnvelopeError:
    said = e.message if e.message.startswith("not valid JSON") else f"not valid JSON: {e.message}"
    return EnvelopeError(said, code="invalid_envelope.json", details={"reason": e.reason})


_SIGNATURE: Final = r'\{"keyid":"([0-9a-f]{64})","sig":"([A-Za-z0-9+/=]*)"\}'
_CANONICAL: Final = re.compile(
    r'\{"payload":"([A-Za-z0-9+/=]*)","payloadType":"application/vnd\.custody\.statement\+json",'
    rf'"signatures":\[((?:{_SIGNATURE}(?:,{_SIGNATURE})*))\]\}}'
)
_SIGNATURES: Final = re.compile(_SIGNATURE)


def _canonical(data: bytes | str) -> Envelope | None:
    """The envelope of text in the form :meth:`Envelope.to_json` writes (compact, sorted
    keys, standard base64, every keyid), read by one pattern; None for anything else,
    which :func:`parse_envelope` reads in full (the same envelope, or its error)."""
    if type(data) is bytes:
        if not data.isascii():
            return None
        data = data.decode("ascii")
    elif type(data) is not str:
        return None
    match = _CANONICAL.fullmatch(data)
    if match is None:
        return None
    try:  # what _b64 does first with an ASCII value
        payload = binascii.a2b_base64(match.group(1), strict_mode=True)
        signatures = tuple(
            EnvelopeSignature(keyid, binascii.a2b_base64(sig, strict_mode=True))
            for keyid, sig in _SIGNATURES.findall(match.group(2))
        )
    except binascii.Error:
        return None
    return Envelope(PAYLOAD_TYPE, payload, signatures)


def parse_envelope(data: bytes | str) -> Envelope:
    """Parse one envelope from JSON text.

    Text in the canonical form is read by one pattern (:func:`_canonical`); any other
    goes through strict JSON and :func:`envelope_from_obj`, as every error does.
    """
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(
            f"envelope is larger than {MAX_ENVELOPE_BYTES} bytes", code="invalid_envelope.size"
        )
    envelope = _canonical(data)
    if envelope is not None:
        return envelope
    try:
        obj = strictjson.loads(data)
    except strictjson.JsonError as e:
        raise _json_error(e) from None
    return envelope_from_obj(obj)


def parse_envelopes(text: str) -> list[Envelope | EnvelopeError]:
    """Parse a file holding one envelope (possibly pretty-printed), a JSON array
    of envelopes, or JSON lines. Returns one item per envelope in order, either
    the envelope or the error that makes it unusable."""
    stripped = text.strip()
    if not stripped:
        return [EnvelopeError("no envelope in input", code="invalid_envelope.empty")]
    try:
        whole = strictjson.loads(stripped)
    except strictjson.JsonError as e:
        whole_error = _json_error(e)
    else:
        items = whole if isinstance(whole, list) else [whole]
        return [_safe(envelope_from_obj, o) for o in items]
    texts = [line for line in stripped.splitlines() if line.strip()]
    if whole_error.details["reason"] != "syntax":
        # JSON that is too deep, has a duplicate key, ...: one document (perhaps
        # pretty-printed, so its first line is no JSON of its own), or JSON lines
        first = _safe(parse_envelope, texts[0])
        if len(texts) == 1 or (
            isinstance(first, EnvelopeError) and first.details.get("reason") == "syntax"
        ):
            return [whole_error]
    return [_safe(parse_envelope, line) for line in texts]


def _safe(fn: Callable[[Any], Envelope], arg: Any) -> Envelope | EnvelopeError:
    try:
        return fn(arg)
    except EnvelopeError as e:
        return e
