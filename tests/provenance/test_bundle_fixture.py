"""A bundle exported before bundles became a package still verifies the same.

``data/bundle-v1-cotton.zip`` is the demo's clean cotton bundle as
``custody demo`` exported it before the split (issue 11), with its operator
verifier key in ``data/bundle-v1-cotton.vkey``.
"""

from __future__ import annotations

from pathlib import Path

from provenance.bundle import verify_bundle

DATA = Path(__file__).parent / "data"
BUNDLE = DATA / "bundle-v1-cotton.zip"
KEY = (DATA / "bundle-v1-cotton.vkey").read_text().strip()
SUBJECT = "angkor-garments/tshirts-2026-07"
ENTRY = "NMR-2026001-4"


def test_a_bundle_exported_before_the_split_verifies_as_it_did():
    result = verify_bundle(BUNDLE, operator_key=KEY, entry_number=ENTRY)
    assert (result.subject, result.verdict) == (SUBJECT, "pass")
    assert (result.entries, result.documents) == (38, 10)
    assert [f for f in result.integrity if f.severity == "error"] == []
    assert [(f.rule, f.severity) for f in result.findings if f.rule != "INTEGRITY"] == [
        ("CORROBORATION", "info")
    ]
    unpinned_subject = verify_bundle(BUNDLE, operator_key=KEY)
    assert unpinned_subject.to_json()["findings"] == result.to_json()["findings"]
