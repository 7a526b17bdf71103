"""Tests of provenance.screening's files: loading errors, strict JSON, installing into a home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from provenance import screening
from provenance.screening import SCHEMA, load_for_home, load_screening, update_screening

# -- loading errors

DOC: dict[str, Any] = {
    "schema": SCHEMA,
    "version": "9.9.9+test",
    "lists": [
        {
            "id": "test-list",
            "title": "Test list",
            "as_of": "2026-02-01",
            "entities": [{"name": "Acme Forced Widgets Co., Ltd.", "aliases": [], "source": "x"}],
        }
    ],
    "regions": [{"code": "CN-XJ", "name": "Xinjiang", "materials": None, "sources": []}],
}


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def broken(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = json.loads(json.dumps(DOC))
    doc.update(changes)
    return doc


BAD = [
    ("wrong-schema", broken(schema="custody-screening/0"), "schema"),
    ("no-version", broken(version=""), "version"),
    ("no-lists", broken(lists=[]), "lists"),
    ("list-not-object", broken(lists=[3]), "lists[0]"),
    ("bad-date", broken(lists=[{**DOC["lists"][0], "as_of": "Jan 2026"}]), "lists[0].as_of"),
    (
        "nameless-entity",
        broken(lists=[{**DOC["lists"][0], "entities": [{"aliases": []}]}]),
        "lists[0].entities[0].name",
    ),
    (
        "bad-alias",
        broken(lists=[{**DOC["lists"][0], "entities": [{"name": "A", "aliases": [1]}]}]),
        "lists[0].entities[0].aliases[0]",
    ),
    ("bad-region-code", broken(regions=[{"code": "Xinjiang", "name": "X"}]), "regions[0].code"),
    ("duplicate-list", broken(lists=[DOC["lists"][0], DOC["lists"][0]]), "lists"),
    (
        "duplicate-entity",
        broken(
            lists=[
                {
                    **DOC["lists"][0],
                    "entities": [{"name": "Acme Widgets Co."}, {"name": "ACME  widgets co."}],
                }
            ]
        ),
        "lists[0].entities[1].name",
    ),
    (
        "bad-entity-date",
        broken(lists=[{**DOC["lists"][0], "entities": [{"name": "A", "added": "2026-13-01"}]}]),
        "lists[0].entities[0].added",
    ),
    (
        "entity-added-after-as-of",
        broken(lists=[{**DOC["lists"][0], "entities": [{"name": "A", "date": "2026-03-01"}]}]),
        "lists[0].entities[0].date",
    ),
    ("bad-snapshot", broken(snapshot="last week"), "snapshot"),
    ("list-after-snapshot", broken(snapshot="2026-01-01"), "lists[0].as_of"),
]


@pytest.mark.parametrize(("doc", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_files_are_rejected_with_the_field(tmp_path: Path, doc: object, field: str) -> None:
    with pytest.raises(InputError) as info:
        load_screening(write(tmp_path / "s.json", doc))
    assert info.value.code == "invalid_screening"
    assert info.value.details["field"] == field


def test_unreadable_and_non_json_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError) as missing:
        load_screening(tmp_path / "nope.json")
    assert missing.value.code == "invalid_screening"
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError) as bad:
        load_screening(tmp_path / "bad.json")
    assert bad.value.code == "invalid_screening"


def test_a_replacement_file_is_used_for_matching(tmp_path: Path) -> None:
    data = load_screening(write(tmp_path / "s.json", DOC))
    assert data.version == "9.9.9+test"
    assert data.list_ids == ("test-list",)
    assert [m.entry_name for m in data.match_entity("ACME FORCED WIDGETS LIMITED")] == [
        "Acme Forced Widgets Co., Ltd."
    ]
    assert data.match_entity("Xinjiang Zhongtai Chemical Co., Ltd.") == []


# -- installing into a home


def test_update_installs_into_home_and_home_copy_wins(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert load_for_home(home).version == load_screening().version
    installed = update_screening(write(tmp_path / "new.json", DOC), home)
    assert installed.version == "9.9.9+test"
    assert installed.origin == str(home / screening.SCREENING_FILENAME)
    assert (home / "screening.json").read_bytes() == (tmp_path / "new.json").read_bytes()
    assert load_for_home(home).version == "9.9.9+test"
    # no temporary file left behind; the install is kept in the history
    assert sorted(p.name for p in home.iterdir()) == ["screening-history", "screening.json"]
    kept = sorted(p.name for p in (home / "screening-history").iterdir())
    assert kept == sorted([f"{installed.sha256}.json", "installs.jsonl"])


def test_update_with_an_invalid_file_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    update_screening(write(tmp_path / "new.json", DOC), home)
    before = (home / "screening.json").read_bytes()
    history = (home / "screening-history" / "installs.jsonl").read_bytes()
    with pytest.raises(InputError) as info:
        update_screening(write(tmp_path / "bad.json", broken(schema="x")), home)
    assert info.value.code == "invalid_screening"
    assert (home / "screening.json").read_bytes() == before
    assert (home / "screening-history" / "installs.jsonl").read_bytes() == history
    assert sorted(p.name for p in home.iterdir()) == ["screening-history", "screening.json"]


def test_shipped_file_round_trips_through_update(tmp_path: Path) -> None:
    installed = update_screening(screening.shipped_path(), tmp_path)
    assert installed.version == load_screening().version
    assert installed.sha256 == load_screening().sha256


# -- strict JSON: the file is untrusted input


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"schema": "custody-screening/1", "schema": "x"}', "duplicate_key"),
        (b"[" * 100_000 + b"]" * 100_000, "depth"),
        (b'{"version": NaN}', "constant"),
        (b"\xef\xbb\xbf{}", "encoding"),
        (b"\xff\xfe", "encoding"),
    ],
    ids=["duplicate-key", "deep", "nan", "bom", "not-utf8"],
)
def test_non_strict_json_is_a_clean_error(tmp_path: Path, raw: bytes, reason: str) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        load_screening(path)
    assert info.value.code == "invalid_screening"
    assert info.value.details["reason"] == reason
    home = tmp_path / "home"
    with pytest.raises(InputError):
        update_screening(path, home)
    assert not (home / "screening.json").exists()


# -- the word lists are data files (provenance/data/screening-*.txt)


def test_word_lists_are_read_from_the_data_files() -> None:
    from provenance.screening import normalise

    assert {"co", "ltd", "gmbh", "youxian", "gongsi"} <= normalise._FILLER
    assert {"textile", "cotton", "polysilicon"} <= normalise._GENERIC
    assert not normalise._FILLER & normalise._GENERIC
    assert normalise._MAP["sinkiang"] == "xinjiang"
    assert normalise._BIGRAMS[("hong", "kong")] == "hongkong"
    assert normalise.PLACES["kashgar"] == "CN-XJ"
    assert normalise.PLACES["zhundong"] == "CN-XJ"  # a continuation line
    assert normalise._CJK_LEGAL[0] == "股份有限公司"
    assert list(normalise._CJK_LEGAL) == sorted(normalise._CJK_LEGAL, key=len, reverse=True)
    # every file name the module reads is shipped with the package
    shipped = {p.name for p in screening.shipped_path().parent.iterdir()}
    assert {
        "screening-filler.txt",
        "screening-generic.txt",
        "screening-spellings.txt",
        "screening-places.txt",
        "screening-cjk-legal.txt",
    } <= shipped
