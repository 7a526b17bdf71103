"""The unsigned manifest is validated whole before use; unverified contents are never used.

Issue 10 items 4, 6 and 9: an edited manifest of any shape is a clean INTEGRITY
verdict (never a TypeError); unknown keys and ``NaN`` are refused; a checkpoint
that fails its signature check ends the verification (nothing it says is used,
no leaf is parsed, so a 100,000-deep leaf cannot crash it); a seq beyond the
checkpoint is its own finding.
"""

# ruff: noqa: E501 (one malformation per line)
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger import merkle
from ledger.checkpoint import Checkpoint, NoteSigner, sign_note, verifier_key
from ledger.keys import PrivateKey
from provenance.bundle import ManifestError, parse_manifest, verify_bundle
from tests.provenance.bundle_support import (
    Exported,
    manifest_of,
    messages,
    put_manifest,
    read_members,
    write_members,
)


def _edited(exported: Exported, tmp: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    members = read_members(exported.path)
    manifest = manifest_of(members)
    edit(manifest)
    put_manifest(members, manifest)
    return write_members(tmp / "edited.zip", members)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(m: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = m
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return edit


MALFORMED = [
    pytest.param(_set("missing_documents", [{"sha256": ["a"]}]), "missing_documents[0]", id="sha-list"),
    pytest.param(
        _set("missing_documents", [{"sha256": ["a"], "name": "x", "kind": "invoice"}]),
        "missing_documents[0].sha256 is not 64 lowercase hex digits",
        id="sha-list-complete",
    ),
    pytest.param(_set("extra", 1), "has unknown key(s) 'extra'", id="unknown-top-key"),
    pytest.param(_set("entries.0.extra", 1), "entries[0] has unknown key(s)", id="unknown-entry-key"),
    pytest.param(_set("report", {"json": "report.json", "pdf": "x"}), "report has unknown", id="unknown-report-key"),
    pytest.param(_set("subject", 5), "subject is not a non-empty string", id="subject-int"),
    pytest.param(_set("subject", ""), "subject is not a non-empty string", id="subject-empty"),
    pytest.param(_set("entry_number", ["x"]), "entry_number is not a string or null", id="entry-list"),
    pytest.param(_set("entries", {}), "entries is not a list", id="entries-object"),
    pytest.param(_set("entries.0.seq", True), "entries[0].seq is not a non-negative integer", id="seq-bool"),
    pytest.param(_set("entries.0.seq", -1), "entries[0].seq is not a non-negative integer", id="seq-negative"),
    pytest.param(_set("entries.0.proof", "ab"), "entries[0].proof is not a list", id="proof-str"),
    pytest.param(_set("entries.0.proof", [1]), "entries[0].proof[0] is not 64 lowercase hex", id="proof-int"),
    pytest.param(_set("entries.0.leaf_hash", None), "entries[0].leaf_hash is not 64", id="hash-null"),
    pytest.param(_set("documents.0.size", -1), "documents[0].size is not a non-negative integer", id="size-negative"),
    pytest.param(_set("documents.0.size", 1.5), "documents[0].size is not a non-negative integer", id="size-float"),
    pytest.param(_set("documents.0.path", "documents/../x"), "documents[0].path is not", id="doc-path"),
    pytest.param(_set("documents.0", "x"), "documents[0] is not an object", id="doc-str"),
    pytest.param(_set("missing_documents", [{"sha256": "0" * 64, "name": "n", "kind": "k", "referenced_by": [1]}]),
                 "missing_documents[0].referenced_by[0] is not a string", id="referenced-by-int"),
    pytest.param(_set("spec", "custody-bundle/2"), "spec is 'custody-bundle/2'", id="spec"),
    pytest.param(_set("checkpoint", None), "checkpoint is not a non-empty string", id="checkpoint-null"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "expected"), MALFORMED)
def test_a_malformed_manifest_is_a_clean_integrity_verdict(
    exported: Exported, tmp_path: Path, edit: Callable[[dict[str, Any]], None], expected: str
):
    result = verify_bundle(_edited(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict == "fail"
    (message,) = messages(result)
    assert message.startswith("manifest.json: "), message
    assert expected in message
    assert result.report is None


def test_nan_and_duplicate_keys_are_refused(exported: Exported, tmp_path: Path):
    members = read_members(exported.path)
    text = members["manifest.json"].decode()
    for bad, why in [
        (text.replace('"size": ', '"size": NaN, "x": ', 1), "NaN is not JSON"),
        (text.replace('"spec":', '"subject": "other/lot",\n "spec":', 1), "duplicate key"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
    ]:
        members["manifest.json"] = bad.encode()
        result = verify_bundle(
            write_members(tmp_path / "t.zip", members), operator_key=exported.key
        )
        (message,) = messages(result)
        assert message.startswith("manifest.json: not valid JSON"), message
        assert why in message
    with pytest.raises(ManifestError):
        parse_manifest(b'{"spec": "custody-bundle/1", "subject": NaN}')


def _forged_bundle(tmp: Path, origin: str, leaf: bytes) -> tuple[Path, str]:
    """A bundle whose one leaf is ``leaf``, proven against a checkpoint signed by an impostor
    key under the genuine origin; returns the path and the impostor's verifier key."""
    impostor = NoteSigner(origin, PrivateKey.generate().seed)
    root = merkle.leaf_hash(leaf)
    text = Checkpoint(origin, 1, root).body()
    note = sign_note(text, origin, impostor.sign, impostor.public_key)
    vkey = verifier_key(origin, impostor.public_key)
    manifest = {
        "spec": "custody-bundle/1",
        "subject": "importer/tshirts-1",
        "entry_number": None,
        "created": "2026-04-01T12:00:00.000000Z",
        "checkpoint": note,
        "verifier_key": vkey,
        "entries": [{"seq": 0, "leaf_hash": root.hex(), "proof": [], "path": "leaves/0.json"}],
    }
    members = {"manifest.json": json.dumps(manifest).encode(), "leaves/0.json": leaf}
    return write_members(tmp / "forged.zip", members), vkey


def test_a_deep_leaf_behind_a_forged_checkpoint_is_never_parsed(exported: Exported, tmp_path: Path):
    origin = exported.key.partition("+")[0]
    deep = b"[" * 100_000 + b"]" * 100_000
    path, impostor = _forged_bundle(tmp_path, origin, deep)
    pinned = verify_bundle(path, operator_key=exported.key)
    assert pinned.verdict == "fail"
    (message,) = messages(pinned)
    assert "the checkpoint is not validly signed by the operator key" in message
    assert "nothing it says was used and no leaf was read" in message
    assert pinned.checkpoint is None  # the unverified checkpoint is not reported as if it held
    assert pinned.report is None
    assert pinned.entries == 0
    # with the impostor's own key the checkpoint holds, the leaf is proven and read: still clean
    unpinned = verify_bundle(path, operator_key=impostor)
    assert unpinned.verdict == "fail"
    assert any("leaf" in m or "leaves" in m or "subject" in m for m in messages(unpinned))


def test_a_seq_beyond_the_checkpoint_is_its_own_finding(exported: Exported, tmp_path: Path):
    members = read_members(exported.path)
    manifest = manifest_of(members)
    size = exported.summary.checkpoint.size
    # 30 bad proofs (more than are listed one by one) and one seq beyond the tree
    for entry in manifest["entries"][1:31]:
        h = entry["proof"][0]
        entry["proof"][0] = ("1" if h[0] != "1" else "2") + h[1:]
    last = manifest["entries"][-1]
    leaf = members.pop(last["path"])
    last["seq"], last["path"] = size + 5, f"leaves/{size + 5}.json"
    members[last["path"]] = leaf
    put_manifest(members, manifest)
    result = verify_bundle(write_members(tmp_path / "t.zip", members), operator_key=exported.key)
    beyond = [f for f in result.integrity if f.details.get("check") == "seq"]
    assert [f.message for f in beyond] == [
        f"manifest.json: seq {size + 5} is not below the checkpoint's tree size {size}: "
        "the checkpoint cannot include it"
    ]
    assert beyond[0].severity == "error"
    assert result.verdict == "fail"
