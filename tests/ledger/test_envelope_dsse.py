"""DSSE consumer rules (envelope.md "Parsing rules", protocol.md): unknown fields are
ignored, standard or URL-safe base64 is accepted, ``keyid`` is optional; custody keeps
the canonical form. Interoperability with securesystemslib's DSSE implementation."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey

from ledger.envelope import (
    PAYLOAD_TYPE,
    Envelope,
    envelope_from_obj,
    parse_envelope,
    parse_envelopes,
    sign_envelope,
)
from ledger.errors import EnvelopeError, SignatureError
from ledger.keys import PrivateKey
from ledger.leaf import envelope_json
from tests.support import World


def _url_safe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _lookup(*keys: PrivateKey):
    return {k.kid: k.public_key for k in keys}.get


def _payload_needing_url_safe() -> bytes:
    """A payload whose base64 has both '+'/'/' (standard) and '-'/'_' (URL-safe) forms."""
    payload = b'{"note":"\xfb\xff\xfe"}'
    assert base64.b64encode(payload) != base64.urlsafe_b64encode(payload)
    return payload


def test_unknown_fields_are_ignored_and_dropped_from_the_canonical_form():
    key = PrivateKey.generate()
    env = sign_envelope(b"{}", [key])
    obj = env.to_json_obj()
    obj["x-producer"] = {"name": "other-tool", "nested": [1, 2]}
    obj["signatures"][0]["cert"] = "-----BEGIN CERTIFICATE-----"
    parsed = parse_envelope(json.dumps(obj))
    assert parsed == env
    assert parsed.to_json_obj() == env.to_json_obj()
    assert set(parsed.to_json_obj()) == {"payloadType", "payload", "signatures"}
    assert parsed.verify_with(_lookup(key)) == [key.kid]


def test_url_safe_base64_is_accepted_and_stored_as_standard():
    key = PrivateKey.generate()
    payload = _payload_needing_url_safe()
    env = sign_envelope(payload, [key])
    obj = env.to_json_obj()
    obj["payload"] = _url_safe(payload)
    obj["signatures"][0]["sig"] = _url_safe(env.signatures[0].sig)
    assert "-" in obj["payload"] or "_" in obj["payload"]
    parsed = parse_envelope(json.dumps(obj))
    assert parsed.payload == payload
    assert parsed.verify_with(_lookup(key)) == [key.kid]
    canonical = parsed.to_json_obj()
    assert canonical["payload"] == base64.b64encode(payload).decode("ascii")
    assert canonical == env.to_json_obj()
    # the leaf encoder writes the same canonical envelope
    assert json.loads(envelope_json(parsed)) == canonical


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("e30", "unpadded"),
        ("e3-+", "mixed alphabets"),
        ("e3 0=", "whitespace"),
        ("é30=", "not ASCII"),
    ],
)
def test_base64_that_is_neither_form_is_refused(value, why):
    obj = sign_envelope(b"{}", [PrivateKey.generate()]).to_json_obj()
    obj["payload"] = value
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(obj)
    assert info.value.code == "invalid_envelope.base64", why


def test_keyid_is_optional_but_custody_needs_it_to_find_the_key():
    key = PrivateKey.generate()
    obj = sign_envelope(b"{}", [key]).to_json_obj()
    del obj["signatures"][0]["keyid"]
    parsed = envelope_from_obj(obj)
    assert parsed.signatures[0].keyid == ""
    obj["signatures"][0]["keyid"] = ""
    assert envelope_from_obj(obj) == parsed
    with pytest.raises(SignatureError) as info:
        parsed.verify_with(_lookup(key))
    assert info.value.code == "bad_signature.unknown_key"
    assert "no keyid" in info.value.message


def test_a_signature_still_needs_its_sig():
    obj = sign_envelope(b"{}", [PrivateKey.generate()]).to_json_obj()
    del obj["signatures"][0]["sig"]
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(obj)
    assert info.value.code == "invalid_envelope.signatures"


def test_stored_envelopes_must_be_canonical():
    key = PrivateKey.generate()
    env = sign_envelope(_payload_needing_url_safe(), [key])
    assert envelope_from_obj(env.to_json_obj(), stored=True) == env
    extra = {**env.to_json_obj(), "extra": 1}
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(extra, stored=True)
    assert info.value.code == "invalid_envelope.field"
    sig_extra = env.to_json_obj()
    sig_extra["signatures"][0]["x"] = 1
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(sig_extra, stored=True)
    assert info.value.code == "invalid_envelope.signatures"
    url_safe = {**env.to_json_obj(), "payload": _url_safe(env.payload)}
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(url_safe, stored=True)
    assert info.value.code == "invalid_envelope.base64"
    odd_bits = {**env.to_json_obj(), "payload": "QR=="}  # decodes, but is not canonical
    assert envelope_from_obj(odd_bits).payload == b"A"
    with pytest.raises(EnvelopeError) as info:
        envelope_from_obj(odd_bits, stored=True)
    assert info.value.code == "invalid_envelope.base64"


def test_parse_envelopes_reports_one_error_for_one_deep_document():
    deep = "[" * 100_000 + "]" * 100_000
    (only,) = parse_envelopes(deep)
    assert isinstance(only, EnvelopeError)
    assert only.code == "invalid_envelope.json"
    pretty = '{\n  "a":\n' + '{"a":' * 70_000 + "1" + "}" * 70_000 + "\n}"
    (only,) = parse_envelopes(pretty)
    assert isinstance(only, EnvelopeError)
    assert only.code == "invalid_envelope.json"


def test_the_ledger_accepts_a_foreign_form_and_stores_the_canonical_one(world: World):
    gin = world.party("gin")
    env = gin.envelope("key", party="gin", public_key=PrivateKey.generate().public_key_b64)
    obj = env.to_json_obj()
    obj["signatures"][0]["sig"] = _url_safe(env.signatures[0].sig)
    obj["signatures"][0]["note"] = "ignored"
    obj["comment"] = "ignored too"
    (res,) = world.ledger.submit([parse_envelope(json.dumps(obj))])
    assert res.error is None
    assert res.seq is not None
    stored = json.loads(world.ledger.leaf(res.seq))["envelope"]
    assert stored == env.to_json_obj()
    assert envelope_from_obj(stored, stored=True) == env


# ---------------------------------------------------------------- securesystemslib


def _sslib(key: PrivateKey) -> tuple[CryptoSigner, SSlibKey]:
    private = Ed25519PrivateKey.from_private_bytes(key.seed)
    public = SSlibKey.from_crypto(private.public_key(), keyid=key.kid)
    return CryptoSigner(private, public), public


def test_securesystemslib_verifies_what_custody_signs():
    a, b = PrivateKey.generate(), PrivateKey.generate()
    env = sign_envelope(b'{"spec":"custody/1"}', [a, b])
    theirs = SslibEnvelope.from_dict(json.loads(env.to_json()))
    assert theirs.payload == env.payload
    assert theirs.payload_type == PAYLOAD_TYPE
    assert theirs.pae() == env.pae
    accepted = theirs.verify([_sslib(a)[1], _sslib(b)[1]], threshold=2)
    assert set(accepted) == {a.kid, b.kid}


def test_custody_accepts_and_verifies_what_securesystemslib_signs():
    key = PrivateKey.generate()
    signer, _ = _sslib(key)
    payload = _payload_needing_url_safe()
    theirs = SslibEnvelope(payload, PAYLOAD_TYPE, {})
    sig = theirs.sign(signer)
    # a producer that adds fields of its own (securesystemslib keeps and emits them)
    theirs.signatures[sig.keyid] = Signature(sig.keyid, sig.signature, {"extension": {"x": 1}})
    obj = theirs.to_dict()
    assert obj["signatures"][0]["extension"] == {"x": 1}
    obj["producer"] = "securesystemslib"
    ours = parse_envelope(json.dumps(obj))
    assert ours.payload == payload
    assert ours.verify_with(_lookup(key)) == [key.kid]
    # and again with the URL-safe alphabet other producers may use
    obj["payload"] = _url_safe(payload)
    obj["signatures"][0]["sig"] = _url_safe(bytes.fromhex(sig.signature))
    again = parse_envelope(json.dumps(obj))
    assert again == ours
    assert isinstance(again, Envelope)
    assert again.to_json_obj() == sign_envelope(payload, [key]).to_json_obj()


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda env: env.update(extra=1), "integrity.invalid_envelope.field"),
        (lambda env: env["signatures"][0].update(x=1), "integrity.invalid_envelope.signatures"),
        (
            lambda env: env.update(payload=_url_safe(_payload_needing_url_safe())),
            "integrity.invalid_envelope.base64",
        ),
    ],
    ids=["extra-field", "extra-signature-field", "url-safe-base64"],
)
def test_a_stored_leaf_must_hold_the_canonical_envelope(edit, code):
    from ledger.leaf import LeafError, decode_leaf, leaf_bytes

    env = sign_envelope(_payload_needing_url_safe(), [PrivateKey.generate()]).to_json_obj()
    good = leaf_bytes(0, "0" * 64, "2026-03-01T10:00:00.000000Z", env)
    assert decode_leaf(good).envelope.to_json_obj() == env
    edit(env)
    with pytest.raises(LeafError) as info:
        decode_leaf(leaf_bytes(0, "0" * 64, "2026-03-01T10:00:00.000000Z", env))
    assert info.value.code == "integrity.leaf"
    assert info.value.reason == code
