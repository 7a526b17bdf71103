"""The HTML report's custody view is the verifier's trace (provenance.report.view).

Steps come from :class:`provenance.trace.Trace`: its creators, consumers and the
received hand-offs on its custody path. A dispatch to another buyer of the same lot
is off the path: it is listed under "other statements", never as a step.
"""

from __future__ import annotations

from ledger.checkpoint import Checkpoint
from ledger.statements import Dispatch
from provenance.report.flowchart import chart
from provenance.report.html import render_report
from provenance.report.massbalance import balances
from provenance.report.view import View
from provenance.trace import Trace
from tests.provenance.chains import cotton
from tests.support import World

ENTRY = "ABC-1234567-8"
CHECKPOINT = Checkpoint("custody.test/ledger", 1, bytes(32))


def test_steps_follow_the_custody_path_of_the_trace(world: World):
    chain = cotton(world)
    report = chain.verify()
    view = View(report, ENTRY, [])
    trace = Trace.of(report.entries.values(), report.subject)
    assert [(s.kind, s.seq) for s in view.steps] == [
        ("origin", chain.seqs["origin"]),
        ("shipment", chain.seqs["dispatch_seed"]),
        ("transform", chain.seqs["ginning"]),
        ("shipment", chain.seqs["dispatch_lint"]),
        ("transform", chain.seqs["spinning"]),
        ("shipment", chain.seqs["dispatch_yarn"]),
        ("import", chain.seqs["import"]),
    ]
    path = {h.dispatch.digest for handoffs in trace.handoffs.values() for h in handoffs}
    shipped = {s.statement.digest for s in view.steps if s.kind == "shipment"}
    assert shipped == path
    # the receipt of each shipment belongs to its step
    assert view.step_of[chain.digests["receipt_lint"]].seq == chain.seqs["dispatch_lint"]
    # the other buyer's share of the lint is off the path
    others = {digest: (kind, what) for kind, _, what, digest, _ in view.others()}
    assert others[chain.digests["dispatch_sibling"]][0] == "dispatch"
    assert chain.digests["dispatch_sibling"] not in view.step_of
    assert chain.digests["receipt_sibling"] in others


def test_the_sibling_dispatch_is_in_the_page_but_not_a_step(world: World):
    chain = cotton(world)
    report = chain.verify()
    page = render_report(
        report, entry_number=ENTRY, checkpoint=CHECKPOINT, verifier_key="k", documents=[]
    )
    assert page == render_report(
        report, entry_number=ENTRY, checkpoint=CHECKPOINT, verifier_key="k", documents=[]
    )
    sibling = report.statements[chain.seqs["dispatch_sibling"]]
    assert isinstance(sibling, Dispatch)
    assert 'id="step-7"' in page
    assert 'id="step-8"' not in page
    assert "dispatch of 600 kg of lot gin/lint-1 to other (Other Mill)" in page


def test_chart_and_mass_balance_come_from_the_same_view(world: World):
    chain = cotton(world)
    view = View(chain.verify(), ENTRY, [])
    drawn = chart(view)
    # origin, two transforms and the import: one box each, in tiers from the origin
    assert [n.kind for n in drawn.nodes] == ["origin", "transform", "transform", "import"]
    assert [n.tier for n in drawn.nodes] == [3, 2, 1, 0]
    assert len(drawn.edges) == 3
    rows = balances(view)
    assert [r.step.seq for r in rows] == [chain.seqs["ginning"], chain.seqs["spinning"]]
    assert [str(r.output_kg) for r in rows] == ["9400", "2600"]
