"""Tracing (SPEC §6): what ``collect`` reads, the networkx graph, and its renderings."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from ledger.errors import NotFoundError
from ledger.statements import Party, parse_statement
from ledger.store import node_id
from provenance.graph import Trace, build_graph, collect, lot_node, party_node, stmt_node
from provenance.render import trace_dot, trace_json, trace_text
from provenance.verify import read_leaves, verify_entries
from tests.provenance.chains import cotton
from tests.support import World, q, site


def seqs_of(world: World, lot: str) -> list[int]:
    with world.ledger.store.read() as r:
        return [e.seq for e in collect(r, lot).entries]


def unrelated_chain(world: World) -> list[int]:
    """Another good in the same ledger: none of it belongs to the cotton trace."""
    farm = world.party("farm-2", "Other Farm")
    mill = world.party("mill-2", "Other Mill")
    a = farm.submit(
        "origin",
        lot={"id": "farm-2/wool-1", "material": "wool.greasy", "quantity": q(500), "unit": "kg"},
        site=site("NZ farm", "NZ"),
    )
    d = farm.submit("dispatch", lot="farm-2/wool-1", quantity=q(500), unit="kg", to="mill-2")
    r = mill.submit("receipt", dispatch=d.digest, quantity=q(500), unit="kg")
    seqs = [a.seq, d.seq, r.seq]
    assert None not in seqs
    return [s for s in seqs if s is not None]


def test_collect_reads_the_trace_and_nothing_else(world: World):
    chain = cotton(world)
    other = unrelated_chain(world)
    seqs = seqs_of(world, chain.subject)
    assert seqs == sorted(seqs)
    assert 0 in seqs  # the operator's registration
    # every statement of the chain, siblings included (the other buyer's share of lint)
    for name in ("origin", "ginning", "dispatch_sibling", "receipt_sibling", "import"):
        assert chain.seqs[name] in seqs
    assert not set(other) & set(seqs)
    # the parties' registrations are there, the unrelated parties' are not
    with world.ledger.store.read() as r:
        found = collect(r, chain.subject)
        registered = {
            st.party.id
            for e in found.entries
            if isinstance(st := parse_statement(_payload(e.leaf)), Party)
        }
    assert {"operator", "farm", "gin", "spin", "other", "imp"} <= registered
    assert "farm-2" not in registered
    assert found.lots == {"spin/yarn-1", "gin/lint-1", "farm/seed-1"}
    assert found.missing_seqs == []
    assert all(found.leaf_nodes[e.seq] == e.leaf_hash for e in found.entries)


def _payload(leaf: bytes) -> bytes:
    import base64

    return base64.b64decode(json.loads(leaf)["envelope"]["payload"])


def test_collect_upstream_only(world: World):
    chain = cotton(world)
    # tracing the lint does not pull in the yarn made from it downstream...
    lint = seqs_of(world, "gin/lint-1")
    assert chain.seqs["ginning"] in lint
    assert chain.seqs["spinning"] in lint  # ...except the draw on the lint itself
    assert chain.seqs["import"] not in lint
    assert chain.seqs["dispatch_yarn"] not in lint


def test_collect_missing_lot(world: World):
    with world.ledger.store.read() as r, pytest.raises(NotFoundError):
        collect(r, "no/such-lot")


def test_leaf_node_ids_are_seqs():
    # collect joins the Merkle leaf node (0, seq) as nodes.id = seq
    assert node_id(0, 12345) == 12345


@pytest.mark.postgres
def test_collect_and_verify_on_postgresql(pg_world: World):
    chain = cotton(pg_world)
    unrelated_chain(pg_world)
    with pg_world.ledger.store.read() as r:
        found = collect(r, chain.subject)
    assert found.lots == {"spin/yarn-1", "gin/lint-1", "farm/seed-1"}
    assert chain.seqs["dispatch_sibling"] in {e.seq for e in found.entries}
    report = chain.verify()
    assert report.verdict == "pass", report.findings


def test_trace_recomputes_the_walk_and_the_custody_path(world: World):
    chain = cotton(world)
    with world.ledger.store.read() as r:
        found = collect(r, chain.subject)
    leaves = read_leaves([(e.seq, e.leaf) for e in found.entries])
    trace = Trace.of(leaves.parsed.values(), chain.subject)
    assert trace.lots == found.lots
    assert trace.holders["gin/lint-1"] == {"gin", "spin"}  # "other" bought lint off the path
    assert [h.dispatch.digest for h in trace.handoffs["gin/lint-1"]] == [
        chain.digests["dispatch_lint"]
    ]
    assert trace.path_parties() == {"farm", "gin", "spin", "imp"}
    assert [e.digest for e in trace.consumers["spin/yarn-1"]] == [chain.digests["import"]]


def test_graph_nodes_and_edges(world: World):
    chain = cotton(
        world,
        external={"material": "polyester.fiber", "quantity": q(10), "unit": "kg", "country": "KR"},
    )
    lab = world.party("lab", "Lab", "DE", roles=("lab",))
    lab.submit(
        "evidence",
        lots=["farm/seed-1"],
        kind="dna_test",
        document={
            "sha256": "d" * 64,
            "name": "dna.pdf",
            "media_type": "application/pdf",
            "size": 1,
        },
    )
    report = chain.verify()
    g = report.graph
    kinds = nx.get_node_attributes(g, "kind")
    assert {kinds[lot_node(lot)] for lot in ("spin/yarn-1", "gin/lint-1", "farm/seed-1")} == {"lot"}
    assert kinds[party_node("gin")] == "party"
    ext = [n for n, k in kinds.items() if k == "external"]
    assert len(ext) == 1
    assert g.nodes[ext[0]]["untraced"] is True
    edge_kinds = {d["kind"] for _, _, d in g.edges(data=True)}
    assert {
        "creates",
        "input",
        "output",
        "external_input",
        "dispatch",
        "handoff",
        "import",
        "evidence",
        "issued",
        "addressed",
    } <= edge_kinds
    origin = stmt_node(chain.digests["origin"])
    assert g.has_edge(origin, lot_node("farm/seed-1"))
    assert g.has_edge(lot_node("gin/lint-1"), stmt_node(chain.digests["spinning"]))
    assert g.has_edge(stmt_node(chain.digests["spinning"]), lot_node("spin/yarn-1"))
    assert g.has_edge(
        stmt_node(chain.digests["dispatch_lint"]), stmt_node(chain.digests["receipt_lint"])
    )
    attrs = g.nodes[origin]
    assert attrs["country"] == "US"
    assert attrs["subdivision"] == "US-TX"
    assert attrs["quantity"] == "10000"
    assert attrs["unit"] == "kg"
    assert attrs["party"] == "farm"
    assert attrs["seq"] == chain.seqs["origin"]
    assert attrs["time"].endswith("Z")
    assert attrs["digest"] == chain.digests["origin"]
    assert g.nodes[stmt_node(chain.digests["dispatch_sibling"])]["on_path"] is False
    assert g.nodes[stmt_node(chain.digests["dispatch_lint"])]["on_path"] is True
    assert nx.is_directed_acyclic_graph(g)
    # flagged: the untraced external input
    assert "UNTRACED" in g.nodes[ext[0]]["flags"]
    assert json.dumps(nx.node_link_data(g, edges="edges"))  # every attribute is JSON-ready


def test_build_graph_from_statements(world: World):
    chain = cotton(world)
    with world.ledger.store.read() as r:
        found = collect(r, chain.subject)
    leaves = read_leaves([(e.seq, e.leaf) for e in found.entries])
    g = build_graph(leaves.parsed.values(), chain.subject)
    assert lot_node("farm/seed-1") in g
    assert g.graph["subject"] == chain.subject
    with pytest.raises(ValueError, match="subject"):
        build_graph(leaves.parsed.values())


def test_text_tree_lines_carry_party_place_quantity_and_date(world: World):
    chain = cotton(world, farm_site=site("Aksu farm", "CN", "CN-XJ"))
    text = trace_text(chain.verify())
    lines = text.splitlines()
    assert lines[0] == "Trace of lot spin/yarn-1: verdict FAIL"
    assert lines[1].startswith(
        "LOT spin/yarn-1 · yarn.cotton · 2600 kg · by spin (Carolina Spinning)"
    )
    origin = next(line for line in lines if "origin by farm" in line)
    assert "Aksu farm, CN-XJ" in origin
    assert "10000 kg" in origin
    assert "2026-03-01" in origin
    assert "[x HIGH-RISK-REGION]" in origin
    assert any(
        "hand-off gin (Plains Gin) → spin (Carolina Spinning) · 3000 kg" in line for line in lines
    )
    assert any(line.lstrip("│ ").startswith("└─ LOT farm/seed-1") for line in lines)
    # depth: the origin is indented below ginning below spinning
    assert origin.index("└─ origin") > next(ln for ln in lines if "cotton.ginning" in ln).index(
        "└─ cotton"
    )
    assert "Composition by origin:" in text
    assert "CN-XJ  cotton.seed" in text


def test_text_tree_shows_a_lot_reached_twice_once(world: World):
    farm = world.party("farm", "Farm")
    mill = world.party("mill", "Mill")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
        site=site(),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(100), unit="kg", to="mill")
    mill.submit("receipt", dispatch=d.digest, quantity=q(100), unit="kg")
    for out, kg in (("mill/a", 40), ("mill/b", 60)):
        mill.submit(
            "transform",
            process="splitting",
            inputs=[{"lot": "farm/seed-1", "quantity": q(kg), "unit": "kg"}],
            outputs=[{"id": out, "material": "cotton.seed.part", "quantity": q(kg), "unit": "kg"}],
            site=site(),
        )
    mill.submit(
        "transform",
        process="blending",
        inputs=[
            {"lot": "mill/a", "quantity": q(40), "unit": "kg"},
            {"lot": "mill/b", "quantity": q(60), "unit": "kg"},
        ],
        outputs=[
            {"id": "mill/blend", "material": "cotton.blend", "quantity": q(100), "unit": "kg"}
        ],
        site=site(),
    )
    from provenance.verify import verify_lot

    report = verify_lot(world.ledger.store, "mill/blend")
    text = trace_text(report)
    assert text.count("LOT farm/seed-1") == 2
    assert text.count("(shown above)") == 1
    assert report.composition[0].share == 1


def test_dot_and_json_renderings(world: World):
    chain = cotton(world, yarn_kg=5000)  # MASS error on spinning
    report = chain.verify()
    dot = trace_dot(report)
    assert dot.startswith('digraph "trace spin/yarn-1" {')
    assert dot.rstrip().endswith("}")
    spinning = stmt_node(chain.digests["spinning"])
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"{spinning}" ['))
    assert "color=red" in line
    assert "MASS" in line
    assert f'"{lot_node("gin/lint-1")}" -> "{spinning}"' in dot
    assert "party:" not in dot  # parties are in the labels
    doc = trace_json(report)
    for key in ("subject", "verdict", "findings", "composition", "untraced_share"):
        assert key in doc
    assert doc["schema"] == "custody-trace/1"
    assert doc["import_entries"] == ["ABC-1234567-8"]
    assert {n["id"] for n in doc["graph"]["nodes"]} == set(report.graph.nodes)
    again = json.loads(json.dumps(doc))
    assert trace_text(again) == trace_text(report)
    assert trace_dot(again) == dot


def test_verify_entries_on_the_collected_leaves_matches_verify_lot(world: World):
    chain = cotton(world)
    with world.ledger.store.read() as r:
        pairs = [(e.seq, e.leaf) for e in collect(r, chain.subject).entries]
    offline = verify_entries(pairs, chain.subject)
    online = chain.verify()
    assert offline.to_json() == online.to_json()
    assert set(offline.statements) == {s for s, _ in pairs}
    assert all(offline.received_at[s].tzinfo is not None for s in offline.statements)


def test_verify_entries_missing_subject():
    with pytest.raises(NotFoundError):
        verify_entries([], "nothing")
