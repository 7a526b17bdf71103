"""The suite's order (tests/durations.py): longest first, an xdist group as one unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from tests import durations


@dataclass
class Mark:
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Item:
    """What ``longest_first`` reads of a collected test."""

    nodeid: str
    marks: dict[str, Mark] = field(default_factory=dict)

    def get_closest_marker(self, name: str) -> Mark | None:
        return self.marks.get(name)


def order(items: list[Item], recorded: dict[str, float]) -> list[str]:
    as_items = cast(list[pytest.Item], items)
    durations.longest_first(as_items, recorded)
    return [item.nodeid for item in as_items]


def test_plain_id_drops_only_the_group_suffix() -> None:
    assert durations.plain_id("tests/a.py::test_x@deep") == "tests/a.py::test_x"
    assert durations.plain_id("tests/a.py::test_x[p]@deep") == "tests/a.py::test_x[p]"
    assert durations.plain_id("tests/a.py::test_x[a@b]") == "tests/a.py::test_x[a@b]"
    assert durations.plain_id("tests/a@b.py::test_x") == "tests/a@b.py::test_x"


def test_longest_first_with_groups_as_units() -> None:
    group = {"xdist_group": Mark(("g",))}
    items = [
        Item("t.py::short"),
        Item("t.py::g1@g", group),
        Item("t.py::slow", {"slow": Mark()}),
        Item("t.py::long"),
        Item("t.py::g2@g", group),
        Item("t.py::unknown"),
    ]
    recorded = {"t.py::short": 3.0, "t.py::long": 30.0, "t.py::g1": 12.0, "t.py::g2": 14.0}
    # the group weighs 26 s (recorded under plain ids), the slow test 20 s by default
    assert order(items, recorded) == [
        "t.py::long", "t.py::g2@g", "t.py::g1@g", "t.py::slow", "t.py::short", "t.py::unknown",
    ]  # fmt: skip


def test_recorder_writes_plain_ids(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    recorder = durations.Recorder(path)
    for when, seconds in (("setup", 1.5), ("call", 2.0), ("teardown", 0.1)):
        report = pytest.TestReport("t.py::g1@g", ("t.py", 1, "g1"), {}, "passed", None, when, [])
        report.duration = seconds
        recorder.add(report)
    recorder.write()
    assert durations.load(path) == {"t.py::g1": 3.6}
