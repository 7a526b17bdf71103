"""What the bulk scope computation gives each party of the cotton story: its
roots, the lots upstream of them (the store's upstream walk, the one trace and
verification use) and nothing of other chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.visibility import compute_scope, naming_seqs
from ledger.home import Home
from tests.api.support import SUBJECT, cotton_story

PARTIES = ("farm", "gin", "spinner", "mill", "factory", "importer", "spinner2", "mill2", "farm2")

UPSTREAM_OF_SUBJECT = {"farm/seed-1", "gin/lint-1", "spinner/yarn-1", "mill/fabric-1", SUBJECT}
OTHER_CHAIN = {"farm2/seed-7", "gin2/lint-7"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(Path(tmp_path_factory.mktemp("scope")) / "home")
    ledger, _ = home.init(origin="custody.scope/ledger")
    for res in ledger.submit(cotton_story(home).envelopes):
        assert res.error is None, res.error
    ledger.store.close()
    return home


@pytest.mark.parametrize("party", PARTIES)
def test_every_party_has_roots_and_sees_upstream_of_them(home: Home, party: str) -> None:
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            scope = compute_scope(r, party)
            named = naming_seqs(r, party)
    finally:
        ledger.store.close()
    assert scope.roots, party
    assert scope.roots <= scope.lots
    assert named <= scope.seqs
    assert 0 in scope.seqs
    if party in ("farm2",):
        assert scope.lots <= OTHER_CHAIN
    else:
        assert scope.lots.isdisjoint(OTHER_CHAIN)


def test_the_importer_sees_its_lot_back_to_the_farm_and_not_the_competitor(home: Home) -> None:
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            scope = compute_scope(r, "importer")
            yarn = {seq for _, seq, _ in r.lot_refs(["spinner2/yarn-9"])}
            # the competitor's spinning draws on the traced lint (visible: a
            # sibling's draw); what it then does with its own yarn is not
            competitor = yarn - {seq for _, seq, _ in r.lot_refs(["gin/lint-1"])}
    finally:
        ledger.store.close()
    assert scope.roots == {SUBJECT}
    assert scope.lots == UPSTREAM_OF_SUBJECT
    assert competitor
    assert competitor.isdisjoint(scope.seqs)


def test_a_party_without_lots_sees_only_what_names_it(home: Home) -> None:
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            scope = compute_scope(r, "lab")
            assert scope.lots == frozenset()
            assert scope.seqs == frozenset(naming_seqs(r, "lab"))
    finally:
        ledger.store.close()


@pytest.mark.postgres
def test_postgres_scopes_equal_sqlite_scopes(
    home: Home, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same walk on PostgreSQL (expanding root lists, ``= ANY(ARRAY(...))``)."""
    monkeypatch.setenv("CUSTODY_DB_URL", pg_url)
    pg_home = Home(tmp_path / "pg-home")
    ledger, _ = pg_home.init(origin="custody.scope/ledger")
    try:
        for res in ledger.submit(cotton_story(pg_home).envelopes):
            assert res.error is None, res.error
        with ledger.store.read() as r:
            on_pg = {p: compute_scope(r, p) for p in (*PARTIES, "lab")}
    finally:
        ledger.store.close()
    monkeypatch.delenv("CUSTODY_DB_URL")
    sqlite = home.open(with_key=False)
    try:
        with sqlite.store.read() as r:
            on_sqlite = {p: compute_scope(r, p) for p in (*PARTIES, "lab")}
    finally:
        sqlite.store.close()
    for party, scope in on_pg.items():
        assert scope.roots == on_sqlite[party].roots, party
        assert scope.lots == on_sqlite[party].lots, party
        assert scope.seqs == on_sqlite[party].seqs, party  # the same story, in the same order
