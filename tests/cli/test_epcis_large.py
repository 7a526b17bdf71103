"""A document over 1 MiB (statements built and signed on worker processes, chunks
in flight) whose error declarations name events of the same chunk and of chunks
still being built or appended: each becomes a ``retract`` of the right statement."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.cli.support import Cli
from tests.cli.test_epcis_cli import _commission, _doc, _import, cli

__all__ = ["cli"]

N = 3200  # about 1.2 MB: over the 1 MiB of the worker-process path
DECLARED = {7: 5, 1001: 990, 2002: 1999, 3100: 1500}  # position → declared event index


def _event(i: int) -> dict[str, Any]:
    event = _commission("urn:epc:id:sgln:0614141.00000.0", lot=f"B{i}")
    event["eventID"] = f"urn:uuid:00000000-0000-4000-8000-{i:012x}"
    return event


def test_declarations_across_chunks_in_flight(cli: Cli) -> None:
    events: list[dict[str, Any]] = []
    index_of: dict[int, int] = {}  # commissioning number → document index
    number = 0
    while len(events) < N:
        target = DECLARED.get(len(events))
        if target is not None:
            declared = dict(events[index_of[target]])
            declared["errorDeclaration"] = {
                "declarationTime": "2026-03-02T08:00:00Z",
                "reason": "incorrect_data",
            }
            events.append(declared)
            continue
        index_of[number] = len(events)
        events.append(_event(number))
        number += 1
    doc = _doc(cli.dir, events)
    assert doc.stat().st_size > 1 << 20
    results = _import(cli, doc, "farm")
    assert not [r for r in results if "error" in r]
    assert all("seq" in r for r in results)
    for position, target in DECLARED.items():
        shown = cli.json("ledger", "show", "--seq", str(results[position]["seq"]))
        statement = json.loads(base64.b64decode(shown["envelope"]["payload"]))
        assert statement["type"] == "retract"
        assert statement["statement"] == results[index_of[target]]["digest"]
    again = _import(cli, doc, "farm")
    assert all(r.get("duplicate") for r in again)
