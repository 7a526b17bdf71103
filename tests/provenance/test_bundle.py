"""Evidence bundles: export, and offline verification in a fresh process."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from ledger.errors import InputError
from provenance.bundle import (
    SPEC,
    export_bundle,
    verify_bundle,
)
from tests.provenance.bundle_support import (
    CREATED,
    ENTRY,
    SUBJECT,
    Exported,
    build_chain,
    finding_keys,
    manifest_of,
    messages,
    read_members,
    run_cli,
)
from tests.support import World

# --------------------------------------------------------------------------- export


def test_bundle_holds_manifest_leaves_documents_and_reports_in_order(exported: Exported):
    with zipfile.ZipFile(exported.path) as zf:
        names = [i.filename for i in zf.infolist()]
        assert all(i.date_time == (2026, 4, 1, 12, 0, 0) for i in zf.infolist())
    manifest = json.loads(read_members(exported.path)["manifest.json"])
    seqs = [e["seq"] for e in manifest["entries"]]
    shas = sorted(exported.chain.documents.values())
    assert names == [
        "manifest.json",
        *(f"leaves/{s}.json" for s in seqs),
        *(f"documents/{s}" for s in shas),
        "report.json",
        "report.html",
    ]
    assert seqs == sorted(seqs)
    assert seqs[0] == 0
    assert manifest["spec"] == SPEC == "custody-bundle/1"
    assert manifest["subject"] == SUBJECT
    assert manifest["entry_number"] == ENTRY
    assert manifest["created"] == "2026-04-01T12:00:00.000000Z"
    assert manifest["verifier_key"] == exported.key
    assert manifest["checkpoint"] == exported.world.ledger.checkpoint()
    assert manifest["missing_documents"] == []
    assert {d["sha256"] for d in manifest["documents"]} == set(shas)
    for e in manifest["entries"]:
        assert e["path"] == f"leaves/{e['seq']}.json"
        assert e["leaf_hash"] == exported.world.ledger.prove(e["seq"]).leaf_hash.hex()
        assert e["proof"] == [h.hex() for h in exported.world.ledger.prove(e["seq"]).proof]
    # the verbatim leaf bytes, and every statement the verification needs (not the whole ledger)
    members = read_members(exported.path)
    for s in seqs:
        assert members[f"leaves/{s}.json"] == exported.world.ledger.leaf(s)
    assert len(seqs) < exported.world.ledger.size()
    assert exported.summary.entries == len(seqs)
    assert exported.summary.documents == 6
    assert exported.summary.checkpoint.size == exported.world.ledger.size()


def test_export_is_deterministic(exported: Exported, tmp_path: Path):
    again = export_bundle(
        exported.world.ledger,
        SUBJECT,
        tmp_path / "again.zip",
        entry_number=ENTRY,
        documents_dir=exported.world.home.documents,
        created=CREATED,
    )
    assert again.path.read_bytes() == exported.path.read_bytes()


def test_entry_number_must_match_an_import_of_the_lot(exported: Exported, tmp_path: Path):
    with pytest.raises(InputError) as e:
        export_bundle(
            exported.world.ledger, SUBJECT, tmp_path / "x.zip", entry_number="XYZ-0000000-0"
        )
    assert e.value.code == "invalid_input.entry_number"
    assert "XYZ-0000000-0" in e.value.message
    assert ENTRY in e.value.message  # says which entry the lot is declared as
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lot_without_import_can_be_bundled(exported: Exported, tmp_path: Path):
    out = tmp_path / "fabric.zip"
    summary = export_bundle(
        exported.world.ledger, "mill/fabric-1", out, documents_dir=exported.world.home.documents
    )
    result = verify_bundle(out, operator_key=exported.key)
    assert messages(result) == []
    assert result.subject == "mill/fabric-1"
    assert result.entry_number is None
    assert result.verdict == summary.verdict


def test_documents_missing_from_the_store_are_listed_and_flagged(
    exported: Exported, tmp_path: Path
):
    out = tmp_path / "nodocs.zip"
    summary = export_bundle(exported.world.ledger, SUBJECT, out, entry_number=ENTRY)
    assert sorted(summary.missing_documents) == sorted(exported.chain.documents.values())
    manifest = manifest_of(read_members(out))
    assert manifest["documents"] == []
    assert {d["sha256"] for d in manifest["missing_documents"]} == set(
        exported.chain.documents.values()
    )
    result = verify_bundle(out, operator_key=exported.key)
    # documents not produced are a DOCUMENT gap (or info for outsiders), never INTEGRITY
    absent = [m for m in messages(result, "DOCUMENT") if "is not produced" in m]
    assert len(absent) == 6
    assert not [m for m in messages(result) if "document" in m]
    assert result.verdict == "fail"  # HIGH-RISK-REGION, not the documents


# --------------------------------------------------------------------------- round trip


def test_round_trip_offline_in_a_fresh_process_matches_custody_verify(
    exported: Exported, tmp_path: Path
):
    home = str(exported.world.home.path)
    online = run_cli("verify", SUBJECT, "--home", home, "--json", cwd=tmp_path)
    expected = json.loads(online.stdout)
    # a fresh process, in an empty folder, with no home and no ledger: only the zip and the key
    offline = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", exported.key, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert not (tmp_path / "custody-data").exists()
    got = json.loads(offline.stdout)
    assert got["verdict"] == expected["verdict"] == "fail"
    assert offline.returncode == online.returncode == 1
    assert finding_keys(got) == finding_keys(expected)
    assert {f["rule"] for f in got["findings"]} >= {"HIGH-RISK-REGION", "UNTRACED"}
    assert got["composition"] == expected["composition"]
    assert got["untraced_share"] == expected["untraced_share"]
    assert got["subject"] == SUBJECT
    assert got["pinned"] is True
    cp = exported.summary.checkpoint
    assert got["checkpoint"] == {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}
    assert "not pinned" not in offline.stderr.lower()
    # the human form prints the same verdict, findings and composition
    text = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", exported.key, cwd=tmp_path,
        code=1,
    )  # fmt: skip
    assert "verdict: fail" in text.stdout
    assert "HIGH-RISK-REGION" in text.stdout
    assert "composition" in text.stdout


def test_report_json_in_the_bundle_is_the_report_at_export(exported: Exported):
    result = verify_bundle(exported.path, operator_key=exported.key)
    assert result.report is not None
    stored = json.loads(read_members(exported.path)["report.json"])
    assert stored == json.loads(json.dumps(result.report.to_json(), default=str))
    assert messages(result) == []


def test_a_clean_chain_passes_with_exit_0(tmp_path: Path):
    world = World(tmp_path / "home")
    build_chain(world, tmp_path, xinjiang=False, external=False)
    out = tmp_path / "clean.zip"
    export_bundle(
        world.ledger, SUBJECT, out, entry_number=ENTRY, documents_dir=world.home.documents
    )
    proc = run_cli(
        "bundle", "verify", str(out), "--operator-key", world.ledger.verifier_key(), "--json",
        cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert [f for f in doc["findings"] if f["severity"] in ("error", "gap")] == []
    assert (doc["verdict"], proc.returncode) == ("pass", 0)


def test_without_a_pinned_key_the_cli_warns_loudly(exported: Exported, tmp_path: Path):
    proc = run_cli("bundle", "verify", str(exported.path), "--json", cwd=tmp_path, code=1)
    assert "WARNING" in proc.stderr
    assert "not pinned" in proc.stderr
    assert json.loads(proc.stdout)["pinned"] is False


def test_operator_key_may_be_a_file(exported: Exported, tmp_path: Path):
    key_file = tmp_path / "operator.vkey"
    key_file.write_text("# custody.test operator\n" + exported.key + "\n")
    proc = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", str(key_file), "--json",
        cwd=tmp_path, code=1,
    )  # fmt: skip
    assert json.loads(proc.stdout)["pinned"] is True


def test_cli_export_prints_where_size_entries_and_verdict(exported: Exported, tmp_path: Path):
    out = tmp_path / "cli.zip"
    proc = run_cli(
        "bundle", "export", SUBJECT, "-o", str(out), "--entry-number", ENTRY,
        "--home", str(exported.world.home.path), cwd=tmp_path, code=0,
    )  # fmt: skip
    assert str(out) in proc.stdout
    assert f"size {exported.world.ledger.size()}" in proc.stdout
    assert f"{exported.summary.entries} ledger entries" in proc.stdout
    assert "verdict at export: fail" in proc.stdout
    bad = run_cli(
        "bundle", "export", SUBJECT, "-o", str(tmp_path / "bad.zip"), "--entry-number", "NOPE-1",
        "--home", str(exported.world.home.path), cwd=tmp_path, code=1,
    )  # fmt: skip
    assert "invalid_input.entry_number" in bad.stderr
    assert not (tmp_path / "bad.zip").exists()
