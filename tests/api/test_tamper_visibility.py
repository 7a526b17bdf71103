"""The derived tables edited behind the ledger's back, against a real server
(issue 10, item 2): what the API serves afterwards, and ``ledger audit`` naming
the edited row.

* ``parties.roles`` of a supplier set to ``auditor``: roles are read from the
  party's signed registration, so the edit grants nothing;
* the ``to`` of a stored dispatch changed to another party: visibility through a
  dispatch is checked against the dispatch statement, so it grants nothing;
* an extra ``lot_refs`` row: the API trusts the index between audits (checking
  every upstream statement per request is a verification), and it serves the
  statement the row points at to the party whose lot it names; the audit is the
  control and names the row.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.audit import AuditReport, audit
from ledger.home import Home
from ledger.statements import statement_digest
from tests.api.support import SUBJECT, Server, Story, cotton_story, login


@dataclass
class Template:
    path: Path
    story: Story
    seqs: dict[str, int]  # mark -> seq


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    home = Home(Path(tmp_path_factory.mktemp("tamper")) / "home")
    ledger, _ = home.init(origin="custody.tamper/ledger")
    story = cotton_story(home)
    results = ledger.submit(story.envelopes)
    ledger.store.close()
    assert all(r.error is None for r in results)
    by_digest = {r.digest: r.seq for r in results}
    seqs = {m: by_digest[statement_digest(e.payload)] for m, e in story.marks.items()}
    return Template(home.path, story, {m: s for m, s in seqs.items() if s is not None})


@dataclass
class Case:
    home: Path
    story: Story
    seqs: dict[str, int]

    def sql(self, statement: str, *params: Any) -> None:
        db = sqlite3.connect(self.home / "ledger.db")
        try:
            assert db.execute(statement, params).rowcount == 1
            db.commit()
        finally:
            db.close()

    def one(self, query: str, *params: Any) -> Any:
        db = sqlite3.connect(self.home / "ledger.db")
        try:
            (value,) = db.execute(query, params).fetchone()
        finally:
            db.close()
        return value

    def audit(self) -> AuditReport:
        ledger = Home(self.home).open(with_key=False)
        try:
            return audit(ledger.store)
        finally:
            ledger.store.close()

    @contextmanager
    def serve(self, party: str) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
        with Server(self.home) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
            yield http, login(http, party, self.story.actors[party].key)


@pytest.fixture
def case(template: Template, tmp_path: Path) -> Case:
    home = tmp_path / "home"
    shutil.copytree(template.path, home)
    return Case(home, template.story, dict(template.seqs))


def _named(report: AuditReport, check: str, seq: int | None, needle: str) -> None:
    assert not report.ok
    hits = [p for p in report.problems if p.check == check and needle in p.message]
    assert hits, [p.to_json() for p in report.problems]
    assert any(p.seq == seq for p in hits), [p.to_json() for p in hits]


def test_supplier_edited_to_auditor_gains_nothing(case: Case) -> None:
    case.sql("UPDATE parties SET roles = 'auditor' WHERE id = 'farm2'")
    import_seq = case.seqs["import"]
    with case.serve("farm2") as (http, auth):
        assert http.get("/v1/auth/whoami", headers=auth).json()["roles"] == ["supplier"]
        assert http.get(f"/v1/entries/{import_seq}", headers=auth).status_code == 403
        assert http.get(f"/v1/lots/{SUBJECT}/trace", headers=auth).status_code == 403
        listed = http.get("/v1/statements", params={"limit": 1000}, headers=auth).json()
        assert import_seq not in {item["seq"] for item in listed["items"]}
        assert {item["issuer"] for item in listed["items"]} <= {"operator", "farm2", "gin2"}
    _named(case.audit(), "state", case.seqs["party/farm2"], "parties row 'farm2'")


def test_dispatch_readdressed_gains_nothing(case: Case) -> None:
    seq = case.one("SELECT seq FROM dispatches WHERE lot = ?", SUBJECT)
    case.sql("UPDATE dispatches SET \"to\" = 'farm2' WHERE lot = ?", SUBJECT)
    with case.serve("farm2") as (http, auth):
        for path in (f"/v1/lots/{SUBJECT}", f"/v1/lots/{SUBJECT}/trace", f"/v1/entries/{seq}"):
            assert http.get(path, headers=auth).status_code == 403, path
        listed = http.get("/v1/statements", params={"lot": SUBJECT}, headers=auth).json()
        assert listed["items"] == []
    _named(case.audit(), "state", seq, "to is 'farm2' in the database but 'importer' by replay")


def test_injected_lot_ref_is_served_until_audit_names_it(case: Case) -> None:
    import_seq = case.seqs["import"]
    case.sql(
        "INSERT INTO lot_refs (lot, seq, role) VALUES ('farm2/seed-7', ?, 'evidence')", import_seq
    )
    with case.serve("farm2") as (http, auth):
        # the index is trusted between audits: the row makes the import visible
        assert http.get(f"/v1/entries/{import_seq}", headers=auth).status_code == 200
        # ... but not the importer's lot, whose upstream the row does not join
        assert http.get(f"/v1/lots/{SUBJECT}/trace", headers=auth).status_code == 403
    _named(case.audit(), "index", import_seq, "lot_refs row (lot 'farm2/seed-7'")


def test_untouched_copy_audits_clean_and_keeps_visibility(case: Case) -> None:
    assert case.audit().ok
    with case.serve("importer") as (http, auth):
        assert http.get(f"/v1/lots/{SUBJECT}/trace", headers=auth).status_code == 200
        assert http.get(f"/v1/entries/{case.seqs['import']}", headers=auth).status_code == 200
