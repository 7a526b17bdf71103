"""DSSE envelopes: PAE, multi-signature, strict parsing."""

import base64
import json

import pytest

from ledger.envelope import (
    PAYLOAD_TYPE,
    pae,
    parse_envelope,
    parse_envelopes,
    sign_envelope,
)
from ledger.errors import EnvelopeError, SignatureError
from ledger.keys import PrivateKey


def test_pae_matches_the_dsse_specification_example():
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_payload_bytes_are_kept_verbatim_and_all_signatures_verify():
    a, b = PrivateKey.generate(), PrivateKey.generate()
    payload = b'{"z": 1,   "a": "\\u00e9"}'
    env = sign_envelope(payload, [a, b])
    again = parse_envelope(env.to_json())
    assert again.payload == payload
    keys = {a.kid: a.public_key, b.kid: b.public_key}
    assert again.verify_with(keys.get) == [a.kid, b.kid]


def test_one_bad_signature_spoils_the_envelope():
    a, b = PrivateKey.generate(), PrivateKey.generate()
    env = sign_envelope(b"{}", [a, b]).to_json_obj()
    env["signatures"][1]["sig"] = base64.b64encode(b"\x00" * 64).decode()
    parsed = parse_envelope(json.dumps(env))
    with pytest.raises(SignatureError, match=r"signatures\[1\]"):
        parsed.verify_with({a.kid: a.public_key, b.kid: b.public_key}.get)


def test_unknown_key_is_reported():
    a = PrivateKey.generate()
    env = sign_envelope(b"{}", [a])
    with pytest.raises(SignatureError) as e:
        env.verify_with(lambda kid: None)
    assert e.value.code == "bad_signature.unknown_key"


GOOD = {
    "payloadType": PAYLOAD_TYPE,
    "payload": base64.b64encode(b"{}").decode(),
    "signatures": [{"keyid": "a" * 64, "sig": base64.b64encode(b"x" * 64).decode()}],
}

BAD = {
    "not json": ("{", "invalid_envelope.json"),
    "array": ("[]", "invalid_envelope.type"),
    "missing payload": (
        json.dumps({k: v for k, v in GOOD.items() if k != "payload"}),
        "invalid_envelope.missing",
    ),
    "wrong payload type": (
        json.dumps({**GOOD, "payloadType": "text/plain"}),
        "invalid_envelope.payload_type",
    ),
    "bad base64 payload": (json.dumps({**GOOD, "payload": "***"}), "invalid_envelope.base64"),
    "no signatures": (json.dumps({**GOOD, "signatures": []}), "invalid_envelope.signatures"),
    "bad keyid": (
        json.dumps({**GOOD, "signatures": [{"keyid": "XYZ", "sig": "AA=="}]}),
        "invalid_envelope.keyid",
    ),
    "bad sig base64": (
        json.dumps({**GOOD, "signatures": [{"keyid": "a" * 64, "sig": "%%"}]}),
        "invalid_envelope.base64",
    ),
    "unpadded base64": (json.dumps({**GOOD, "payload": "e30"}), "invalid_envelope.base64"),
    "mixed base64 alphabets": (json.dumps({**GOOD, "payload": "+-=="}), "invalid_envelope.base64"),
    "deep json": ("[" * 100_000 + "]" * 100_000, "invalid_envelope.json"),
    "duplicate key": ('{"payload": "", "payload": ""}', "invalid_envelope.json"),
    "oversize": ('{"payload": "' + "A" * 300_000 + '"}', "invalid_envelope.size"),
}


@pytest.mark.parametrize("name", list(BAD), ids=list(BAD))
def test_malformed_envelopes_are_refused_with_specific_codes(name):
    text, code = BAD[name]
    with pytest.raises(EnvelopeError) as e:
        parse_envelope(text)
    assert e.value.code == code


def test_parse_envelopes_accepts_one_array_or_json_lines():
    key = PrivateKey.generate()
    e1, e2 = sign_envelope(b"{}", [key]), sign_envelope(b"[]", [key])
    assert len(parse_envelopes(json.dumps(e1.to_json_obj(), indent=2))) == 1
    assert len(parse_envelopes(json.dumps([e1.to_json_obj(), e2.to_json_obj()]))) == 2
    lines = parse_envelopes(e1.to_json() + "\n" + "garbage\n" + e2.to_json() + "\n")
    assert [type(x).__name__ for x in lines] == ["Envelope", "EnvelopeError", "Envelope"]
