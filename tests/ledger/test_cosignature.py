"""cosignature/v1 (c2sp.org/tlog-cosignature): the spec's published example, keys and
timestamps of an independent implementation (transparency-dev/formats' note tests),
signatures checked against a second Ed25519 implementation (pyca/cryptography), and
the quorum count."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_note, verifier_key
from ledger.cosignature import (
    Cosigner,
    CosignerVerifier,
    cosignature_message,
    cosigner_key_hash,
    count_cosigners,
    parse_cosignature,
    parse_cosigner_key,
)
from ledger.errors import NoteError
from ledger.keys import PrivateKey
from ledger.note import NoteSignature, split_note

# c2sp.org/tlog-cosignature, "Below is an example of a checkpoint that contains a cosignature."
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrD"
    "JsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def test_spec_example_parses_with_the_spec_timestamp() -> None:
    body, sigs = split_note(SPEC_EXAMPLE)
    assert body.startswith("example.com/behind-the-sofa\n20852163\n")
    cosig = parse_cosignature(sigs[1])
    assert cosig.name == "witness.example.com/w1"
    # the spec's signed message shows "time 1679315147"
    assert cosig.timestamp == 1679315147
    assert cosig.key_hash.hex() == "8d66cf3f"
    assert len(cosig.signature) == 64
    # the log's own (0x01) signature is 64 bytes: not a cosignature
    with pytest.raises(NoteError):
        parse_cosignature(sigs[0])


def test_spec_signed_message_layout() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


# transparency-dev/formats note/note_cosigv1_test.go, TestCoSigV1NewVerifier
FORMATS_COSIG_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
FORMATS_ED25519_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
# ... TestCosignatureTimestamp
FORMATS_TIMESTAMPED = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFi"
    "EBYJXORmnFBOBA=="
)
FORMATS_PLAIN = (
    "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="
)


def test_independent_verifier_keys() -> None:
    v = parse_cosigner_key(FORMATS_COSIG_VKEY)
    assert v.name == "remora.n621.de"
    assert v.key_hash.hex() == "da77ade7"
    assert v.vkey == FORMATS_COSIG_VKEY
    converted = parse_cosigner_key(FORMATS_ED25519_VKEY)  # a 0x01 key used as a cosigner
    assert converted.name == "TEST"
    assert converted.vkey.startswith("TEST+")
    assert converted.key_hash == cosigner_key_hash("TEST", converted.public_key)


@pytest.mark.parametrize(
    "bad",
    [
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
        "remora.n621.de+00000000+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
        "remora.n621.de+da77ade7+A+vN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    ],
)
def test_bad_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError) as e:
        parse_cosigner_key(bad)
    assert e.value.code.startswith("invalid_note")


def test_independent_timestamps() -> None:
    raw = base64.b64decode(FORMATS_TIMESTAMPED)
    sig = NoteSignature("w", raw[:4], raw[4:])
    assert parse_cosignature(sig).timestamp == 1727964367
    raw = base64.b64decode(FORMATS_PLAIN)
    with pytest.raises(NoteError):
        parse_cosignature(NoteSignature("w", raw[:4], raw[4:]))


def _operator_note() -> tuple[str, str, PrivateKey]:
    key = PrivateKey(bytes(range(32)))
    body = Checkpoint("custody.test/ledger", 5, hashlib.sha256(b"r").digest()).body()
    return body, sign_note(body, "custody.test/ledger", key.sign, key.public_key), key


def test_cosignature_agrees_with_a_second_ed25519_implementation() -> None:
    body, note, _ = _operator_note()
    seed = bytes([7]) * 32
    cosigner = Cosigner("witness.test/w1", PrivateKey(seed))
    line = cosigner.cosign(body, 1_700_000_000).line()
    assert line.startswith("— witness.test/w1 ")
    raw = base64.b64decode(line.split(" ")[2])
    # key ID per the spec, computed by hand here
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert raw[:4] == hashlib.sha256(b"witness.test/w1\n\x04" + pub).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    message = b"cosignature/v1\ntime 1700000000\n" + body.encode()
    Ed25519PublicKey.from_public_bytes(pub).verify(raw[12:], message)  # raises if wrong

    # and the other way round: a line made by pyca/cryptography verifies here
    other = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
    opub = other.public_key().public_bytes_raw()
    t = 1_800_000_000
    sig = other.sign(b"cosignature/v1\ntime 1800000000\n" + body.encode())
    kid = hashlib.sha256(b"witness.test/w2\n\x04" + opub).digest()[:4]
    w2_line = f"— witness.test/w2 {base64.b64encode(kid + t.to_bytes(8, 'big') + sig).decode()}\n"
    cosigned = note + line + w2_line
    w1 = cosigner.verifier
    w2 = CosignerVerifier("witness.test/w2", opub)
    counted = count_cosigners(cosigned, [w1, w2])
    assert counted.count == 2
    assert dict(counted.valid) == {w1.vkey: 1_700_000_000, w2.vkey: t}
    # the operator's signature still opens; cosignature lines are unknown keys to it
    op_key = PrivateKey(bytes(range(32)))
    vkey = verifier_key("custody.test/ledger", op_key.public_key)
    from ledger.checkpoint import parse_verifier_key

    assert open_checkpoint(cosigned, parse_verifier_key(vkey)).size == 5


def test_quorum_counts_distinct_keys_and_only_valid_lines() -> None:
    body, note, _ = _operator_note()
    w1 = Cosigner("w1.test", PrivateKey(bytes([1]) * 32))
    w2 = Cosigner("w2.test", PrivateKey(bytes([2]) * 32))
    line1 = w1.cosign(body, 100).line()
    # the same witness twice in the note, and the same key trusted under two names
    twice = note + line1 + w1.cosign(body, 101).line()
    alias = CosignerVerifier("alias.test", w1.verifier.public_key)
    counted = count_cosigners(twice, [w1.verifier, w1.verifier, alias])
    assert counted.count == 1
    assert counted.valid[0][1] == 101
    # a line that names w2 but was signed by w1's key does not count
    forged = NoteSignature("w2.test", w2.verifier.key_hash, w1.cosign(body, 5).signature)
    counted = count_cosigners(note + line1 + forged.line(), [w1.verifier, w2.verifier])
    assert counted.count == 1
    assert counted.invalid == (w2.verifier.vkey,)
    # a cosignature over another checkpoint does not count for this one
    other_body = Checkpoint("custody.test/ledger", 6, bytes(32)).body()
    moved = note + w2.cosign(other_body, 7).line()
    assert count_cosigners(moved, [w2.verifier]).count == 0
    # a wrong key: the witness the auditor trusts is not the one that signed
    stranger = Cosigner("w1.test", PrivateKey(bytes([3]) * 32))
    counted = count_cosigners(note + stranger.cosign(body, 9).line(), [w1.verifier])
    assert counted.count == 0
    assert counted.missing == (w1.verifier.vkey,)  # another key id: not even a claim


def test_timestamp_and_body_limits() -> None:
    with pytest.raises(NoteError):
        cosignature_message("a\n", 1 << 63)
    with pytest.raises(NoteError):
        cosignature_message("no newline", 1)
