"""Tests of provenance.yields: the shipped table, lookups and file validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from provenance.yields import (
    SCHEMA,
    YieldRange,
    YieldTable,
    default_yields,
    load_yields,
    normalise_process,
)


@pytest.fixture(scope="module")
def table() -> YieldTable:
    return load_yields()


REQUIRED = [
    "cotton.ginning",
    "yarn.spinning",
    "fabric.knitting",
    "fabric.weaving",
    "fabric.dyeing",
    "apparel.cut_and_sew",
    "silicon.smelting",
    "polysilicon.refining",
    "ingot.growth",
    "wafer.slicing",
    "cell.manufacturing",
    "module.assembly",
    "cocoa.grinding",
    "coffee.processing",
    "tomato.paste",
    "seafood.filleting",
    "gold.refining",
]


@pytest.mark.parametrize("process", REQUIRED)
def test_common_processes_have_a_range(table: YieldTable, process: str) -> None:
    found = table.lookup(process)
    assert found is not None
    assert found.process == process
    assert 0 < found.min <= found.max <= 2
    assert found.basis
    assert found.source or found.assumption


def test_every_range_is_sourced_or_marked_as_an_assumption(table: YieldTable) -> None:
    for item in table.ranges.values():
        assert item.source or item.assumption, item.process
        assert item.input, item.process
        assert item.output, item.process
        if item.source and item.source.startswith("http"):
            assert item.source in item.references or not item.references


KNOWN = [
    ("ginning", "cotton.ginning", 0.30, 0.42),
    ("spinning", "yarn.spinning", 0.80, 0.92),
    ("cut_and_sew", "apparel.cut_and_sew", 0.70, 0.90),
    ("combed-is-lower", "yarn.spinning.combed", 0.65, 0.82),
]


@pytest.mark.parametrize(
    ("process", "low", "high"), [k[1:] for k in KNOWN], ids=[k[0] for k in KNOWN]
)
def test_documented_ranges(table: YieldTable, process: str, low: float, high: float) -> None:
    found = table.lookup(process)
    assert found is not None
    assert (found.min, found.max) == (low, high)


LOOKUPS = [
    ("alias", "ginning", "cotton.ginning"),
    ("alias-dotted", "cotton.spinning", "yarn.spinning"),
    ("case-and-spaces", " Apparel.Cut And Sew ", "apparel.cut_and_sew"),
    ("hyphen", "apparel.cut-and-sew", "apparel.cut_and_sew"),
    ("child-falls-back", "yarn.spinning.ring", "yarn.spinning"),
    ("child-of-alias", "ginning.saw", "cotton.ginning"),
    ("explicit-child-wins", "yarn.spinning.combed", "yarn.spinning.combed"),
    ("finishing-alias", "fabric.finishing", "fabric.dyeing"),
    ("cmt", "cmt", "apparel.cut_and_sew"),
]


@pytest.mark.parametrize(
    ("query", "expected"), [k[1:] for k in LOOKUPS], ids=[k[0] for k in LOOKUPS]
)
def test_lookup_by_alias_and_child(table: YieldTable, query: str, expected: str) -> None:
    found = table.lookup(query)
    assert found is not None
    assert found.process == expected


@pytest.mark.parametrize("query", ["", "unknown", "weaving_of_baskets.x", "cotton"])
def test_unknown_processes_have_no_range(table: YieldTable, query: str) -> None:
    assert table.lookup(query) is None


def test_module_range_is_against_all_inputs_not_cells(table: YieldTable) -> None:
    module = table.lookup("module.assembly")
    assert module is not None
    assert module.max <= 1.0
    assert "ALL" in module.basis
    assert "cells" in module.input


def test_contains_and_classify() -> None:
    r = YieldRange("x.y", 0.3, 0.4, basis="b", source="s", assumption=False)
    assert r.contains(0.35)
    assert not r.contains(0.41)
    assert r.contains(0.401, tolerance=0.01)
    assert [r.classify(v) for v in (0.2, 0.3, 0.4, 0.5)] == ["below", "within", "within", "above"]


def test_range_needs_source_or_assumption() -> None:
    with pytest.raises(ValueError, match="source or assumption"):
        YieldRange("x.y", 0.3, 0.4, basis="b", source=None, assumption=False)
    with pytest.raises(ValueError, match="min <= max"):
        YieldRange("x.y", 0.5, 0.4, basis="b", source="s", assumption=False)


def test_default_yields_is_cached_and_equals_shipped() -> None:
    assert default_yields() is default_yields()
    assert default_yields().processes == load_yields().processes
    assert default_yields().version == "1.0.0"


def test_normalise_process() -> None:
    assert normalise_process(" Fabric . Dyeing ") == "fabric.dyeing"
    assert normalise_process("cut and-sew") == "cut_and_sew"


# -- a replacement file

GOOD: dict[str, Any] = {
    "schema": SCHEMA,
    "version": "2.0.0",
    "processes": [
        {
            "process": "cotton.ginning",
            "aliases": ["gin"],
            "min": 0.33,
            "max": 0.40,
            "basis": "local gin records",
            "source": "https://example.org/gins",
            "assumption": False,
        }
    ],
}


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_file_overrides_the_shipped_table(tmp_path: Path) -> None:
    table = load_yields(write(tmp_path / "y.json", GOOD))
    assert table.version == "2.0.0"
    found = table.lookup("gin")
    assert found is not None
    assert (found.min, found.max) == (0.33, 0.40)
    assert table.lookup("yarn.spinning") is None


def changed(**entry: object) -> dict[str, Any]:
    doc = json.loads(json.dumps(GOOD))
    doc["processes"][0].update(entry)
    return doc


BAD = [
    ("schema", {**GOOD, "schema": "other"}, "schema"),
    ("version", {**GOOD, "version": ""}, "version"),
    ("no-processes", {**GOOD, "processes": []}, "processes"),
    ("bad-name", changed(process="Cotton Ginning"), "processes[0].process"),
    ("min-not-number", changed(min="0.3"), "processes[0].min"),
    ("bool-is-not-number", changed(max=True), "processes[0].max"),
    ("min-above-max", changed(min=0.5, max=0.4), "processes[0]"),
    ("no-source-no-assumption", changed(source=None, assumption=False), "processes[0]"),
    ("no-basis", changed(basis=""), "processes[0].basis"),
    ("duplicate", {**GOOD, "processes": GOOD["processes"] * 2}, "processes[1]"),
]


@pytest.mark.parametrize(("doc", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_tables_are_rejected(tmp_path: Path, doc: object, field: str) -> None:
    with pytest.raises(InputError) as info:
        load_yields(write(tmp_path / "y.json", doc))
    assert info.value.code == "invalid_yields"
    assert info.value.details["field"] == field


def test_unreadable_table(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_yields(tmp_path / "missing.json")
    assert info.value.code == "invalid_yields"
