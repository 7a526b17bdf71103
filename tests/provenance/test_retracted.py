"""Verification treats retracted statements as void and lists them; offline
bundle verification agrees (docs/custody-rules.md, "Corrections")."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from provenance.bundle import export_bundle, verify_bundle
from provenance.verify import Report, verify_lot
from tests.support import Actor, World, q, site

DOC = {"sha256": "cd" * 32, "name": "coa.pdf", "media_type": "application/pdf", "size": 10}


def origin(farm: Actor, subdivision: str, country: str = "US", **kw: Any) -> str:
    lot = {"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(1000), "unit": "kg"}
    return str(
        farm.submit(
            "origin", lot=lot, site=site("Farm", country, subdivision), id=f"o-{subdivision}", **kw
        ).digest
    )


def chain(world: World, *, correct: bool) -> dict[str, str]:
    """A farm's origin first declared in Xinjiang by mistake (then, if ``correct``,
    replaced by the right one before anything used it), dispatched to an importer."""
    farm = world.party("farm", subdivision="US-TX")
    imp = world.party("imp", "Acme", roles=("importer",))
    out = {"wrong": origin(farm, "CN-XJ", "CN")}
    if correct:
        out["fixed"] = origin(farm, "US-TX", replaces=out["wrong"])
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(1000), unit="kg", to="imp")
    imp.submit("receipt", dispatch=str(d.digest), quantity=q(1000), unit="kg")
    ev = imp.submit("evidence", lots=["farm/seed-1"], kind="lab_report", document=DOC)
    out["evidence"] = str(ev.digest)
    out["retract"] = str(
        imp.submit("retract", statement=out["evidence"], reason="wrong sample").digest
    )
    return out


def verify(world: World) -> Report:
    return verify_lot(world.ledger.store, "farm/seed-1")


def test_corrected_origin_and_retracted_evidence_are_void(world: World, tmp_path: Path) -> None:
    d = chain(world, correct=True)
    report = verify(world)
    errors = {f.rule for f in report.findings if f.severity == "error"}
    assert not errors, [f.message for f in report.findings]
    void = {d["wrong"], d["evidence"], d["retract"]}
    assert not any(void & set(f.statements) for f in report.findings)
    listed = {r.digest: r for r in report.retracted}
    assert set(listed) == {d["wrong"], d["evidence"]}
    assert listed[d["wrong"]].by_digest == d["fixed"]
    assert listed[d["evidence"]].reason == "wrong sample"
    assert listed[d["evidence"]].by_digest == d["retract"]
    trace = report.custody_trace()
    assert trace.creators["farm/seed-1"].digest == d["fixed"]
    named = {e.digest for e in trace.on_lot["farm/seed-1"]}
    assert named.isdisjoint(void)
    # nothing is deleted: the void statements are in the evidence, listed apart
    assert {d["wrong"], d["evidence"], d["retract"]}.isdisjoint(
        s.digest for s in report.statements.values()
    )
    as_json = report.to_json()["retracted"]
    assert [r["digest"] for r in as_json] == [r.digest for r in report.retracted]
    assert as_json[1]["retracted_by"] == {
        "seq": listed[d["evidence"]].by_seq,
        "digest": d["retract"],
        "type": "retract",
    }
    # the evidence bundle holds the void statements and verifies the same, offline
    key = world.ledger.verifier_key()
    path = tmp_path / "b.zip"
    export_bundle(world.ledger, "farm/seed-1", path)
    offline = verify_bundle(path, operator_key=key, lot="farm/seed-1")
    assert offline.verdict == report.verdict
    assert offline.report is not None
    assert [f.rule for f in offline.report.findings] == [f.rule for f in report.findings]
    assert offline.report.to_json()["retracted"] == as_json
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {f"leaves/{r.seq}.json" for r in report.retracted} <= names
    assert f"leaves/{listed[d['evidence']].by_seq}.json" in names
    with zipfile.ZipFile(path) as zf:
        html = zf.read("report.html").decode()
    assert "Retracted statements (void)" in html
    assert "wrong sample" in html


def test_without_the_correction_the_wrong_origin_counts(world: World) -> None:
    chain(world, correct=False)
    report = verify(world)
    assert report.verdict == "fail"
    assert "HIGH-RISK-REGION" in {f.rule for f in report.findings}
    assert [r.type for r in report.retracted] == ["evidence"]
