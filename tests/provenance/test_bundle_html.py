"""report.html is compared with a rendering of the verified report unless skipped."""

from __future__ import annotations

import json
from pathlib import Path

from provenance.bundle import verify_bundle
from tests.provenance.bundle_support import Exported, messages, run_cli, tamper


def _edit(m: dict[str, bytes]) -> None:
    m["report.html"] = m["report.html"].replace(b"verdict-fail", b"verdict-pass")


def test_skipped_report_html_is_not_compared_and_the_result_says_so(
    exported: Exported, tmp_path: Path
):
    clean = verify_bundle(exported.path, operator_key=exported.key, check_html=False)
    assert clean.html_checked is False
    assert clean.to_json()["bundle"]["report_html_checked"] is False
    edited = verify_bundle(
        tamper(exported, tmp_path, _edit), operator_key=exported.key, check_html=False
    )
    assert edited.html_checked is False
    assert not any(m.startswith("report.html") for m in messages(edited))
    assert [f.to_json() for f in edited.findings] == [f.to_json() for f in clean.findings]


def test_by_default_report_html_is_compared_by_digest(exported: Exported, tmp_path: Path):
    clean = verify_bundle(exported.path, operator_key=exported.key)
    assert clean.html_checked is True
    assert not any(m.startswith("report.html") for m in messages(clean))
    edited = verify_bundle(tamper(exported, tmp_path, _edit), operator_key=exported.key)
    (differs,) = [f for f in edited.integrity if f.message.startswith("report.html: differs")]
    assert differs.severity == "warning"
    assert len(differs.details["sha256"]) == 64
    assert differs.details["sha256"] != differs.details["rendered_sha256"]
    assert edited.verdict == clean.verdict


def test_cli_check_html(exported: Exported, tmp_path: Path):
    path = tamper(exported, tmp_path, _edit)
    plain = run_cli(
        "bundle",
        "verify",
        str(path),
        "--operator-key",
        exported.key,
        "--no-check-html",
        cwd=tmp_path,
    )
    assert "report.html: not compared" in plain.stdout
    checked = run_cli(
        "bundle", "verify", str(path), "--operator-key", exported.key, "--json", cwd=tmp_path
    )
    doc = json.loads(checked.stdout)
    assert doc["bundle"]["report_html_checked"] is True
    assert any(f["message"].startswith("report.html: differs") for f in doc["findings"])
