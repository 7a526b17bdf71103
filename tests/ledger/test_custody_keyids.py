"""DSSE keyids are unauthenticated hints: ``name_signing_keys`` names a signature whose
keyid is missing or foreign (securesystemslib's own keyid scheme) by the custody key
that verifies it, against the real store; nothing else changes."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner

from ledger.custody import MAX_TRIALS, name_signing_keys
from ledger.envelope import EnvelopeSignature, parse_envelope, sign_envelope
from ledger.keys import PrivateKey, is_valid_signature
from ledger.leaf import decode_leaf
from ledger.statements import parse_statement
from tests.support import World


def _named(world: World, env):
    with world.ledger.store.read() as r:
        return name_signing_keys(env, parse_statement(env.payload), r, is_valid_signature)


def _key_statement(gin) -> bytes:
    return gin.payload("key", party="gin", public_key=PrivateKey.generate().public_key_b64)


def test_securesystemslib_default_keyid_is_named_by_the_custody_key(world: World) -> None:
    gin = world.party("gin")
    signer = CryptoSigner(Ed25519PrivateKey.from_private_bytes(gin.key.seed))
    assert signer.public_key.keyid != gin.key.kid  # securesystemslib's own keyid scheme
    theirs = SslibEnvelope(_key_statement(gin), "application/vnd.custody.statement+json", {})
    theirs.sign(signer)
    env = parse_envelope(json.dumps(theirs.to_dict()))
    named = _named(world, env)
    assert [s.keyid for s in named.signatures] == [gin.key.kid]
    assert named.payload == env.payload
    assert named.signatures[0].sig == env.signatures[0].sig
    (res,) = world.ledger.submit([env])  # the append path names it the same way
    assert res.error is None, res.error
    assert res.seq is not None
    stored = decode_leaf(world.ledger.leaf(res.seq)).envelope
    assert stored.signatures == named.signatures


def test_a_missing_keyid_is_named_and_known_keyids_are_left_alone(world: World) -> None:
    gin, farm = world.party("gin"), world.party("farm")
    env = sign_envelope(_key_statement(gin), [gin.key, farm.key])
    assert _named(world, env) is env  # every keyid names a registered key
    blank = env.__class__(
        env.payload_type,
        env.payload,
        (EnvelopeSignature("", env.signatures[0].sig), env.signatures[1]),
    )
    named = _named(world, blank)
    assert named.signatures == env.signatures


def test_a_signature_no_signing_party_key_verifies_keeps_its_keyid(world: World) -> None:
    gin, farm = world.party("gin"), world.party("farm")
    env = sign_envelope(_key_statement(gin), [farm.key])  # farm is not the issuer
    foreign = env.__class__(
        env.payload_type, env.payload, (EnvelopeSignature("", env.signatures[0].sig),)
    )
    assert _named(world, foreign) is foreign
    (res,) = world.ledger.submit([foreign])
    assert res.error is not None
    assert res.error.code == "bad_signature.unknown_key"


def test_trials_are_bounded(world: World) -> None:
    gin = world.party("gin")
    calls: list[int] = []

    def counting(pk: bytes, sig: bytes, msg: bytes) -> bool:
        calls.append(1)
        return is_valid_signature(pk, sig, msg)

    env = sign_envelope(_key_statement(gin), [gin.key])
    junk = tuple(EnvelopeSignature("", bytes([i]) * 64) for i in range(MAX_TRIALS * 3))
    noisy = env.__class__(env.payload_type, env.payload, junk)
    with world.ledger.store.read() as r:
        assert name_signing_keys(noisy, parse_statement(env.payload), r, counting) is noisy
    assert len(calls) == MAX_TRIALS


def test_known_kids_spare_the_lookups(world: World) -> None:
    gin = world.party("gin")
    env = sign_envelope(_key_statement(gin), [gin.key])

    class NoLookups:
        def __getattr__(self, name: str):
            raise AssertionError(f"looked up {name}")

    stmt = parse_statement(env.payload)
    assert name_signing_keys(env, stmt, NoLookups(), known={gin.key.kid}) is env  # type: ignore[arg-type]
