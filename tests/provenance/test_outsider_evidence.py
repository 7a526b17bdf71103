"""Evidence about a lot from outside its chain of custody (issue 10 item 1).

Any registered party may bind a document to any lot (an auditor's report, a
lab test, an allegation). An outsider's evidence is reported, never counted: a
document it names that nobody produces is a DOCUMENT *info* finding, so nobody
can turn someone else's bundle from pass to fail (or incomplete) by naming
documents that do not exist. The same document named by a party on the custody
path is the importer's evidence: not produced, it is a DOCUMENT *gap*.

``custody verify`` (against the home's document store) and ``custody bundle
verify`` (against the bundle's ``documents/``) give the same verdict and the
same findings, run as real CLI processes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ledger.statements import format_time
from tests.provenance.bundle_support import ENTRY, SUBJECT, build_chain, finding_keys, run_cli
from tests.support import World


def _document(name: str) -> dict[str, Any]:
    """A document nobody has: only its hash is on the ledger."""
    body = f"{name}: never produced".encode()
    return {
        "sha256": hashlib.sha256(body).hexdigest(),
        "name": name,
        "media_type": "application/pdf",
        "size": len(body),
    }


def _both(world: World, tmp: Path, name: str, code: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``custody verify`` and ``custody bundle export`` + offline ``bundle verify``."""
    home = str(world.home.path)
    online = run_cli("verify", SUBJECT, "--home", home, "--json", cwd=tmp, code=code)
    out = tmp / f"{name}.zip"
    run_cli("bundle", "export", SUBJECT, "-o", str(out), "--entry-number", ENTRY, "--home", home,
            cwd=tmp, code=0)  # fmt: skip
    offline = run_cli(
        "bundle", "verify", str(out), "--operator-key", world.ledger.verifier_key(),
        "--entry-number", ENTRY, "--json", cwd=tmp, code=code,
    )  # fmt: skip
    return json.loads(online.stdout), json.loads(offline.stdout)


def test_an_outsiders_missing_document_is_reported_not_counted(tmp_path: Path):
    world = World(tmp_path / "home")
    build_chain(world, tmp_path, xinjiang=False, external=False)
    rival = world.party("rival", "Rival Apparel Ltd", "US", roles=("supplier",))
    rival.submit("evidence", lots=[SUBJECT], kind="audit_report",
                 document=_document("allegation.pdf"), claims={"says": "forced"})  # fmt: skip
    online, offline = _both(world, tmp_path, "outsider", code=0)
    assert online["verdict"] == offline["verdict"] == "pass"
    assert finding_keys(offline) == finding_keys(online)
    (doc,) = [f for f in online["findings"] if f["rule"] == "DOCUMENT"]
    assert doc["severity"] == "info"
    assert "outside the custody path" in doc["message"]
    assert "allegation.pdf" in doc["message"]
    assert not [f for f in offline["findings"] if f["rule"] == "INTEGRITY"]

    # the importer's own evidence is counted: the same absence is a gap, in both
    importer = world.parties["importer"]
    importer.submit("evidence", lots=[SUBJECT], kind="certificate",
                    document=_document("certificate-of-origin.pdf"))  # fmt: skip
    online, offline = _both(world, tmp_path, "importer", code=3)
    assert online["verdict"] == offline["verdict"] == "incomplete"
    assert finding_keys(offline) == finding_keys(online)
    gaps = [f for f in online["findings"] if f["severity"] == "gap"]
    assert [f["rule"] for f in gaps] == ["DOCUMENT"]
    assert "certificate-of-origin.pdf" in gaps[0]["message"]
    assert "is not produced" in gaps[0]["message"]


def test_an_outsider_voiding_its_own_evidence_cannot_fail_the_lot(tmp_path: Path):
    """A back-dated ``compromised`` revocation voids the outsider's own evidence signature:
    that SIGNATURE finding concerns only the outsider's statements, so it is info."""
    world = World(tmp_path / "home")
    build_chain(world, tmp_path, xinjiang=False, external=False)
    rival = world.party("rival", "Rival Apparel Ltd", "US", roles=("supplier",))
    before = world.tick()
    rival.submit("evidence", lots=[SUBJECT], kind="audit_report",
                 document=_document("allegation.pdf"))  # fmt: skip
    rival.submit("revoke", party="rival", public_key=rival.key.public_key_b64,
                 reason="compromised", effective=format_time(before))  # fmt: skip
    online, offline = _both(world, tmp_path, "voided", code=0)
    assert online["verdict"] == offline["verdict"] == "pass"
    assert finding_keys(offline) == finding_keys(online)
    (sig,) = [f for f in online["findings"] if f["rule"] == "SIGNATURE"]
    assert sig["severity"] == "info"
    assert sig["details"]["severity_was"] == "error"
    assert "outside the custody path" in sig["message"]
