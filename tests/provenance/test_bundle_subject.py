"""An auditor verifies an entry, not whatever the unsigned manifest says (issue 10 item 3).

The attack: relabel a failing bundle's unsigned ``subject`` with an upstream lot
that passes and drop the entry number and the reports. ``bundle verify
--entry-number`` takes the subject from the signed ``import`` statement, so the
relabelled bundle still fails for the entry; without pinning, the verdict says
prominently that the subject was the manifest's unpinned claim.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from provenance.bundle import verify_bundle
from tests.provenance.bundle_support import (
    ENTRY,
    SUBJECT,
    Exported,
    manifest_of,
    messages,
    put_manifest,
    read_members,
    run_cli,
    write_members,
)

UPSTREAM = "farm-tx/seed-1"


def _relabelled(exported: Exported, tmp: Path, *, drop_import: bool = False) -> Path:
    members = read_members(exported.path)
    manifest = manifest_of(members)
    manifest["subject"] = UPSTREAM
    manifest["entry_number"] = None
    for name in ("report.json", "report.html"):
        members.pop(name)
    manifest.pop("report")
    if drop_import:
        for entry in list(manifest["entries"]):
            leaf = json.loads(members[entry["path"]])
            payload = json.loads(base64.b64decode(leaf["envelope"]["payload"]))
            if payload["type"] == "import":
                manifest["entries"].remove(entry)
                del members[entry["path"]]
    put_manifest(members, manifest)
    return write_members(tmp / "relabelled.zip", members)


def test_relabelling_the_subject_no_longer_passes_for_the_entry(exported: Exported, tmp_path: Path):
    path = _relabelled(exported, tmp_path)
    unpinned = verify_bundle(path, operator_key=exported.key)
    assert unpinned.subject == UPSTREAM
    assert unpinned.subject_from == "manifest"
    assert unpinned.to_json()["verified"]["subject_pinned"] is False
    pinned = verify_bundle(path, operator_key=exported.key, entry_number=ENTRY)
    assert pinned.subject == SUBJECT
    assert pinned.subject_from == "entry_number"
    assert pinned.verdict == "fail"
    assert {f.rule for f in pinned.findings} >= {"HIGH-RISK-REGION"}
    by_lot = verify_bundle(path, operator_key=exported.key, lot=SUBJECT)
    assert (by_lot.subject, by_lot.subject_from, by_lot.verdict) == (SUBJECT, "lot", "fail")
    assert by_lot.verdict == pinned.verdict


def test_the_cli_prints_the_verified_subject_first(exported: Exported, tmp_path: Path):
    path = _relabelled(exported, tmp_path)
    key = ["--operator-key", exported.key]
    proc = run_cli(
        "bundle", "verify", str(path), *key, "--entry-number", ENTRY, cwd=tmp_path, code=1
    )
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"Verified subject: lot {SUBJECT}, CBP entry {ENTRY} (pinned")
    assert "verdict: fail" in proc.stdout
    doc = json.loads(
        run_cli("bundle", "verify", str(path), *key, "--entry-number", ENTRY, "--json",
                cwd=tmp_path, code=1).stdout
    )  # fmt: skip
    assert doc["verified"] == {
        "subject": SUBJECT,
        "from": "entry_number",
        "subject_pinned": True,
        "entry_number": ENTRY,
        "manifest_subject": UPSTREAM,
    }
    assert doc["subject"] == SUBJECT
    loose = run_cli("bundle", "verify", str(path), *key, cwd=tmp_path)
    first = loose.stdout.splitlines()[0]
    assert first.startswith(f"Verified subject: lot {UPSTREAM}")
    assert "NOT pinned" in first
    assert "--entry-number" in first
    assert (
        json.loads(run_cli("bundle", "verify", str(path), *key, "--json", cwd=tmp_path).stdout)[
            "verified"
        ]["subject_pinned"]
        is False
    )


def test_the_entry_needs_its_signed_import_statement(exported: Exported, tmp_path: Path):
    path = _relabelled(exported, tmp_path, drop_import=True)
    result = verify_bundle(path, operator_key=exported.key, entry_number=ENTRY)
    assert result.verdict == "fail"
    assert result.report is None
    assert messages(result) == [
        f"CBP entry {ENTRY!r} is declared by no signed import statement among the proven "
        "leaves: the bundle cannot be verified as that entry"
    ]
    other = verify_bundle(
        exported.path, operator_key=exported.key, entry_number=ENTRY, lot=UPSTREAM
    )
    assert other.verdict == "fail"
    assert messages(other) == [
        f"CBP entry {ENTRY!r} is declared for lot(s) {SUBJECT}, not {UPSTREAM!r}: the bundle "
        "cannot be verified as that entry"
    ]


def test_a_genuine_bundle_verifies_the_same_pinned_or_not(exported: Exported):
    loose = verify_bundle(exported.path, operator_key=exported.key)
    pinned = verify_bundle(exported.path, operator_key=exported.key, entry_number=ENTRY)
    assert pinned.to_json()["findings"] == loose.to_json()["findings"]
    assert pinned.verdict == loose.verdict
