"""Evidence bundles: each tampering test alters a copy of one exported bundle the way an
attacker would and checks that ``verify_bundle`` names the member and what is wrong."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.checkpoint import NoteSigner, sign_note, split_note
from ledger.keys import PrivateKey
from provenance.bundle import (
    verify_bundle,
)
from tests.provenance.bundle_support import (
    Exported,
    manifest_of,
    messages,
    middle_seq,
    put_manifest,
    read_members,
    tamper,
    write_members,
)
from tests.support import World

# --------------------------------------------------------------------------- tampering


def _flip_leaf_byte(m: dict[str, bytes]) -> None:
    name = f"leaves/{middle_seq(m)}.json"
    data = bytearray(m[name])
    i = data.index(b'"received_at":"') + len(b'"received_at":"') + 3
    data[i] = ord("7") if data[i] != ord("7") else ord("8")
    m[name] = bytes(data)


def _remove_leaf(m: dict[str, bytes]) -> None:
    del m[f"leaves/{middle_seq(m)}.json"]


def _flip_proof(m: dict[str, bytes]) -> None:
    manifest = manifest_of(m)
    entry = next(e for e in manifest["entries"] if e["seq"] == middle_seq(m))
    h = entry["proof"][0]
    entry["proof"][0] = ("1" if h[0] != "1" else "2") + h[1:]
    put_manifest(m, manifest)


def _edit_checkpoint(line: int, value: Callable[[str], str]) -> Callable[[dict[str, bytes]], None]:
    def edit(m: dict[str, bytes]) -> None:
        manifest = manifest_of(m)
        text, _ = split_note(manifest["checkpoint"])
        lines = text.split("\n")
        lines[line] = value(lines[line])
        manifest["checkpoint"] = manifest["checkpoint"].replace(text, "\n".join(lines), 1)
        put_manifest(m, manifest)

    return edit


def _other_root(b64: str) -> str:
    return base64.b64encode(hashlib.sha256(b64.encode()).digest()).decode()


def _resign(m: dict[str, bytes]) -> None:
    from ledger.checkpoint import verifier_key

    manifest = manifest_of(m)
    text, _ = split_note(manifest["checkpoint"])
    origin = text.split("\n")[0]
    impostor = NoteSigner(origin, PrivateKey.generate().seed)
    manifest["checkpoint"] = sign_note(text, origin, impostor.sign, impostor.public_key)
    manifest["verifier_key"] = verifier_key(origin, impostor.public_key)
    put_manifest(m, manifest)


def _doc_name(m: dict[str, bytes], file: str) -> str:
    manifest = manifest_of(m)
    sha = next(d["sha256"] for d in manifest["documents"] if d["name"] == file)
    return f"documents/{sha}"


def _change_document(m: dict[str, bytes]) -> None:
    name = _doc_name(m, "invoice-gin-spinner.pdf")
    m[name] = m[name].replace(b"G-77", b"G-78")


def _remove_document(m: dict[str, bytes]) -> None:
    del m[_doc_name(m, "bol-mill-factory.pdf")]


def _expect_leaf(m: dict[str, bytes]) -> str:
    return f"leaves/{middle_seq(m)}.json"


def _says_leaf_hash(m: dict[str, bytes]) -> str:
    return f"{_expect_leaf(m)}: leaf hash does not match the manifest"


def _says_leaf_missing(m: dict[str, bytes]) -> str:
    return f"{_expect_leaf(m)}: listed in the manifest but missing from the bundle"


def _says_proof(m: dict[str, bytes]) -> str:
    seq = middle_seq(m)
    return f"manifest.json: inclusion proof for seq {seq} does not verify against the checkpoint"


def _says_checkpoint(m: dict[str, bytes]) -> str:
    return "manifest.json: the checkpoint is not validly signed by the operator key"


def _says_document_hash(m: dict[str, bytes]) -> str:
    return f"{_doc_name(m, 'invoice-gin-spinner.pdf')}: content hash is "


def _says_document_absent(m: dict[str, bytes]) -> str:
    name = _doc_name(m, "bol-mill-factory.pdf")
    return f"{name}: 'bol-mill-factory.pdf' (bill_of_lading) is referenced by 1 statement(s)"


TAMPERING = [
    pytest.param(_flip_leaf_byte, _says_leaf_hash, id="leaf-byte-changed"),
    pytest.param(_remove_leaf, _says_leaf_missing, id="leaf-removed"),
    pytest.param(_flip_proof, _says_proof, id="proof-hash-changed"),
    pytest.param(_resign, _says_checkpoint, id="checkpoint-resigned-with-another-key"),
    pytest.param(
        _edit_checkpoint(1, lambda s: str(int(s) + 1)),
        _says_checkpoint,
        id="checkpoint-size-edited",
    ),
    pytest.param(_edit_checkpoint(2, _other_root), _says_checkpoint, id="checkpoint-root-edited"),
    pytest.param(_change_document, _says_document_hash, id="document-bytes-changed"),
    pytest.param(_remove_document, _says_document_absent, id="document-removed"),
]


@pytest.mark.parametrize(("edit", "expected"), TAMPERING)
def test_tampering_is_detected_and_named(
    exported: Exported,
    tmp_path: Path,
    edit: Callable[[dict[str, bytes]], None],
    expected: Callable[[dict[str, bytes]], str],
):
    original = read_members(exported.path)
    want = expected(original)
    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    found = messages(result)
    assert any(m.startswith(want) for m in found), found
    assert result.verdict == "fail"
    assert all(f.severity == "error" for f in result.findings if f.message.startswith(want))


def test_a_leaf_from_another_ledger_is_refused(exported: Exported, foreign: World, tmp_path: Path):
    members = read_members(exported.path)
    manifest = manifest_of(members)
    present = {e["seq"] for e in manifest["entries"]}
    seq = next(s for s in range(1, foreign.ledger.size()) if s not in present)
    proof = foreign.ledger.prove(seq)
    members[f"leaves/{seq}.json"] = foreign.ledger.leaf(seq)
    manifest["entries"].append(
        {
            "seq": seq,
            "leaf_hash": proof.leaf_hash.hex(),
            "proof": [h.hex() for h in proof.proof],
            "path": f"leaves/{seq}.json",
        }
    )
    put_manifest(members, manifest)
    result = verify_bundle(write_members(tmp_path / "t.zip", members), operator_key=exported.key)
    assert (
        f"manifest.json: inclusion proof for seq {seq} does not verify against the checkpoint"
        in " ".join(messages(result))
    )
    assert result.verdict == "fail"
    # the foreign statement was left out of the rules: its lot appears nowhere
    assert result.report is not None
    assert "farm-tx/other" not in json.dumps(result.to_json())


def test_a_leaf_added_without_a_manifest_entry_is_flagged(
    exported: Exported, foreign: World, tmp_path: Path
):
    members = read_members(exported.path)
    members["leaves/999.json"] = foreign.ledger.leaf(3)
    result = verify_bundle(write_members(tmp_path / "t.zip", members), operator_key=exported.key)
    assert "leaves/999.json: not listed in the manifest; ignored" in messages(result)
    assert result.verdict == "fail"


def test_a_resigned_checkpoint_verifies_only_when_the_key_is_not_pinned(
    exported: Exported, tmp_path: Path
):
    path = tamper(exported, tmp_path, _resign)
    unpinned = verify_bundle(path)
    assert unpinned.pinned is False
    assert not any("checkpoint" in m for m in messages(unpinned))
    pinned = verify_bundle(path, operator_key=exported.key)
    assert pinned.pinned is True
    assert any("not validly signed" in m for m in messages(pinned))


def test_report_json_edited_to_pass_does_not_change_the_verdict(exported: Exported, tmp_path: Path):
    clean = verify_bundle(exported.path, operator_key=exported.key)

    def edit(m: dict[str, bytes]) -> None:
        report = json.loads(m["report.json"])
        report["verdict"] = "pass"
        report["findings"] = []
        m["report.json"] = json.dumps(report).encode()

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict == clean.verdict == "fail"
    warning = [f for f in result.findings if f.message.startswith("report.json:")]
    assert len(warning) == 1
    assert warning[0].rule == "INTEGRITY"
    assert warning[0].severity == "warning"
    assert "it says verdict 'pass', recomputed 'fail'" in warning[0].message
    rest = [f for f in result.findings if f is not warning[0]]
    assert [f.to_json() for f in rest] == [f.to_json() for f in clean.findings]


def test_report_html_edited_is_flagged_and_ignored(exported: Exported, tmp_path: Path):
    def edit(m: dict[str, bytes]) -> None:
        m["report.html"] = m["report.html"].replace(b"verdict-fail", b"verdict-pass")

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict == "fail"
    assert any(m.startswith("report.html: differs") for m in messages(result))


def test_removing_the_xinjiang_evidence_entirely_cannot_make_it_pass(
    exported: Exported, tmp_path: Path
):
    """What a bundle cannot prove offline: omissions. Still, a lot without its
    origin does not trace, so the verdict never becomes ``pass``."""

    def edit(m: dict[str, bytes]) -> None:
        manifest = manifest_of(m)
        keep = []
        for e in manifest["entries"]:
            leaf = m[e["path"]]
            if b"farm-xj" in base64.b64decode(json.loads(leaf)["envelope"]["payload"]) and (
                b'"transform"' not in base64.b64decode(json.loads(leaf)["envelope"]["payload"])
            ):
                del m[e["path"]]
                continue
            keep.append(e)
        manifest["entries"] = keep
        put_manifest(m, manifest)

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict != "pass"
    assert "HIGH-RISK-REGION" not in {f.rule for f in result.findings}
    assert any("farm-xj/seed-1" in f.message for f in result.findings if f.rule == "UNTRACED")
