"""The bulk scope computation equals the union of provenance.graph.collect over a
party's lots (api.visibility walks all roots at once; collect walks one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.visibility import compute_scope, naming_seqs, roots_of
from ledger.home import Home
from provenance.graph import collect
from tests.api.support import cotton_story

PARTIES = ("farm", "gin", "spinner", "mill", "factory", "importer", "spinner2", "mill2", "farm2")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(Path(tmp_path_factory.mktemp("scope")) / "home")
    ledger, _ = home.init(origin="custody.scope/ledger")
    for res in ledger.submit(cotton_story(home).envelopes):
        assert res.error is None, res.error
    ledger.store.close()
    return home


@pytest.mark.parametrize("party", PARTIES)
def test_scope_is_the_union_of_collect(home: Home, party: str) -> None:
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            scope = compute_scope(r, party)
            roots = roots_of(r, party)
            lots: set[str] = set()
            seqs = set(naming_seqs(r, party))
            for root in roots:
                found = collect(r, root)
                lots |= found.lots
                seqs |= {e.seq for e in found.entries}
    finally:
        ledger.store.close()
    assert roots, party
    assert scope.lots == lots
    assert scope.seqs == seqs


def test_a_party_without_lots_sees_only_what_names_it(home: Home) -> None:
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            scope = compute_scope(r, "lab")
            assert scope.lots == frozenset()
            assert scope.seqs == frozenset(naming_seqs(r, "lab"))
    finally:
        ledger.store.close()
