"""C2SP signed-note and tlog-checkpoint: external vectors, named cases, round trips."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger import checkpoint as cp
from ledger.errors import NoteError
from ledger.merkle import leaf_hash
from tests.conftest import SHARED

VECTORS = SHARED / "vectors" / "signed-note"
DATA = json.loads((VECTORS / "notes.json").read_text(encoding="utf-8"))
DASH = "\u2014"


def _signer(name: str, seed_byte: int) -> cp.NoteSigner:
    return cp.NoteSigner(name, bytes([seed_byte]) * 32)


def _sign(text: str, signer: cp.NoteSigner) -> str:
    return cp.sign_note(text, signer.name, signer.sign, signer.public_key)


def _verifier(signer: cp.NoteSigner) -> cp.NoteVerifier:
    return cp.NoteVerifier(signer.name, signer.public_key)


# --- vectors: keys -----------------------------------------------------------


@pytest.mark.parametrize(
    "pair", DATA["key_pairs"], ids=[p["vkey"].split("+")[0] for p in DATA["key_pairs"]]
)
def test_key_pair_vector(pair):
    verifier = cp.parse_verifier_key(pair["vkey"])
    signer = cp.parse_signer_key(pair["skey"])
    assert (signer.name, signer.public_key, signer.key_hash) == (
        verifier.name,
        verifier.public_key,
        verifier.key_hash,
    )
    assert cp.verifier_key(verifier.name, verifier.public_key) == pair["vkey"]
    assert cp.signer_key(signer.name, signer.seed) == pair["skey"]
    assert signer.seed.hex() not in repr(signer)


@pytest.mark.parametrize("bad", DATA["bad_vkeys"], ids=[b["why"] for b in DATA["bad_vkeys"]])
def test_bad_verifier_key_vector(bad):
    with pytest.raises(NoteError) as info:
        cp.parse_verifier_key(bad["vkey"])
    assert info.value.code == "invalid_note.key"


# --- vectors: notes ----------------------------------------------------------


def _note(case) -> str:
    if case["note"] is not None:
        return str(case["note"])
    # golang/mod TestOpen: "ABCD" inserted at byte offset 60 of the signature line.
    good = next(c for c in DATA["notes"] if c["id"] == "golang-mod/PeterNeumann-sign")
    text = str(good["text"]).encode()
    line = str(good["note"]).encode()[len(text) + 1 :]
    return (text + b"\n" + line[:60] + b"ABCD" + line[60:]).decode()


@pytest.mark.parametrize("case", DATA["notes"], ids=[c["id"] for c in DATA["notes"]])
def test_note_vector(case):
    verifier = cp.parse_verifier_key(case["vkey"])
    note = _note(case)
    if case["expect"] == "rejects":
        with pytest.raises(NoteError):
            cp.open_note(note, [verifier])
        return
    opened = cp.open_note(note, [verifier])
    assert opened.signers == (verifier.name,)
    assert note.startswith(opened.text + "\n" + DASH + " ")
    if case["expect"] == "sign_equals_and_verifies":
        signer = cp.parse_signer_key(case["skey"])
        assert opened.text == case["text"]
        assert cp.sign_note(case["text"], signer.name, signer.sign, signer.public_key) == note
        # The same deterministic signature from `cryptography`.
        other = Ed25519PrivateKey.from_private_bytes(signer.seed)
        assert cp.sign_note(case["text"], signer.name, other.sign, signer.public_key) == note
    else:
        assert case["expect"] == "verifies"


def test_benchmark_notes_keep_the_unknown_log_signature():
    case = next(c for c in DATA["notes"] if c["id"] == "formats/benchmark-monkeys")
    opened = cp.open_note(case["note"], [cp.parse_verifier_key(case["vkey"])])
    assert [s.name for s in opened.unverified] == ["sum.golang.org"]
    assert opened.unverified[0].line() in case["note"]


def test_tlog_tree_golden_checkpoint_body():
    golden = DATA["tlog_tree_golden"]
    tree = cp.Checkpoint(golden["text"].split("\n")[0], golden["size"], leaf_hash(b"hello world"))
    assert tree.body() == golden["text"]
    assert cp.parse_checkpoint(golden["text"]) == tree


def test_cosignature_example_is_kept_as_unverified():
    example = DATA["cosignature_example"]
    note = example["checkpoint_body"] + "\n" + example["line"] + "\n"
    text, (sig,) = cp.split_note(note)
    assert text == example["checkpoint_body"]
    assert sig.name == "witness.example.com/w1"
    assert int.from_bytes(sig.signature[:8], "big") == example["expect_timestamp"]
    assert len(sig.signature) == 8 + 64
    assert sig.line() == example["line"] + "\n"
    with pytest.raises(NoteError) as info:
        cp.open_note(note, [_verifier(_signer("example.com/behind-the-sofa", 1))])
    assert info.value.code == "invalid_note.unverified"
    assert info.value.details["signed_by"] == ["witness.example.com/w1"]


def test_sumdb_checkpoints_need_an_explicit_origin():
    case = next(c for c in DATA["notes"] if c["id"] == "golang-mod/localhost-sumdb-tree6")
    verifier = cp.parse_verifier_key(case["vkey"])
    with pytest.raises(NoteError, match="origin"):
        cp.open_checkpoint(case["note"], verifier)
    tree = cp.open_checkpoint(case["note"], verifier, origin="go.sum database tree")
    assert tree.size == 6
    assert tree.body() == case["text"]


# --- named cases: notes ------------------------------------------------------

LOG = _signer("example.com/log", 1)
WITNESS = _signer("example.com/witness", 2)
TEXT = "example.com/log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
GOOD = _sign(TEXT, LOG)
GOOD_LINE = GOOD[len(TEXT) + 1 :]


def _line(name: str, raw: bytes) -> str:
    return f"{DASH} {name} {base64.b64encode(raw).decode()}\n"


def _bad_sig_by_log() -> str:
    sig = bytearray(LOG.sign(TEXT.encode()))
    sig[0] ^= 1
    return TEXT + "\n" + _line(LOG.name, LOG.key_hash + bytes(sig))


REJECTED = {
    "no-blank-line": TEXT + GOOD_LINE,
    "no-signatures": TEXT + "\n",
    "no-final-newline": GOOD[:-1],
    "hyphen-not-em-dash": TEXT + "\n- " + GOOD_LINE[2:],
    "em-dash-without-space": TEXT + "\n" + DASH + GOOD_LINE[2:],
    "control-character": TEXT.replace("3", "3\t") + "\n" + GOOD_LINE,
    "carriage-return": GOOD.replace("\n", "\r\n"),
    "name-with-plus": TEXT + "\n" + _line("a+b", b"12345"),
    "empty-name": TEXT + "\n" + DASH + "  " + GOOD_LINE.split(" ")[2],
    "bad-base64": GOOD.replace(GOOD_LINE.split(" ")[2][:4], "!!!!"),
    "unpadded-base64": TEXT + "\n" + GOOD_LINE.rstrip("=\n") + "\n",
    "signature-too-short": TEXT + "\n" + _line(LOG.name, LOG.key_hash),
    "truncated-signature-known-key": TEXT + "\n" + _line(LOG.name, LOG.key_hash + b"x" * 10),
    "bad-signature-known-key": _bad_sig_by_log(),
    "bad-signature-beside-good": GOOD + _bad_sig_by_log()[len(TEXT) + 1 :],
    "signature-over-other-text": TEXT.replace("3", "4") + "\n" + GOOD_LINE,
    "only-unknown-keys": _sign(TEXT, WITNESS),
    "same-id-other-name": TEXT + "\n" + GOOD_LINE.replace(LOG.name, "example.com/other"),
    "too-many-signatures": GOOD + GOOD_LINE * cp.MAX_SIGNATURES,
    "too-large": "x" * cp.MAX_NOTE_BYTES + "\n\n" + GOOD_LINE,
}


@pytest.mark.parametrize("note", REJECTED.values(), ids=REJECTED.keys())
def test_open_note_rejects(note: str):
    with pytest.raises(NoteError):
        cp.open_note(note, [_verifier(LOG)])


def test_open_note_rejects_invalid_utf8_bytes():
    with pytest.raises(NoteError, match="UTF-8"):
        cp.open_note(GOOD.encode() + b"\xff", [_verifier(LOG)])


def test_open_note_accepts_bytes_and_reports_codes():
    assert cp.open_note(GOOD.encode(), [_verifier(LOG)]).signers == (LOG.name,)
    with pytest.raises(NoteError) as info:
        cp.open_note(_bad_sig_by_log(), [_verifier(LOG)])
    assert info.value.code == "invalid_note.bad_signature"
    assert info.value.details == {"name": LOG.name, "key_hash": LOG.key_hash.hex()}


def test_text_may_contain_blank_lines():
    text = "first\n\nsecond\n"
    note = _sign(text, LOG)
    assert cp.open_note(note, [_verifier(LOG)]).text == text


def test_unknown_signatures_are_ignored_and_deduplicated():
    note = cp.add_signature(_sign(TEXT, WITNESS), LOG.name, LOG.sign, LOG.public_key)
    note += note[len(TEXT) + 1 :].split("\n")[0] + "\n"  # the witness line again
    opened = cp.open_note(note, [_verifier(LOG)])
    assert opened.signers == (LOG.name,)
    assert [s.name for s in opened.unverified] == [WITNESS.name]


def test_several_known_signers():
    note = cp.add_signature(GOOD, WITNESS.name, WITNESS.sign, WITNESS.public_key)
    opened = cp.open_note(note, [_verifier(WITNESS), _verifier(LOG)])
    assert opened.signers == (LOG.name, WITNESS.name)
    assert opened.unverified == ()


def test_sixteen_signatures_are_accepted():
    note = GOOD
    for i in range(15):
        s = _signer(f"w{i}", 10 + i)
        note = cp.add_signature(note, s.name, s.sign, s.public_key)
    assert len(cp.open_note(note, [_verifier(LOG)]).unverified) == 15


def test_duplicate_verifiers_are_harmless():
    twin = cp.NoteVerifier(LOG.name, LOG.public_key)
    assert cp.open_note(GOOD, [_verifier(LOG), twin]).signers == (LOG.name,)


@pytest.mark.parametrize(
    ("text", "name", "sign"),
    [
        ("no newline", LOG.name, LOG.sign),
        ("tab\there\n", LOG.name, LOG.sign),
        (TEXT, "bad name", LOG.sign),
        (TEXT, LOG.name, WITNESS.sign),
        (TEXT, LOG.name, lambda m: b"short"),
    ],
    ids=["no-newline", "control", "bad-name", "wrong-key", "short-signature"],
)
def test_sign_note_rejects(text, name, sign):
    with pytest.raises(NoteError):
        cp.sign_note(text, name, sign, LOG.public_key)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "nohash",
        "name+zzzzzzzz+AQ==",
        "name+1234567+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
        "na me+12345678+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
        "name+12345678+not base64",
        cp.verifier_key(LOG.name, LOG.public_key).replace("+", "+0", 1)[:-1],
        cp.verifier_key(LOG.name, LOG.public_key)[:-10] + "AAAAAAAAA=",
    ],
    ids=[
        "empty",
        "no-parts",
        "bad-hex",
        "short-hex",
        "space-in-name",
        "bad-base64",
        "long-hex",
        "hash-mismatch",
    ],
)
def test_parse_verifier_key_rejects(key):
    with pytest.raises(NoteError):
        cp.parse_verifier_key(key)


def test_parse_signer_key_rejects():
    good = cp.signer_key(LOG.name, LOG.seed)
    with pytest.raises(NoteError):
        cp.parse_signer_key(good.removeprefix("PRIVATE+KEY+"))
    with pytest.raises(NoteError):
        cp.parse_signer_key(good.replace(LOG.key_hash.hex(), "00000000"))


def test_key_hash_matches_spec_formula():
    import hashlib

    assert (
        cp.key_hash(LOG.name, LOG.public_key)
        == hashlib.sha256(LOG.name.encode() + b"\n\x01" + LOG.public_key).digest()[:4]
    )


# --- named cases: checkpoints ------------------------------------------------

ROOT64 = base64.b64encode(bytes(range(32))).decode()

BAD_BODIES = {
    "leading-zero": f"o\n01\n{ROOT64}\n",
    "plus-sign": f"o\n+1\n{ROOT64}\n",
    "negative-zero": f"o\n-0\n{ROOT64}\n",
    "space": f"o\n 1\n{ROOT64}\n",
    "arabic-digit": f"o\n\u0661\n{ROOT64}\n",
    "empty-size": f"o\n\n{ROOT64}\n",
    "too-big": f"o\n{1 << 64}\n{ROOT64}\n",
    "short-root": f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n",
    "non-canonical-root": f"o\n1\n{ROOT64[:-2]}9=\n",
    "root-not-base64": "o\n1\nnot-base64\n",
    "no-final-newline": f"o\n1\n{ROOT64}",
    "two-lines": "o\n1\n",
    "empty-origin": f"\n1\n{ROOT64}\n",
    "empty-extension": f"o\n1\n{ROOT64}\n\nx\n",
    "blank-line-at-end": f"o\n1\n{ROOT64}\n\n",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_parse_checkpoint_rejects(body: str):
    with pytest.raises(NoteError) as info:
        cp.parse_checkpoint(body)
    assert info.value.code == "invalid_note.checkpoint"


def test_checkpoint_size_zero_and_extensions():
    body = f"o\n0\n{ROOT64}\next one\next two\n"
    tree = cp.parse_checkpoint(body)
    assert (tree.size, tree.extensions) == (0, ("ext one", "ext two"))
    assert tree.body() == body


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root": bytes(32)},
        {"origin": "a\nb", "size": 1, "root": bytes(32)},
        {"origin": "o", "size": -1, "root": bytes(32)},
        {"origin": "o", "size": 1, "root": bytes(31)},
        {"origin": "o", "size": 1, "root": bytes(32), "extensions": ("",)},
    ],
    ids=["empty-origin", "newline-origin", "negative-size", "short-root", "empty-extension"],
)
def test_checkpoint_validates_on_construction(kwargs):
    with pytest.raises(NoteError):
        cp.Checkpoint(**kwargs)


def test_open_checkpoint_round_trip():
    tree = cp.Checkpoint(LOG.name, 42, bytes(range(32)), ("extra",))
    note = _sign(tree.body(), LOG)
    assert cp.open_checkpoint(note, _verifier(LOG)) == tree
    cosigned = cp.add_signature(note, WITNESS.name, WITNESS.sign, WITNESS.public_key)
    assert cp.open_checkpoint(cosigned, _verifier(LOG)) == tree
    with pytest.raises(NoteError, match="no signature by a known key"):
        cp.open_checkpoint(note, _verifier(WITNESS))


def test_open_checkpoint_rejects_other_origin_and_bad_body():
    other = cp.Checkpoint("example.com/other", 1, bytes(32))
    with pytest.raises(NoteError, match="origin"):
        cp.open_checkpoint(_sign(other.body(), LOG), _verifier(LOG))
    with pytest.raises(NoteError, match="checkpoint"):
        cp.open_checkpoint(_sign("just text\n", LOG), _verifier(LOG))


line_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], min_codepoint=0x20), min_size=1
)


@given(
    origin=line_text,
    size=st.integers(min_value=0, max_value=(1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text, max_size=3),
)
def test_checkpoint_body_round_trip(origin, size, root, extensions):
    tree = cp.Checkpoint(origin, size, root, tuple(extensions))
    assert cp.parse_checkpoint(tree.body()) == tree
    note = _sign(tree.body(), LOG)
    assert cp.open_checkpoint(note, _verifier(LOG), origin=origin) == tree
