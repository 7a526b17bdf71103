"""Longest tests first, so that two xdist workers finish together.

With ``--dist loadgroup`` (``make pytest``) xdist hands tests out in collection
order, the first quarter round-robin and the rest to whichever worker is free.
The suite's wall time on two workers is bounded by its longest single tests, so
they should start first, not be picked up last by a worker the other one waits
for. ``tests/durations.json`` (optional, committed) holds the seconds each long
test took (setup, call and teardown), recorded with
``pytest --record-durations tests/durations.json``; a test not in it counts
:data:`SLOW_DEFAULT` seconds if marked ``slow`` and nothing otherwise. The sort
is stable: tests of equal weight keep their order, so a module's tests stay
together and share their module fixtures. Ordering never changes what a test
asserts, and a missing or stale file only costs time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

DURATIONS_FILE = Path(__file__).with_name("durations.json")
SLOW_DEFAULT = 20.0  # seconds assumed for a `slow` test with no recorded duration
RECORD_AT_LEAST = 2.0  # shorter tests are not worth recording


def load(path: Path = DURATIONS_FILE) -> dict[str, float]:
    """The recorded durations, or none when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}


def plain_id(nodeid: str) -> str:
    """``nodeid`` without the ``@group`` suffix that ``--dist loadgroup`` adds to the
    tests marked ``xdist_group`` (parameter ids may hold an ``@`` of their own)."""
    at = nodeid.rfind("@")
    return nodeid[:at] if at > nodeid.rfind("]") and at > nodeid.rfind("::") else nodeid


def group_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def weight(item: pytest.Item, durations: Mapping[str, float]) -> float:
    recorded = durations.get(plain_id(item.nodeid))
    if recorded is not None:
        return recorded
    return SLOW_DEFAULT if item.get_closest_marker("slow") is not None else 0.0


def longest_first(items: list[pytest.Item], durations: Mapping[str, float]) -> None:
    """Sort ``items`` in place, longest first; equal weights keep their order.

    The tests of one ``xdist_group`` go to one worker as one unit: they weigh
    together (their sum) and stay side by side, longest first within the group.
    """
    own = {id(item): weight(item, durations) for item in items}
    groups: dict[str, float] = {}
    for item in items:
        group = group_of(item)
        if group is not None:
            groups[group] = groups.get(group, 0.0) + own[id(item)]

    def key(item: pytest.Item) -> tuple[float, str, float]:
        group = group_of(item)
        if group is None:
            return (-own[id(item)], "", 0.0)
        return (-groups[group], group, -own[id(item)])

    items.sort(key=key)


class Recorder:
    """Adds up each test's phases and writes those of at least RECORD_AT_LEAST s."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = {}

    def add(self, report: pytest.TestReport) -> None:
        nodeid = plain_id(report.nodeid)
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + report.duration

    def write(self) -> None:
        merged = load(self.path)
        for nodeid, seconds in self.seconds.items():
            if seconds >= RECORD_AT_LEAST:
                merged[nodeid] = round(seconds, 1)
            else:
                merged.pop(nodeid, None)
        ordered = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
        self.path.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
