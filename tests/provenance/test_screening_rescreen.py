"""Rescreening (``provenance.rescreen``) and the install history of screening files.

A supplier listed after the fact flips an imported lot and a bundled lot to
``fail``; lots nobody matches stay unchanged; a refused update changes nothing.
Run on SQLite and, when a server is reachable, on PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from provenance.context import VerificationContext
from provenance.registry import read_exports, record_export
from provenance.rescreen import rescreen
from provenance.screening import shipped_path, update_screening
from provenance.screening.history import installs
from tests.provenance.chains import cotton
from tests.support import World


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest) -> World:
    name = "world" if request.param == "sqlite" else "pg_world"
    world: World = request.getfixturevalue(name)
    return world


def newer_list(tmp: Path, version: str, *names: str) -> Path:
    """The shipped file with ``names`` added to the UFLPA Entity List, as ``version``."""
    doc: dict[str, Any] = json.loads(shipped_path().read_text(encoding="utf-8"))
    doc["version"] = version
    doc["snapshot"] = "2026-12-01"
    uflpa = doc["lists"][0]
    uflpa["as_of"] = "2026-12-01"
    for name in names:
        uflpa["entities"].append(
            {"name": name, "country": "US", "added": "2026-12-01", "source": "test"}
        )
    path = tmp / f"{version}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def context(world: World) -> VerificationContext:
    return VerificationContext.from_home(world.home, ledger=world.ledger)


def test_a_supplier_listed_after_the_fact_flips_imported_and_bundled_lots(
    any_world: World, tmp_path: Path
) -> None:
    world = any_world
    chain = cotton(world, farm_name="Lubbock Farm")
    home = world.home.path
    ctx = context(world)
    before = ctx.verify(chain.subject)
    assert before.verdict != "fail"
    unchanged = rescreen(ctx, home)
    assert [c.lot for c in unchanged.lots] == [chain.subject]
    assert unchanged.changed == []
    assert unchanged.errors == []

    # the importer exports a bundle; the registry records verdict and version
    summary = ctx.export_bundle(chain.subject, tmp_path / "b.zip")
    record_export(home, summary.report, ctx.screening, entry_number=None, bundle=tmp_path / "b.zip")
    (recorded,) = read_exports(home)
    assert (recorded.lot, recorded.verdict) == (chain.subject, before.verdict)
    assert recorded.screening_version == ctx.screening.version

    update_screening(newer_list(tmp_path, "9.0.0+2026-12-01", "Lubbock Farm LLC"), home)
    after = rescreen(context(world), home)
    (changed,) = after.changed
    assert changed.lot == chain.subject
    assert changed.basis == "bundle"
    assert (changed.before_verdict, changed.after_verdict) == (before.verdict, "fail")
    assert (changed.before_version, changed.after_version) == (
        ctx.screening.version,
        "9.0.0+2026-12-01",
    )
    assert [(x.list_id, x.entry, x.who) for x in changed.newly_listed] == [
        ("uflpa-entity-list", "Lubbock Farm LLC", "party farm")
    ]
    doc = after.to_json()
    assert doc["screening"]["version"] == "9.0.0+2026-12-01"
    assert doc["changed"][0]["before"] == {
        "verdict": before.verdict,
        "screening_version": ctx.screening.version,
    }
    # nothing is written: a second run says the same
    assert rescreen(context(world), home).to_json() == doc


def test_an_imported_lot_compares_with_the_lists_in_force_at_its_import(
    world: World, tmp_path: Path
) -> None:
    home = world.home.path
    chain = cotton(world, gin_name="Plains Gin")
    update_screening(newer_list(tmp_path, "9.1.0+2026-12-01", "Plains Gin Co., Ltd."), home)
    (changed,) = rescreen(context(world), home).changed
    assert changed.basis == "import"
    assert changed.before_version != "9.1.0+2026-12-01"  # the shipped file was in force
    assert changed.after_verdict == "fail"
    assert [x.who for x in changed.newly_listed] == ["party gin"]
    # an unrelated list install later: the import still compares with the shipped one
    update_screening(
        newer_list(tmp_path, "9.2.0+2026-12-01", "Plains Gin Co., Ltd.", "Nobody Widgets"), home
    )
    (again,) = rescreen(context(world), home).changed
    assert again.after_version == "9.2.0+2026-12-01"
    assert [x.who for x in again.newly_listed] == ["party gin"]
    assert chain.subject == again.lot


def test_lots_that_were_never_imported_or_bundled_are_not_rescreened(world: World) -> None:
    cotton(world, import_lot=False)
    assert rescreen(context(world), world.home.path).lots == ()


def test_a_version_id_names_one_content(world: World, tmp_path: Path) -> None:
    home = world.home.path
    update_screening(newer_list(tmp_path, "9.3.0+2026-12-01", "First Name Co"), home)
    update_screening(newer_list(tmp_path, "9.3.0+2026-12-01", "First Name Co"), home)  # same
    installed = (home / "screening.json").read_bytes()
    (tmp_path / "other").mkdir()
    other = newer_list(tmp_path / "other", "9.3.0+2026-12-01", "Second Name Co")
    with pytest.raises(InputError) as e:
        update_screening(other, home)
    assert e.value.code == "invalid_screening"
    assert "9.3.0+2026-12-01" in e.value.message
    assert (home / "screening.json").read_bytes() == installed
    assert [i.version for i in installs(home)] == ["9.3.0+2026-12-01"] * 2


def test_a_damaged_registry_is_a_clear_error(world: World) -> None:
    cotton(world)
    (world.home.path / "bundles.jsonl").write_text('{"lot": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        rescreen(context(world), world.home.path)
    assert e.value.code == "invalid_registry"
    assert "line 1" in e.value.message


def _export_line(lot: str, verdict: str, sha: str, listed: list[dict[str, str]]) -> str:
    return json.dumps(
        {
            "lot": lot, "entry_number": None, "verdict": verdict,
            "screening_version": "0.9.0+old", "screening_sha256": sha, "listed": listed,
            "exported_at": "2026-03-02T08:00:00Z", "bundle": "/nowhere/b.zip",
        }
    ) + "\n"  # fmt: skip


def test_an_export_whose_lists_are_gone_compares_with_what_it_recorded(world: World) -> None:
    chain = cotton(world)
    home = world.home.path
    listed = [{"list": "uflpa-entity-list", "entry": "Gone Co", "who": "party gin"}]
    line = _export_line(chain.subject, "fail", "0" * 64, listed)
    (home / "bundles.jsonl").write_text(line, encoding="utf-8")
    (changed,) = rescreen(context(world), home).changed
    assert (changed.basis, changed.before_verdict, changed.before_version) == (
        "bundle",
        "fail",
        "0.9.0+old",
    )
    assert [x.entry for x in changed.no_longer_listed] == ["Gone Co"]
    assert changed.newly_listed == []
    assert changed.to_json()["exported"]["verdict"] == "fail"


def test_a_bundled_lot_the_ledger_does_not_know_is_an_error_not_a_crash(world: World) -> None:
    cotton(world)
    home = world.home.path
    sha = context(world).screening.sha256
    (home / "bundles.jsonl").write_text(_export_line("nobody/lot-9", "pass", sha, []), "utf-8")
    result = rescreen(context(world), home)
    (error,) = result.errors
    assert error.lot == "nobody/lot-9"
    assert error.error
    assert not error.changed
    assert result.to_json()["errors"][0]["lot"] == "nobody/lot-9"
