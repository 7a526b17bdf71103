"""Ed25519 keys: files, kids, libsodium verification against Wycheproof, weak keys."""

import base64
import hashlib
import json
import os
import stat

import pytest

from ledger.errors import KeyFormatError, SignatureError
from ledger.keys import (
    PrivateKey,
    Verifier,
    check_public_key,
    is_valid_signature,
    kid_of,
    load_private_key,
    load_public_key,
    public_key_from_b64,
    save_private_key,
    save_public_key,
    verify_signature,
)
from ledger.note import NoteSigner, NoteVerifier
from tests.conftest import SHARED

WYCHEPROOF = json.loads((SHARED / "vectors/ed25519/wycheproof_ed25519_test.json").read_text())
CASES = [(g["publicKey"]["pk"], t) for g in WYCHEPROOF["testGroups"] for t in g["tests"]]


@pytest.mark.parametrize(("pk", "case"), CASES, ids=[f"tc{t['tcId']}" for _, t in CASES])
def test_wycheproof_verification(pk, case):
    public = bytes.fromhex(pk)
    sig, msg = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
    if case["result"] == "valid":
        verify_signature(public, sig, msg)
    else:
        with pytest.raises(SignatureError):
            verify_signature(public, sig, msg)


@pytest.mark.parametrize(("pk", "case"), CASES, ids=[f"tc{t['tcId']}" for _, t in CASES])
def test_every_ed25519_verifier_reaches_the_same_verdict(pk, case):
    """The envelope path, the Verifier object and C2SP note keys all verify through
    ledger.keys, so they agree with each other and with Wycheproof on every edge case."""
    public = bytes.fromhex(pk)
    sig, msg = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
    expected = case["result"] == "valid"
    assert is_valid_signature(public, sig, msg) is expected
    assert Verifier(public).is_valid(sig, msg) is expected
    assert NoteVerifier("custody.test/log", public).verify(msg, sig) is expected


def test_note_keys_sign_and_verify_through_ledger_keys():
    signer = NoteSigner("custody.test/log", bytes(range(32)))
    key = PrivateKey(bytes(range(32)))
    assert signer.public_key == key.public_key
    assert signer.sign(b"text\n") == key.sign(b"text\n")
    verifier = NoteVerifier(signer.name, signer.public_key)
    assert verifier.verifier == Verifier(key.public_key)
    with pytest.raises(SignatureError):
        verifier.verifier.verify(signer.sign(b"text\n"), b"other\n")


SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
]


@pytest.mark.parametrize("hex_key", SMALL_ORDER)
def test_small_order_public_keys_are_refused(hex_key):
    with pytest.raises(KeyFormatError) as e:
        check_public_key(bytes.fromhex(hex_key))
    assert e.value.code == "invalid_key.weak"


def test_non_canonical_encoding_is_refused():
    # y = p (2^255 - 19) encoded without reduction: a non-canonical encoding of 0
    non_canonical = (2**255 - 19).to_bytes(32, "little")
    with pytest.raises(KeyFormatError):
        check_public_key(non_canonical)


def test_wrong_length_and_bad_base64():
    with pytest.raises(KeyFormatError, match="32 bytes"):
        check_public_key(b"\x01" * 31)
    with pytest.raises(KeyFormatError, match="base64"):
        public_key_from_b64("not base64!")


def test_kid_is_sha256_of_raw_public_key():
    key = PrivateKey.generate()
    assert key.kid == hashlib.sha256(key.public_key).hexdigest() == kid_of(key.public_key)


def test_key_files_round_trip_with_mode_0600(tmp_path):
    key = PrivateKey.generate()
    path = tmp_path / "k.key"
    save_private_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_private_key(path).public_key == key.public_key
    save_public_key(tmp_path / "k.pub", key.public_key)
    assert (tmp_path / "k.pub").read_text().strip() == base64.b64encode(key.public_key).decode()
    assert load_public_key(tmp_path / "k.pub") == key.public_key
    with pytest.raises(KeyFormatError, match="refusing to overwrite"):
        save_private_key(path, key)


def test_world_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "k.key"
    save_private_key(path, PrivateKey.generate())
    os.chmod(path, 0o644)
    with pytest.raises(KeyFormatError, match="world-accessible"):
        load_private_key(path)


def test_passphrase_encrypted_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTODY_KEY_PASSPHRASE", "correct horse")
    key = PrivateKey.generate()
    path = tmp_path / "k.key"
    save_private_key(path, key)
    assert b"ENCRYPTED" in path.read_bytes()
    assert load_private_key(path).seed == key.seed
    monkeypatch.setenv("CUSTODY_KEY_PASSPHRASE", "wrong")
    with pytest.raises(KeyFormatError):
        load_private_key(path)
    monkeypatch.delenv("CUSTODY_KEY_PASSPHRASE")
    with pytest.raises(KeyFormatError, match="CUSTODY_KEY_PASSPHRASE"):
        load_private_key(path)


def test_signature_round_trip_and_tamper():
    key = PrivateKey.generate()
    sig = key.sign(b"data")
    verify_signature(key.public_key, sig, b"data")
    with pytest.raises(SignatureError):
        verify_signature(key.public_key, sig, b"datA")
    with pytest.raises(SignatureError, match="64 bytes"):
        verify_signature(key.public_key, sig[:63], b"data")
