"""Verification does not wait for its signature checks: the judgement is made with
the verdicts not known yet taken as valid, and made again when one does not hold
(ledger.sigcheck.Guess). The report is the one the real verdicts give."""

import base64
import json

from ledger.envelope import Envelope, EnvelopeSignature
from ledger.keys import PrivateKey
from ledger.sigcheck import Batch, Guess, Triple, verify_serial
from provenance.verify import verify_entries
from tests.provenance.chains import collected_leaves, cotton, rechain
from tests.support import World


class _Late:
    """A verification that is never done until asked for its result."""

    def __init__(self, items: list[Triple]) -> None:
        self.items = items

    def result(self) -> list[bool]:
        return verify_serial(self.items)


class _LateVerifier:
    """A verifier whose checks all run elsewhere (nothing is known before the replay)."""

    def __init__(self) -> None:
        self.asked = 0

    def submit(self, items: list[Triple]) -> _Late:
        self.asked += len(items)
        return _Late(items)

    def __call__(self, items: list[Triple]) -> list[bool]:
        return verify_serial(items)


def _signed(n: int) -> list[Triple]:
    key = PrivateKey(bytes(range(32)))
    return [(key.public_key, key.sign(b"m%d" % i), b"m%d" % i) for i in range(n)]


def test_guess_confirms_when_every_guess_held():
    batch = Batch(_LateVerifier())
    triples = _signed(3)
    for t in triples:
        batch.add(*t)
    guess = batch.guess()
    assert isinstance(guess, Guess)
    assert all(guess(*t) for t in triples)
    assert guess.guessed == triples
    assert guess.confirm() is None


def test_guess_that_does_not_hold_gives_the_memo():
    batch = Batch(_LateVerifier())
    (pk, sig, _msg), other = _signed(2)
    batch.add(pk, sig, b"not what was signed")
    batch.add(*other)
    guess = batch.guess()
    assert guess(pk, sig, b"not what was signed") is True  # guessed
    memo = guess.confirm()
    assert memo is not None
    assert memo(pk, sig, b"not what was signed") is False
    assert memo(*other) is True


def test_verdicts_done_before_the_guess_are_used():
    batch = Batch(verify_serial)  # checks at once: every verdict is known
    (pk, sig, _msg), *_ = _signed(1)
    batch.add(pk, sig, b"other")
    guess = batch.guess()
    assert guess(pk, sig, b"other") is False
    assert guess.guessed == []


def _bad_signature_pairs(world: World) -> tuple[list[tuple[int, bytes]], str]:
    """A leaf whose signature, by the issuer's registered key, does not verify."""
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    seq = chain.seqs["dispatch_lint"]
    old = json.loads(dict(pairs)[seq])["envelope"]
    sig = old["signatures"][0]
    raw = bytearray(base64.b64decode(sig["sig"]))
    raw[0] ^= 1
    envelope = Envelope(
        old["payloadType"],
        base64.b64decode(old["payload"]),
        (EnvelopeSignature(sig["keyid"], bytes(raw)),),
    )
    return rechain(pairs, seq, envelope), chain.subject


def test_a_bad_signature_found_late_gives_the_same_report(world: World):
    pairs, subject = _bad_signature_pairs(world)
    at_once = verify_entries(pairs, subject, verifier=verify_serial)
    late = _LateVerifier()
    guessed = verify_entries(pairs, subject, verifier=late)
    assert late.asked > 0
    codes = [f.details.get("code") for f in at_once.findings if f.rule == "SIGNATURE"]
    assert codes
    assert all(str(c).startswith("bad_signature") for c in codes)
    assert at_once.verdict == guessed.verdict == "fail"
    assert [(f.rule, f.message, f.statements) for f in guessed.findings] == [
        (f.rule, f.message, f.statements) for f in at_once.findings
    ]


def test_clean_trace_checked_late_passes(world: World):
    chain = cotton(world)
    pairs = collected_leaves(world, chain.subject)
    late = _LateVerifier()
    assert verify_entries(pairs, chain.subject, verifier=late).verdict == "pass"
    assert late.asked > 0
