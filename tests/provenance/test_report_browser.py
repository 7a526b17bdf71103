"""report.html rendered in a real browser: Debian's headless Chromium driven by Playwright.

The report is taken out of an exported bundle (the realistic chain of
``test_bundle.build_chain``) and opened from disk the way a CBP officer opens
it: the custody steps, the flow chart (inline SVG, flagged boxes in red with
the rule id), the findings and the verification appendix must be there, no
request may leave the page, no script may run, and it must print.

Without Chromium the browser tests skip and say so; with ``CI=true`` a
missing Chromium is a failure.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from provenance.bundle import export_bundle
from tests.conftest import chromium_path
from tests.provenance.bundle_support import ENTRY, SUBJECT, build_chain
from tests.support import World, q

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = chromium_path()
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); skipping browser tests")
    return path


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The exported bundle, unzipped as an officer would; returns (folder, verifier key)."""
    tmp = tmp_path_factory.mktemp("report")
    world = World(tmp / "home")
    build_chain(world, tmp)
    # a party whose name tries to inject markup: it must come out as text
    shady = world.party("shady", '<img src=x onerror="alert(1)"><script>alert(2)</script>', "US")
    sent = world.parties["gin"].submit(
        "dispatch", lot="gin/lint-1", quantity=q(100), unit="kg", to="shady"
    )
    shady.submit("receipt", dispatch=sent.digest, quantity=q(100), unit="kg")
    bundle = tmp / "entry.zip"
    export_bundle(
        world.ledger, SUBJECT, bundle, entry_number=ENTRY, documents_dir=world.home.documents
    )
    folder = tmp / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            target = folder / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
    return folder, world.ledger.verifier_key()


