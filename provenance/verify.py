"""Verify a subject lot from its evidence: findings, composition, verdict (SPEC §6, §10).

Verification recomputes everything it relies on from the ledger leaves
(SPEC §5 leaf bytes) and never trusts stored verdicts or derived tables.
:func:`verify_entries` is pure and offline: it takes ``(seq, leaf bytes)``
pairs only, so the same code judges a live ledger and an evidence bundle
(SPEC §7). Its steps, one small function each:

1. :func:`read_leaves` (:mod:`provenance.leaves`): every leaf decodes with the
   leaf codec (:func:`ledger.leaf.decode_leaf`: ``{"seq", "prev",
   "received_at", "envelope"}`` with the expected seq, its DSSE envelope, SPEC
   §4) and its statement parses (SPEC §3); a leaf that does not is an
   INTEGRITY finding;
2. :func:`check_chain` (:mod:`provenance.leaves`): the hash chain (``prev`` of
   seq n+1 equals the leaf hash of seq n) wherever consecutive seqs are
   present, and ``received_at`` (as parsed times) never going back;
3. :func:`trace_subject`: the subject's upstream trace, recomputed from the
   statements (:class:`provenance.graph.Trace`);
4. :func:`replay_trace`: the statements replayed in seq order through the
   custody state machine over a state scoped to the traced lots
   (:mod:`provenance.replay`): signatures, keys, holdings, receipts. The
   signatures by keys the evidence registers are checked ahead, in batches
   fed while step 1 reads the leaves (:func:`start_signatures`), by a
   ``verifier`` that may fan out to processes and work meanwhile. Steps 4-8
   do not wait for those checks: a verdict not known yet counts as valid, and
   if one such guess does not hold they are done again with the real verdicts
   (:class:`ledger.sigcheck.Guess`), so the report is the one the verdicts give;
5. :func:`compose_subject`: the subject's composition by origin
   (:mod:`provenance.composition`);
6. :func:`run_rules`: the SPEC §6 rules (:data:`provenance.rules.DEFAULT_RULES`),
   the document rules judged by the document policy ``profile`` (default
   ``cbp-uflpa``, :mod:`provenance.rules.profile`); then the documents-per-hop
   matrix and checklist (:mod:`provenance.rules.matrix`);
7. :func:`verdict_of` (:mod:`provenance.verdict`): ``fail`` if any error,
   else ``incomplete`` if any gap, else ``pass``;
8. :func:`build_graph` and :func:`flag_nodes`: the networkx provenance graph,
   its nodes flagged by the findings; built on first use of
   :attr:`Report.graph` (``custody trace``, the HTML report), since the
   verdict does not need it.

:func:`verify_lot` adds, around those steps, the reading of the evidence from
storage (:func:`provenance.graph.collect`, one read transaction) and
store-level INTEGRITY checks (:func:`check_store`, :mod:`provenance.leaves`:
each stored leaf hash and Merkle leaf node ``(0, seq)`` against the leaf bytes,
the indexed columns against the payload, index rows naming missing entries).

:class:`Report` (:mod:`provenance.verdict`) is the non-raising result;
:func:`ensure_pass` raises :class:`VerificationError` unless the verdict is ``pass``.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ledger.custody import SigCheck
from ledger.errors import NotFoundError
from ledger.sigcheck import AutoVerifier, BatchVerifier, Preverified
from ledger.sigpool import feeding_workers
from ledger.statements import (
    Import,
    Origin,
    Transform,
)
from provenance.composition import Composition, Share, compose
from provenance.graph import Trace, collect, stmt_node
from provenance.graph import build_graph as _build_graph
from provenance.leaves import Leaves, check_chain, check_store, read_leaves
from provenance.replay import Replay, replay
from provenance.retracted import in_force, retractions
from provenance.rules import DEFAULT_RULES, RULE_IDS
from provenance.rules.base import SEVERITIES, Context, Finding, Rule
from provenance.rules.matrix import documents_matrix
from provenance.rules.profile import Profile, load_profile
from provenance.screening import ScreeningData, default_screening
from provenance.verdict import (
    Report,
    Verdict,
    VerificationError,
    ensure_pass,
    verdict_of,
)
from provenance.yields import YieldTable, default_yields

if TYPE_CHECKING:  # offline verification never loads the store (nor networkx)
    import networkx as nx

    from ledger.store import Store

__all__ = [
    "Finding",
    "Leaves",
    "Report",
    "Share",
    "Verdict",
    "VerificationError",
    "batch",
    "check_chain",
    "check_store",
    "ensure_pass",
    "flag_nodes",
    "read_leaves",
    "verdict_of",
    "verify_entries",
    "verify_lot",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- steps 3-6


def trace_subject(leaves: Leaves, subject: str) -> Trace:
    """Step 3: the subject's trace, from the statements alone.

    Raises NotFoundError when no statement names the subject and every leaf
    was read (with unreadable leaves, the report says so instead).
    """
    trace = Trace.of(leaves.parsed.values(), subject)
    named = subject in trace.creators or trace.on_lot.get(subject)
    if not named and not leaves.unreadable:
        raise NotFoundError(
            f"lot {subject!r} is not named by any statement of the evidence",
            details={"lot": subject},
        )
    return trace


def start_signatures(verifier: BatchVerifier | None = None, expected: int = 0) -> Preverified:
    """Step 4a: the batch of signature checks, fed while the leaves are read (step 1).

    ``verifier`` defaults to :class:`ledger.sigcheck.AutoVerifier`: a small trace
    is checked on this core, the bulk of a large one on worker processes while
    steps 1, 2, 3 and 5 run here (``expected``, the number of entries, starts the
    workers before the first leaf is read); any verifier with ``submit``
    (:class:`ledger.sigcheck.ProcessVerifier`) works in other processes too.
    """
    return Preverified(verifier or AutoVerifier(expected=expected))


def read_evidence(
    entries: Sequence[tuple[int, bytes]], verifier: BatchVerifier | None = None
) -> tuple[Leaves, Preverified]:
    """Steps 1 and 4a: the leaves read here, their signature checks started meanwhile
    (:func:`start_signatures`; on worker processes for a large trace)."""
    signatures = start_signatures(verifier, len(entries))
    return read_leaves(entries, signatures), signatures


def replay_trace(
    leaves: Leaves, trace: Trace, preverified: Preverified | SigCheck | None = None
) -> Replay:
    """Step 4: replay through the custody state machine, scoped to the traced lots.

    ``preverified``: the checks started ahead, or a signature check to use as is
    (a :class:`ledger.sigcheck.Guess` or :class:`ledger.sigcheck.Memo`).
    """
    lots = set(trace.lots)
    if preverified is None or isinstance(preverified, Preverified):
        return replay(leaves.parsed.values(), lots, preverified=preverified)
    return replay(leaves.parsed.values(), lots, preverified, verifier=None)


def compose_subject(trace: Trace) -> Composition:
    """Step 5: the subject's composition by origin."""
    creators: dict[str, Origin | Transform] = {}
    for lot, e in trace.creators.items():
        if isinstance(e.statement, Origin | Transform):
            creators[lot] = e.statement
    return compose(trace.subject, creators)


