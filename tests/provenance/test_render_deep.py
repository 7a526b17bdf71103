"""Regression (issue 10 item 5): ``custody trace`` crashed with a RecursionError on a
10,000-deep chain. Nothing that walks a trace recurses over its depth: the text tree,
DOT, JSON, ``custody verify`` and the HTML report all handle a 10,000-deep chain.

The chains are real signed statements appended through ``Ledger.submit``; the trace
and verify commands run as processes of the installed ``custody`` script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.checkpoint import parse_checkpoint, split_note
from provenance.render import MAX_INDENT, trace_dot, trace_json, trace_text
from provenance.report.html import render_report
from provenance.verify import verify_lot
from tests.support import World, q, site

BIN = Path(sys.executable).with_name("custody")
DEPTH = 10_000


def deep_chain(world: World, depth: int) -> str:
    """An origin, then ``depth`` transforms, each consuming the lot the previous one made."""
    farm = world.party("farm", "Deep Farm", subdivision="US-TX")
    where = site("Deep farm", "US", "US-TX")
    lot = {"id": "farm/lot-0", "material": "cotton.seed", "quantity": q(1000), "unit": "kg"}
    farm.submit("origin", lot=lot, site=where)
    batch = []
    for i in range(1, depth + 1):
        batch.append(
            farm.envelope(
                "transform",
                process="cotton.cleaning",
                inputs=[{"lot": f"farm/lot-{i - 1}", "quantity": q(1000), "unit": "kg"}],
                outputs=[{**lot, "id": f"farm/lot-{i}"}],
                site=where,
                time=world.tick(1),
            )
        )
        if len(batch) == 500 or i == depth:
            for result in world.ledger.submit(batch):
                assert result.error is None, result.error
            batch = []
    return f"farm/lot-{depth}"


@pytest.fixture(scope="session")
def deep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """Built once: the tests that read it share one xdist group, so one worker runs them."""
    world = World(tmp_path_factory.mktemp("deep") / "home")
    lot = deep_chain(world, DEPTH)
    yield world, lot
    world.close()


def custody(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    return subprocess.run(
        [str(BIN), *args, "--home", str(world.home.path)],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=300,
        check=False,
    )


def lots_in(text: str) -> set[str]:
    return {
        line.split("LOT ", 1)[1].split(" ", 1)[0] for line in text.splitlines() if "LOT " in line
    }


@pytest.mark.slow
@pytest.mark.xdist_group("deep_chain")
def test_trace_of_a_10000_deep_chain_as_text(deep: tuple[World, str]):
    world, lot = deep
    proc = custody(world, "trace", lot)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert out.startswith(f"Trace of lot {lot}: verdict PASS\n")
    assert lots_in(out) == {f"farm/lot-{i}" for i in range(DEPTH + 1)}
    assert "origin by farm (Deep Farm) at Deep farm, US-TX" in out
    assert out.endswith("  100.00%  US-TX  cotton.seed\n     0.00%  untraced\n")
    # the indentation starts again at the left margin every MAX_INDENT levels
    assert out.count(": the tree goes on at the left margin") == 2 * DEPTH // MAX_INDENT
    assert max(len(line) for line in out.splitlines()) < 3 * MAX_INDENT + 120


@pytest.mark.slow
@pytest.mark.xdist_group("deep_chain")
def test_trace_of_a_10000_deep_chain_as_json_and_dot(deep: tuple[World, str]):
    world, lot = deep
    proc = custody(world, "trace", lot, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "pass"
    lots = {n["lot"] for n in doc["graph"]["nodes"] if n.get("kind") == "lot"}
    assert len(lots) == DEPTH + 1
    proc = custody(world, "trace", lot, "--format", "dot")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f'digraph "trace {lot}" {{')
    assert proc.stdout.rstrip().endswith("}")
    assert proc.stdout.count("shape=box") == DEPTH + 1


@pytest.mark.slow
@pytest.mark.xdist_group("deep_chain")
def test_verify_and_the_html_report_of_a_10000_deep_chain(deep: tuple[World, str]):
    world, lot = deep
    proc = custody(world, "verify", lot)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("verdict: pass")
    ledger = world.ledger
    report = verify_lot(ledger.store, lot)
    page = render_report(
        report,
        entry_number=None,
        checkpoint=parse_checkpoint(split_note(ledger.checkpoint())[0]),
        verifier_key=ledger.verifier_key(),
        documents=[],
    )
    assert page.rstrip().endswith("</html>")
    assert 'id="step-10001"' in page  # the origin and 10,000 transforms, one step each


def test_text_tree_folds_indentation_of_deep_chains(world: World):
    """Below MAX_INDENT levels nothing changes; deeper, the tree goes on at the margin."""
    lot = deep_chain(world, MAX_INDENT + 5)
    report = verify_lot(world.ledger.store, lot)
    text = trace_text(report)
    assert text == trace_text(trace_json(report))
    lines = text.splitlines()
    marker = f"┆ depth {MAX_INDENT}: the tree goes on at the left margin"
    at = lines.index(marker)
    assert lines[at - 1].startswith(" " * 3 * (MAX_INDENT - 1) + "└─ ")
    assert lines[at + 1].startswith("└─ ")
    assert lots_in(text) == {f"farm/lot-{i}" for i in range(MAX_INDENT + 6)}
    assert trace_dot(report).count("shape=box") == MAX_INDENT + 6