@dataclass
class Seen:
    """What the page asked for while it was open: requests (URLs) and dialogs (messages)."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


SEEN = Seen()


@pytest.fixture(scope="module")
def page(report_dir: tuple[Path, str]) -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import Dialog, Request, sync_playwright

    def on_request(request: Request) -> None:
        SEEN.requests.append(request.url)

    def on_dialog(dialog: Dialog) -> None:
        SEEN.dialogs.append(dialog.message)
        dialog.dismiss()

    folder, _ = report_dir
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.on("request", on_request)
        page.on("dialog", on_dialog)
        page.goto((folder / "report.html").as_uri())
        page.wait_for_load_state("load")
        yield page
        browser.close()


@pytest.mark.browser
def test_summary_says_entry_subject_and_verdict(page: Any):
    assert ENTRY in page.title()
    summary = page.locator("#summary")
    text = summary.inner_text()
    assert SUBJECT in text
    assert "Acme Apparel Inc" in text
    assert page.locator("#verdict").inner_text().strip().lower() == "fail"
    composition = page.locator("#composition").inner_text()
    assert "Xinjiang" in composition
    assert "Texas" in composition
    assert "Untraced" in composition
    key = page.locator("#key-findings").inner_text()
    assert "HIGH-RISK-REGION" in key
    assert "UNTRACED" in key
    toc = page.locator("nav.toc a")
    assert toc.count() == 10
    for href in toc.evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href


@pytest.mark.browser
def test_custody_steps_from_origin_to_import(page: Any):
    steps = page.locator("article.step")
    assert steps.count() == 14
    numbers = steps.evaluate_all("els => els.map(e => e.id)")
    assert numbers == [f"step-{i}" for i in range(1, 15)]
    first, last = steps.first.inner_text(), steps.last.inner_text()
    assert "Origin of cotton.seed" in first
    assert "Import into the United States" in last
    assert ENTRY in last
    kinds = steps.evaluate_all("els => els.map(e => e.className)")
    assert sum("kind-shipment" in k for k in kinds) == 7
    # a shipment names both parties, both quantities, both dates and its documents with hashes
    shipment = page.locator("article.step.kind-shipment").last.inner_text()
    assert "Caribe Logistics S. de R.L." in shipment
    assert "Acme Apparel Inc" in shipment
    assert "350 Fifth Avenue, New York, NY 10118" in shipment
    assert "dispatched" in shipment
    assert "received" in shipment
    assert "bol-export.pdf" in shipment
    assert re.search(r"sha256 [0-9a-f]{64}", shipment)
    links = page.locator("a[href^='documents/']")
    hrefs = set(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert len(hrefs) == 6
    assert all(re.fullmatch(r"documents/[0-9a-f]{64}", h) for h in hrefs)
    # the step with the untraced input is flagged
    spinning = page.locator("article.step.flagged", has_text="yarn.spinning")
    assert "UNTRACED" in spinning.inner_text()
    assert "Hai Long Fibers" in spinning.inner_text()


@pytest.mark.browser
def test_flow_chart_is_drawn_with_flagged_nodes(page: Any):
    svg = page.locator("svg#flow-chart")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box["width"] > 600
    assert box["height"] > 150
    nodes = page.locator("svg#flow-chart g.node")
    assert nodes.count() == 8  # 2 origins, 4 transformations, 1 holder (the exporter), the import
    flagged = page.locator("svg#flow-chart g.node.flagged")
    labels = flagged.locator("text.flag-label").all_text_contents()
    assert "HIGH-RISK-REGION" in labels
    assert "UNTRACED" in labels
    stroke = flagged.first.locator("rect").first.get_attribute("stroke")
    assert stroke == "#c62828"
    assert page.locator("svg#flow-chart path[marker-end]").count() == 7
    tiers = page.locator("svg#flow-chart > text").all_text_contents()
    assert tiers[0] == "Tier 6"
    assert tiers[-1] == "Finished good"
    # origins on the left, the finished good on the right
    xs = nodes.evaluate_all(
        "els => els.map(e => [e.dataset.kind, e.querySelector('rect').x.baseVal.value])"
    )
    origin_x = max(x for kind, x in xs if kind == "origin")
    import_x = min(x for kind, x in xs if kind == "import")
    assert origin_x < import_x


@pytest.mark.browser
def test_findings_mass_balance_and_appendix(page: Any, report_dir: tuple[Path, str]):
    rules = page.locator("#findings tr.finding").evaluate_all("els => els.map(e => e.dataset.rule)")
    assert {"HIGH-RISK-REGION", "UNTRACED", "CORROBORATION"} <= set(rules)
    balance = page.locator("#mass-balance tbody tr")
    assert balance.count() == 4
    assert "100,000 kg" in balance.first.inner_text()
    _, key = report_dir
    command = page.locator("#verify pre.cmd").inner_text()
    assert command == f"custody bundle verify FILE.zip --operator-key '{key}'"


@pytest.mark.browser
def test_self_contained_escaped_and_printable(
    page: Any, report_dir: tuple[Path, str], tmp_path: Path
):
    folder, _ = report_dir
    assert SEEN.requests
    assert all(url.startswith("file://") for url in SEEN.requests), SEEN.requests
    assert page.locator("script").count() == 0
    assert SEEN.dialogs == []
    others = page.locator("#other-statements").inner_text()
    assert '<img src=x onerror="alert(1)"><script>alert(2)</script>' in others
    html = (folder / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "@media print" in html
    page.screenshot(path=str(tmp_path / "report.png"))
    page.emulate_media(media="print")
    pdf = page.pdf(format="Letter", print_background=True)
    page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[0 0 (\d+) (\d+)\]", pdf)
    assert len(boxes) >= 4
    assert (b"612", b"792") in boxes  # letter, portrait
    assert (b"792", b"612") in boxes  # the flow chart on its own landscape page


@pytest.mark.browser
def test_large_traces_get_a_step_table_and_a_grouped_chart(
    page: Any, report_dir: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Past COMPACT_STEPS steps and MAX_CHART_NODES boxes (lowered here) the report stays
    readable: one table row per step, boxes grouped by tier, activity and place."""
    import json

    from ledger.checkpoint import parse_checkpoint, split_note
    from provenance.report import flowchart, html
    from provenance.verify import verify_entries

    folder, key = report_dir
    manifest = json.loads((folder / "manifest.json").read_text())
    leaves = [(e["seq"], (folder / e["path"]).read_bytes()) for e in manifest["entries"]]
    report = verify_entries(leaves, SUBJECT)
    monkeypatch.setattr(html, "COMPACT_STEPS", 5)
    monkeypatch.setattr(flowchart, "MAX_CHART_NODES", 4)
    text = html.render_report(
        report,
        entry_number=ENTRY,
        checkpoint=parse_checkpoint(split_note(manifest["checkpoint"])[0]),
        verifier_key=key,
        documents=[],
    )
    (folder / "large.html").write_text(text)
    page.goto((folder / "large.html").as_uri())
    rows = page.locator("table.steps-table tr.step-row")
    assert rows.count() == 14
    assert rows.evaluate_all("els => els.map(e => e.id)") == [f"step-{i}" for i in range(1, 15)]
    flagged = " ".join(page.locator("tr.step-row.flagged").all_inner_texts())
    assert "HIGH-RISK-REGION" in flagged
    assert "UNTRACED" in flagged
    assert "grouped with a count" in page.locator("#chart").inner_text()
    # boxes of one tier, activity and place merge: here every box is alone in its group
    assert page.locator("svg#flow-chart g.node").count() == 8
    assert page.locator("svg#flow-chart g.node.flagged").count() >= 2
    page.goto((folder / "report.html").as_uri())


def test_grouping_merges_boxes_of_one_tier_activity_and_place():
    from provenance.report.layout import ChartEdge, ChartNode, group_chart

    def box(key: str, tier: int, kind: str, place: str, flags: list[str]) -> ChartNode:
        return ChartNode(key, kind, f"1 · {kind}", key, place, "", None, flags, key, tier=tier)

    nodes = {
        "a": box("a", 2, "origin", "US-TX", []),
        "b": box("b", 2, "origin", "US-TX", []),
        "c": box("c", 2, "origin", "CN-XJ", ["HIGH-RISK-REGION"]),
        "d": box("d", 1, "transform", "US-TX", []),
        "e": box("e", 0, "import", "US", []),
    }
    edges = [ChartEdge(s, "d", None, None, s == "c") for s in "abc"] + [
        ChartEdge("d", "e", "7", "#step-7", False)
    ]
    grouped, new_edges, g = group_chart(nodes, edges)
    titles = sorted(n.title for n in grouped.values())
    assert titles == ["1 · import", "1 · origin", "1 · transform", "2 × origin"]
    xj = next(n for n in grouped.values() if n.place == "CN-XJ")
    assert xj.flags == ["HIGH-RISK-REGION"]
    assert len(new_edges) == 3
    assert sum(e.flagged for e in new_edges) == 1
    assert g.number_of_edges() == 3