def build_graph(leaves: Leaves, trace: Trace) -> nx.DiGraph[str]:
    """Step 8: the provenance graph (built on first use of :attr:`Report.graph`)."""
    return _build_graph(leaves.parsed.values(), trace=trace)


# --------------------------------------------------------------------------- steps 7-9


def run_rules(ctx: Context, rules: Sequence[Rule] = DEFAULT_RULES) -> list[Finding]:
    """Step 6: every rule's findings, by severity then rule order."""
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(ctx))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    order = {r: i for i, r in enumerate(RULE_IDS)}
    findings.sort(key=lambda f: (rank[f.severity], order.get(f.rule, len(order))))
    return findings


def flag_nodes(graph: nx.DiGraph[str], findings: Iterable[Finding]) -> None:
    """Step 8: mark the nodes each finding names (``flags``: rule ids; ``severity``)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    for f in findings:
        nodes = [stmt_node(d) for d in f.statements]
        extra = f.details.get("nodes")
        if isinstance(extra, list):
            nodes.extend(str(n) for n in extra)
        for node in nodes:
            if node not in graph:
                continue
            attrs = graph.nodes[node]
            flags = attrs.setdefault("flags", [])
            if f.rule not in flags:
                flags.append(f.rule)
            worst = attrs.get("severity")
            if worst is None or rank[f.severity] < rank[worst]:
                attrs["severity"] = f.severity


# --------------------------------------------------------------------------- entry points


@contextmanager
def batch() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    One verification, export or bundle check at a time (:mod:`provenance.bundle`
    uses it too; nested uses leave it to the outermost). Verification allocates
    tens of thousands of acyclic objects (statements, entries, graph attributes)
    that live until the report is dropped; each full collection would walk them
    all again (a third of the time of a 10,000-statement trace). Reference
    counting still frees garbage; the collector is resumed afterwards if it was
    running before, with what was made meanwhile handed to its oldest generation
    at once (``gc.freeze`` then ``gc.unfreeze``, two list splices) rather than
    walked by its next young collection (20-60 ms after a 10,000-statement
    trace); garbage cycles among those objects go at the next full collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _judge(
    leaves: Leaves,
    subject: str,
    screening: ScreeningData | None,
    yields: YieldTable | None,
    signatures: Preverified,
    profile: Profile | None = None,
) -> Report:
    """Steps 3-8 without waiting for the signature checks still running elsewhere.

    The judgement is a pure function of the leaves and of the signature verdicts:
    it is made with every verdict not known yet taken as valid
    (:class:`ledger.sigcheck.Guess`), and made again with the real verdicts in the
    rare case that a guess did not hold, so the report is the one the verdicts give.
    """
    guess = signatures.guess()
    report = _judge_with(leaves, subject, screening, yields, guess, profile)
    memo = guess.confirm()
    if memo is None:
        return report
    return _judge_with(leaves, subject, screening, yields, memo, profile)


def _judge_with(
    leaves: Leaves,
    subject: str,
    screening: ScreeningData | None,
    yields: YieldTable | None,
    signatures: SigCheck,
    profile: Profile | None = None,
) -> Report:
    screening = screening or default_screening()
    yields = yields or default_yields()
    profile = profile or load_profile(None)
    retracted = retractions(leaves.parsed.values())
    live = dataclasses.replace(leaves, parsed=in_force(leaves.parsed, retracted))
    trace = trace_subject(live, subject)
    composition = compose_subject(trace)
    replayed = replay_trace(leaves, trace, signatures)
    ctx = Context(
        subject,
        live.parsed,
        trace,
        replayed,
        composition,
        screening,
        yields,
        leaves.problems,
        profile,
    )
    findings = run_rules(ctx)
    verdict = verdict_of(findings)

    def graph() -> nx.DiGraph[str]:
        with batch():
            g = build_graph(live, trace)
        flag_nodes(g, findings)
        g.graph.update(
            verdict=verdict,
            screening_version=screening.version,
            yields_version=yields.version,
        )
        return g

    imports = [
        e.statement.entry_number
        for e in trace.on_lot.get(subject, [])
        if isinstance(e.statement, Import)
    ]
    log.info("verified lot %s: %s (%d findings)", subject, verdict, len(findings))
    return Report(
        subject=subject,
        verdict=verdict,
        findings=findings,
        composition=composition.shares,
        untraced_share=composition.untraced_share,
        statements={seq: live.parsed[seq].statement for seq in sorted(live.parsed)},
        screening_version=screening.version,
        yields_version=yields.version,
        import_entries=imports,
        received_at={seq: live.parsed[seq].received_at for seq in sorted(live.parsed)},
        entries=dict(sorted(live.parsed.items())),
        graph_builder=graph,
        trace=trace,
        retracted=retracted,
        profile=profile,
        documents_matrix=documents_matrix(ctx, findings),
    )


def verify_entries(
    entries: Sequence[tuple[int, bytes]],
    subject: str,
    *,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    verifier: BatchVerifier | None = None,
    profile: Profile | None = None,
) -> Report:
    """Verify ``subject`` from ``(seq, verbatim leaf bytes)`` pairs alone (pure, offline).

    ``entries`` should hold what :func:`provenance.graph.collect` gathers (the
    trace, every statement naming a traced lot, the parties' key history and
    seq 0); anything missing shows up as findings, not as a pass. Raises
    NotFoundError only when no statement names the subject.
    """
    with batch(), feeding_workers():
        leaves, signatures = read_evidence(entries, verifier)
        leaves.problems.extend(check_chain(leaves))
        return _judge(leaves, subject, screening, yields, signatures, profile)


def verify_lot(
    store: Store,
    lot: str,
    *,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    verifier: BatchVerifier | None = None,
    profile: Profile | None = None,
) -> Report:
    """Verify ``lot`` in a ledger: collect its evidence, verify it, check the store.

    Raises NotFoundError when the ledger has no statement naming ``lot``.
    """
    with batch(), feeding_workers():
        with store.read() as r:
            collected = collect(r, lot)
        leaves, signatures = read_evidence([(e.seq, e.leaf) for e in collected.entries], verifier)
        leaves.problems.extend(check_chain(leaves))
        leaves.problems.extend(check_store(collected, leaves))
        return _judge(leaves, lot, screening, yields, signatures, profile)
