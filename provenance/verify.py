"""Verify a subject lot from its evidence: findings, composition, verdict (SPEC §6, §10).

Verification recomputes everything it relies on from the ledger leaves
(SPEC §5 leaf bytes) and never trusts stored verdicts or derived tables.
:func:`verify_entries` is pure and offline: it takes ``(seq, leaf bytes)``
pairs only, so the same code judges a live ledger and an evidence bundle
(SPEC §7). Its steps, one small function each:

1. :func:`read_leaves`: every leaf parses as ``{"seq", "prev", "received_at",
   "envelope"}`` with the expected seq, its DSSE envelope (SPEC §4) and its
   statement (SPEC §3); a leaf that does not is an INTEGRITY finding;
2. :func:`check_chain`: the hash chain (``prev`` of seq n+1 equals the leaf
   hash of seq n) wherever consecutive seqs are present, and ``received_at``
   never going back;
3. :func:`trace_subject`: the subject's upstream trace, recomputed from the
   statements (:class:`provenance.graph.Trace`);
4. :func:`replay_trace`: the statements replayed in seq order through the
   custody state machine over a state scoped to the traced lots
   (:mod:`provenance.replay`): signatures, keys, holdings, receipts. The
   signatures by keys the evidence registers are checked ahead, in batches
   fed while step 1 reads the leaves (:func:`start_signatures`), by a
   ``verifier`` that may fan out to processes and work meanwhile;
5. :func:`compose_subject`: the subject's composition by origin
   (:mod:`provenance.composition`);
6. :func:`run_rules`: the SPEC §6 rules (:data:`provenance.rules.DEFAULT_RULES`);
7. :func:`verdict_of`: ``fail`` if any error, else ``incomplete`` if any gap,
   else ``pass``;
8. :func:`build_graph` and :func:`flag_nodes`: the networkx provenance graph,
   its nodes flagged by the findings; built on first use of
   :attr:`Report.graph` (``custody trace``, the HTML report), since the
   verdict does not need it.

:func:`verify_lot` adds, around those steps, the reading of the evidence from
storage (:func:`provenance.graph.collect`, one read transaction) and
store-level INTEGRITY checks (:func:`check_store`: each stored leaf hash and
Merkle leaf node ``(0, seq)`` against the leaf bytes, the indexed columns
against the payload, index rows naming missing entries).

:class:`Report` is the non-raising result; :func:`ensure_pass` raises
:class:`VerificationError` unless the verdict is ``pass``.
"""

from __future__ import annotations

import gc
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from itertools import pairwise
from typing import Any, Literal

import networkx as nx

from ledger import merkle
from ledger.envelope import envelope_from_obj
from ledger.errors import CustodyError, NotFoundError
from ledger.sigcheck import Verifier, verify_serial
from ledger.statements import (
    Import,
    Origin,
    Statement,
    Transform,
    parse_statement,
    parse_time,
    statement_digest,
)
from ledger.store import Store
from provenance.composition import Composition, Share, compose
from provenance.graph import Collected, ParsedEntry, Trace, collect, stmt_node
from provenance.graph import build_graph as _build_graph
from provenance.replay import Preverified, Replay, replay
from provenance.rules import DEFAULT_RULES, RULE_IDS
from provenance.rules.base import SEVERITIES, Context, Finding, Rule
from provenance.screening import ScreeningData, default_screening
from provenance.yields import YieldTable, default_yields

__all__ = [
    "Finding",
    "Report",
    "Share",
    "Verdict",
    "VerificationError",
    "ensure_pass",
    "verify_entries",
    "verify_lot",
]

log = logging.getLogger(__name__)

Verdict = Literal["pass", "incomplete", "fail"]

_LEAF_KEYS = frozenset({"seq", "prev", "received_at", "envelope"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIX = Decimal("0.000001")


# --------------------------------------------------------------------------- report


def _number(value: Decimal) -> float:
    """A share as a JSON number rounded to 6 decimals (SPEC §10)."""
    return float(value.quantize(_SIX, rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Report:
    """The outcome of verifying one subject lot."""

    subject: str
    verdict: Verdict
    findings: list[Finding]
    composition: list[Share]
    untraced_share: Decimal
    statements: dict[int, Statement]
    """seq → the parsed statement, for every entry of the evidence that parsed."""
    screening_version: str
    yields_version: str
    import_entries: list[str] = field(default_factory=list)
    """CBP entry numbers of the ``import`` statements of the subject, in seq order."""
    received_at: dict[int, datetime] = field(default_factory=dict)
    """seq → the entry's ledger time (``received_at`` of its leaf)."""
    entries: dict[int, ParsedEntry] = field(default_factory=dict, repr=False)
    """seq → the parsed entry (statement, signatures, ledger time, leaf hash)."""
    graph_builder: Callable[[], nx.DiGraph[str]] | None = field(
        default=None, repr=False, compare=False
    )
    """Builds :attr:`graph` on first use (verification itself does not need it)."""

    @cached_property
    def graph(self) -> nx.DiGraph[str]:
        """The provenance graph (:mod:`provenance.graph`), nodes flagged by the findings."""
        if self.graph_builder is None:
            return nx.DiGraph(subject=self.subject)
        return self.graph_builder()

    def to_json(self) -> dict[str, Any]:
        """SPEC §10: ``subject, verdict, findings, composition, untraced_share`` (+ versions)."""
        return {
            "subject": self.subject,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "composition": [
                {
                    "country": s.country,
                    "subdivision": s.subdivision,
                    "material": s.material,
                    "share": _number(s.share),
                }
                for s in self.composition
            ],
            "untraced_share": _number(self.untraced_share),
            "screening_version": self.screening_version,
            "yields_version": self.yields_version,
        }

    def by_severity(self) -> dict[str, list[Finding]]:
        """Findings grouped by severity, strongest first (every severity present as a key)."""
        return {s: [f for f in self.findings if f.severity == s] for s in SEVERITIES}


class VerificationError(CustodyError):
    """Raised by :func:`ensure_pass` when a verdict is not ``pass``.

    ``code`` is ``verification.fail`` or ``verification.incomplete``; the
    report is on ``.report``.
    """

    code = "verification"

    def __init__(self, report: Report) -> None:
        counts = {s: len(fs) for s, fs in report.by_severity().items() if fs}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"
        first = next((f for f in report.findings if f.severity in ("error", "gap")), None)
        message = f"verification of lot {report.subject!r} is {report.verdict} ({summary})"
        if first is not None:
            message += f": {first.rule}: {first.message}"
        super().__init__(
            message,
            code=f"verification.{report.verdict}",
            details={"subject": report.subject, "verdict": report.verdict, "counts": counts},
        )
        self.report = report


def ensure_pass(report: Report) -> Report:
    """Return ``report`` if its verdict is ``pass``, else raise :class:`VerificationError`."""
    if report.verdict != "pass":
        raise VerificationError(report)
    return report


# --------------------------------------------------------------------------- step 1


@dataclass
class Leaves:
    """What step 1 read: parsed entries, every leaf's hash, and what did not hold."""

    parsed: dict[int, ParsedEntry] = field(default_factory=dict)
    hashes: dict[int, bytes] = field(default_factory=dict)
    prevs: dict[int, str] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    unreadable: int = 0
    """How many leaves did not parse."""
    parsed_times: dict[str, datetime] = field(default_factory=dict, repr=False)
    """received_at text → time (a batch of appends shares one ledger time)."""


class _LeafError(Exception):
    def __init__(self, message: str, code: str, digest: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.digest = digest


def integrity(message: str, statements: Iterable[str] = (), **details: Any) -> Finding:
    """An INTEGRITY finding."""
    return Finding("INTEGRITY", "error", message, list(statements), details)


def _read_leaf(seq: int, leaf: bytes, out: Leaves) -> ParsedEntry:
    try:
        obj = json.loads(leaf)
    except (ValueError, UnicodeDecodeError) as e:
        raise _LeafError(f"leaf is not JSON ({e})", "integrity.leaf_json") from e
    if type(obj) is not dict or obj.keys() != _LEAF_KEYS:
        raise _LeafError(
            "leaf is not an object of exactly seq, prev, received_at, envelope",
            "integrity.leaf_shape",
        )
    if type(obj["seq"]) is not int or obj["seq"] != seq:
        raise _LeafError(f"leaf says seq {obj['seq']!r}", "integrity.leaf_seq")
    prev = obj["prev"]
    if type(prev) is not str or _HEX64.fullmatch(prev) is None:
        raise _LeafError("leaf prev is not a 64-hex hash", "integrity.leaf_prev")
    out.prevs[seq] = prev
    try:
        text = obj["received_at"]
        received_at = out.parsed_times.get(text) if type(text) is str else None
        if received_at is None:
            received_at = parse_time(text, "received_at")
            out.parsed_times[text] = received_at
        envelope = envelope_from_obj(obj["envelope"])
    except CustodyError as e:
        raise _LeafError(e.message, f"integrity.{e.code}") from e
    out.times[seq] = obj["received_at"]
    try:
        statement = parse_statement(envelope.payload)
    except CustodyError as e:
        digest = statement_digest(envelope.payload)
        raise _LeafError(f"statement: {e.message}", f"integrity.{e.code}", digest) from e
    return ParsedEntry(
        seq,
        received_at,
        statement,
        tuple((s.keyid, s.sig) for s in envelope.signatures),
        envelope.pae,
        out.hashes[seq],
        prev,
    )


def read_leaves(
    entries: Sequence[tuple[int, bytes]], signatures: Preverified | None = None
) -> Leaves:
    """Step 1: parse every leaf, its envelope and statement, in seq order.

    With ``signatures``, each parsed entry is handed over so that its signature
    checks start while the rest is read (step 4's batch, :func:`start_signatures`).
    """
    out = Leaves()
    for seq, leaf in sorted(entries, key=lambda pair: pair[0]):
        data = bytes(leaf)
        if seq in out.hashes:
            if out.hashes[seq] != merkle.leaf_hash(data):
                out.problems.append(
                    integrity(f"seq {seq} is given twice with different leaves", seq=seq)
                )
            continue
        out.hashes[seq] = merkle.leaf_hash(data)
        try:
            parsed = out.parsed[seq] = _read_leaf(seq, data, out)
        except _LeafError as e:
            out.unreadable += 1
            out.problems.append(
                integrity(
                    f"seq {seq}: {e.message}",
                    [e.digest] if e.digest else [],
                    seq=seq,
                    code=e.code,
                )
            )
            continue
        if signatures is not None:
            signatures.add(parsed)
    return out


# --------------------------------------------------------------------------- step 2


def check_chain(leaves: Leaves) -> list[Finding]:
    """Step 2: hash-chain links where consecutive seqs are present; time never goes back."""
    problems: list[Finding] = []
    seqs = sorted(leaves.hashes)
    for a, b in pairwise(seqs):
        if b != a + 1 or b not in leaves.prevs:
            continue
        expected = leaves.hashes[a].hex()
        if leaves.prevs[b] != expected:
            problems.append(
                integrity(
                    f"seq {b}: prev does not link to the leaf hash of seq {a}",
                    _digests(leaves, a, b),
                    seq=b,
                    code="integrity.chain",
                    expected=expected,
                    actual=leaves.prevs[b],
                )
            )
    timed = sorted(leaves.times)
    for a, b in pairwise(timed):
        ta, tb = leaves.parsed.get(a), leaves.parsed.get(b)
        if ta is not None and tb is not None and tb.received_at < ta.received_at:
            problems.append(
                integrity(
                    f"seq {b}: received_at {leaves.times[b]} is before that of seq {a} "
                    f"({leaves.times[a]})",
                    _digests(leaves, a, b),
                    seq=b,
                    code="integrity.time",
                )
            )
    if 0 not in leaves.hashes:
        problems.append(
            integrity(
                "seq 0 (the operator's registration) is missing from the evidence",
                code="integrity.no_seq0",
            )
        )
    return problems


def _digests(leaves: Leaves, *seqs: int) -> list[str]:
    return [leaves.parsed[s].digest for s in seqs if s in leaves.parsed]


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


def start_signatures(verifier: Verifier | None = None) -> Preverified:
    """Step 4a: the batch of signature checks, fed while the leaves are read (step 1).

    ``verifier`` defaults to one after the other on this core; one with
    ``submit`` (:class:`ledger.sigcheck.ProcessVerifier`) works in other processes
    while steps 1, 2, 3 and 5 run.
    """
    return Preverified(verifier or verify_serial)


def replay_trace(leaves: Leaves, trace: Trace, preverified: Preverified | None = None) -> Replay:
    """Step 4: replay through the custody state machine, scoped to the traced lots."""
    return replay(leaves.parsed.values(), set(trace.lots), preverified=preverified)


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


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """Step 7: ``fail`` if any error, else ``incomplete`` if any gap, else ``pass``."""
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "fail"
    if "gap" in severities:
        return "incomplete"
    return "pass"


# --------------------------------------------------------------------------- entry points


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Verification allocates tens of thousands of acyclic objects (statements,
    entries, graph attributes) that live until the report is dropped; each
    full collection would walk them all again (a third of the time of a
    10,000-statement trace). Reference counting still frees garbage; the
    collector is resumed afterwards if it was running before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _judge(
    leaves: Leaves,
    subject: str,
    screening: ScreeningData | None,
    yields: YieldTable | None,
    signatures: Preverified,
) -> Report:
    screening = screening or default_screening()
    yields = yields or default_yields()
    trace = trace_subject(leaves, subject)
    composition = compose_subject(trace)
    replayed = replay_trace(leaves, trace, signatures)
    ctx = Context(
        subject,
        leaves.parsed,
        trace,
        replayed,
        composition,
        screening,
        yields,
        leaves.problems,
    )
    findings = run_rules(ctx)
    verdict = verdict_of(findings)

    def graph() -> nx.DiGraph[str]:
        with _bulk():
            g = build_graph(leaves, trace)
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
        statements={seq: leaves.parsed[seq].statement for seq in sorted(leaves.parsed)},
        screening_version=screening.version,
        yields_version=yields.version,
        import_entries=imports,
        received_at={seq: leaves.parsed[seq].received_at for seq in sorted(leaves.parsed)},
        entries=dict(sorted(leaves.parsed.items())),
        graph_builder=graph,
    )


def verify_entries(
    entries: Sequence[tuple[int, bytes]],
    subject: str,
    *,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    verifier: Verifier | None = None,
) -> Report:
    """Verify ``subject`` from ``(seq, verbatim leaf bytes)`` pairs alone (pure, offline).

    ``entries`` should hold what :func:`provenance.graph.collect` gathers (the
    trace, every statement naming a traced lot, the parties' key history and
    seq 0); anything missing shows up as findings, not as a pass. Raises
    NotFoundError only when no statement names the subject.
    """
    with _bulk():
        signatures = start_signatures(verifier)
        leaves = read_leaves(entries, signatures)
        leaves.problems.extend(check_chain(leaves))
        return _judge(leaves, subject, screening, yields, signatures)


def check_store(collected: Collected, leaves: Leaves) -> list[Finding]:
    """Store-level INTEGRITY: stored hashes, leaf nodes and columns against the leaf bytes."""
    problems: list[Finding] = []
    for e in collected.entries:
        computed = leaves.hashes.get(e.seq)
        if computed is None:
            continue
        parsed = leaves.parsed.get(e.seq)
        digests = [parsed.digest] if parsed is not None else []
        if e.leaf_hash != computed:
            problems.append(
                integrity(
                    f"seq {e.seq}: the stored leaf hash does not match the leaf bytes",
                    digests,
                    seq=e.seq,
                    code="integrity.leaf_hash",
                    expected=computed.hex(),
                    actual=e.leaf_hash.hex(),
                )
            )
        node = collected.leaf_nodes.get(e.seq)
        if node != computed:
            problems.append(
                integrity(
                    f"seq {e.seq}: the Merkle leaf node (0, {e.seq}) "
                    + ("is missing" if node is None else "does not match the leaf bytes"),
                    digests,
                    seq=e.seq,
                    code="integrity.leaf_node",
                    expected=computed.hex(),
                    actual=None if node is None else node.hex(),
                )
            )
        if parsed is not None:
            st = parsed.statement
            if (e.digest, e.issuer, e.stmt_id, e.type) != (st.digest, st.issuer, st.id, st.type):
                problems.append(
                    integrity(
                        f"seq {e.seq}: the indexed columns (digest, issuer, id, type) do not "
                        "match the payload",
                        digests,
                        seq=e.seq,
                        code="integrity.columns",
                    )
                )
    for seq in collected.missing_seqs:
        problems.append(
            integrity(
                f"the lot index names seq {seq} but the ledger has no such entry",
                seq=seq,
                code="integrity.missing_entry",
            )
        )
    return problems


def verify_lot(
    store: Store,
    lot: str,
    *,
    screening: ScreeningData | None = None,
    yields: YieldTable | None = None,
    verifier: Verifier | None = None,
) -> Report:
    """Verify ``lot`` in a ledger: collect its evidence, verify it, check the store.

    Raises NotFoundError when the ledger has no statement naming ``lot``.
    """
    with store.read() as r:
        collected = collect(r, lot)
    with _bulk():
        signatures = start_signatures(verifier)
        leaves = read_leaves([(e.seq, e.leaf) for e in collected.entries], signatures)
        leaves.problems.extend(check_chain(leaves))
        leaves.problems.extend(check_store(collected, leaves))
        return _judge(leaves, lot, screening, yields, signatures)
