"""Audit: re-derive everything from the stored leaves (SPEC §5).

Steps, each a small function below:

1. stream the entries in seq order; each row's seq is the next one (no gap,
   no duplicate);
2. each leaf is canonical JSON (sorted keys, compact, ASCII) whose ``seq`` is
   the row's, whose ``prev`` is the previous leaf hash (the hash chain), and
   whose hash matches the stored ``leaf_hash``; ``received_at`` never goes back;
3. the envelope and statement parse, and the indexed columns (digest, issuer,
   id, type) match the payload;
4. the statement replays through the custody state machine from seq 0
   (signatures by keys valid at that point, holdings, receipts...): a
   statement that would have been rejected is named;
5. every stored Merkle node (leaf hashes and perfect subtrees) equals the one
   recomputed from the leaves;
6. every stored checkpoint is signed by the operator key and its root equals
   the recomputed root at its size; the head row matches;
7. the derived custody state tables equal the replayed state.

The first problem found (lowest seq) is the headline; later ones may follow
from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger import merkle
from ledger.checkpoint import open_checkpoint, parse_verifier_key, verifier_key
from ledger.custody import EntryRef, MemoryState, apply
from ledger.envelope import envelope_from_obj
from ledger.errors import CustodyError
from ledger.keys import is_valid_signature
from ledger.log import decode_leaf, leaf_bytes, parse_time
from ledger.statements import parse_statement
from ledger.store import ReadTx, Store, StoredEntry

CHUNK = 5000
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    seq: int | None
    check: str  # chain | leaf | statement | custody | signature | tree | checkpoint | head | state
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "check": self.check, "message": self.message, **self.details}


@dataclass
class AuditReport:
    size: int = 0
    entries_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    root: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.seq is not None]
        if with_seq:
            return min(with_seq, key=lambda p: p.seq or 0)
        return self.problems[0] if self.problems else None

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root,
            "entries_checked": self.entries_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_seq": None if first is None else first.seq,
            "problems": [p.to_json() for p in self.problems],
        }


class _Auditor:
    def __init__(self, r: ReadTx, progress: Callable[[int, int], None] | None) -> None:
        self.r = r
        self.progress = progress
        self.report = AuditReport()
        self.state = MemoryState()
        self.leaves: list[bytes] = []
        self.frontier: list[bytes] = []
        self.computed: dict[tuple[int, int], bytes] = {}
        self.roots: dict[int, bytes] = {}
        self.prev = "0" * 64
        self.last_time = ""
        self.expected = 0

    def problem(self, seq: int | None, check: str, message: str, **details: Any) -> None:
        if len(self.report.problems) < MAX_PROBLEMS:
            self.report.problems.append(Problem(seq, check, message, details))

    def run(self) -> AuditReport:
        head = self.r.head()
        cps = self.r.checkpoints()
        wanted_roots = {s for s, _ in cps}
        total = max(head.size, 1)
        start = 0
        while True:
            rows = self.r.entries(start, start + CHUNK)
            for row in rows:
                self.step_entry(row)
                self.grow_tree(row, wanted_roots)
            if self.progress:
                self.progress(min(self.expected, total), total)
            if not rows:
                # a hole in seq numbers: look past it once
                nxt = self.r.entries(start, 1 << 62)[:1]
                if not nxt:
                    break
                self.problem(
                    start,
                    "chain",
                    f"entry seq {start} is missing (the next stored entry is seq {nxt[0].seq})",
                )
                start = nxt[0].seq
                continue
            start = rows[-1].seq + 1
        self.report.size = head.size
        self.report.entries_checked = self.expected
        self.check_nodes()
        self.check_checkpoints(cps, head.size)
        self.check_head(head.size, head.last_leaf_hash)
        self.check_state()
        self.report.root = (
            merkle.root_from_frontier(self.frontier).hex()
            if self.leaves
            else merkle.EMPTY_ROOT.hex()
        )
        return self.report

    # step 1-4
    def step_entry(self, row: StoredEntry) -> None:
        seq = row.seq
        if seq > self.expected:
            gap = f"{self.expected}" if seq == self.expected + 1 else f"{self.expected}..{seq - 1}"
            self.problem(
                self.expected, "chain", f"entry seq {gap} is missing (next stored is seq {seq})"
            )
        self.expected = seq + 1
        computed = merkle.leaf_hash(row.leaf)
        if computed != row.leaf_hash:
            self.problem(
                seq,
                "leaf",
                f"seq {seq}: stored leaf hash does not match the leaf bytes",
                expected=computed.hex(),
                actual=row.leaf_hash.hex(),
            )
        try:
            obj = json.loads(row.leaf)
            env = envelope_from_obj(obj["envelope"])
            canonical = leaf_bytes(obj["seq"], obj["prev"], obj["received_at"], obj["envelope"])
            received_time = parse_time(obj["received_at"])
        except (ValueError, KeyError, TypeError, AttributeError, CustodyError) as e:
            self.problem(seq, "leaf", f"seq {seq}: leaf is not a valid ledger leaf ({e})")
            self.prev = computed.hex()
            return
        if canonical != row.leaf:
            self.problem(seq, "leaf", f"seq {seq}: leaf bytes are not canonical JSON")
        if obj["seq"] != seq:
            self.problem(seq, "chain", f"seq {seq}: the leaf says seq {obj['seq']}")
        if obj["prev"] != self.prev:
            self.problem(
                seq,
                "chain",
                f"seq {seq}: prev does not link to the previous leaf",
                expected=self.prev,
                actual=obj["prev"],
            )
        self.prev = computed.hex()
        received = obj["received_at"]
        if self.last_time and received < self.last_time:
            self.problem(seq, "chain", f"seq {seq}: received_at goes back in time")
        self.last_time = received
        try:
            stmt = parse_statement(env.payload)
        except CustodyError as e:
            self.problem(seq, "statement", f"seq {seq}: {e.message}", code=e.code)
            return
        cols = (row.digest, row.issuer, row.stmt_id, row.type)
        if cols != (stmt.digest, stmt.issuer, stmt.id, stmt.type):
            self.problem(seq, "leaf", f"seq {seq}: indexed columns do not match the payload")
        entry = EntryRef(
            seq=seq,
            received_at=received_time,
            statement=stmt,
            signatures=tuple((s.keyid, s.sig) for s in env.signatures),
            pae=env.pae,
        )
        try:
            changes = apply(self.state, entry, is_valid_signature)
        except CustodyError as e:
            check = "signature" if e.code.startswith("bad_signature") else "custody"
            self.problem(
                seq, check, f"seq {seq} would have been rejected: {e.message}", code=e.code
            )
            return
        self.state.commit(changes)

    # step 5 (accumulate)
    def grow_tree(self, row: StoredEntry, wanted_roots: set[int]) -> None:
        h = merkle.leaf_hash(row.leaf)
        size = len(self.leaves)
        done, self.frontier = merkle.completed_nodes(size, [h], self.frontier)
        self.leaves.append(h)
        for level, idx, nh in done:
            self.computed[(level, idx)] = nh
        if size + 1 in wanted_roots:
            self.roots[size + 1] = merkle.root_from_frontier(self.frontier)

    def check_nodes(self) -> None:
        n = 0
        seen_levels: set[tuple[int, int]] = set()
        for level, idx, h in self.r.iter_nodes():
            n += 1
            seen_levels.add((level, idx))
            expected = (
                (self.leaves[idx] if idx < len(self.leaves) else None)
                if level == 0
                else self.computed.get((level, idx))
            )
            last_seq = ((idx + 1) << level) - 1
            if expected is None:
                self.problem(last_seq, "tree", f"stored node ({level}, {idx}) has no leaves")
            elif expected != h:
                self.problem(
                    last_seq,
                    "tree",
                    f"stored tree node (level {level}, index {idx}) covering seq "
                    f"{idx << level}..{last_seq} does not match the leaves",
                    expected=expected.hex(),
                    actual=h.hex(),
                )
        want = len(self.leaves) + len(self.computed)
        if n != want:
            missing = [
                c
                for c in [*((0, i) for i in range(len(self.leaves))), *self.computed]
                if c not in seen_levels
            ][:1]
            seq = ((missing[0][1] + 1) << missing[0][0]) - 1 if missing else None
            self.problem(seq, "tree", f"{want - n} tree node(s) missing from storage")
        self.report.nodes_checked = n

    def check_checkpoints(self, cps: list[tuple[int, str]], size: int) -> None:
        origin = self.r.meta("origin") or ""
        pk_hex = self.r.meta("operator_public_key") or ""
        try:
            verifier = parse_verifier_key(verifier_key(origin, bytes.fromhex(pk_hex)))
        except (CustodyError, ValueError) as e:
            self.problem(None, "checkpoint", f"operator key or origin unusable: {e}")
            return
        for cp_size, note in cps:
            try:
                cp = open_checkpoint(note, verifier)
            except CustodyError as e:
                self.problem(cp_size - 1, "checkpoint", f"checkpoint at size {cp_size}: {e}")
                continue
            want = self.roots.get(cp.size)
            if cp.size != cp_size or cp.size > size or want is None:
                self.problem(
                    cp_size - 1, "checkpoint", f"checkpoint size {cp.size} is not a ledger size"
                )
            elif cp.root != want:
                self.problem(
                    cp_size - 1,
                    "checkpoint",
                    f"checkpoint at size {cp_size}: root does not match the leaves",
                    expected=want.hex(),
                    actual=cp.root.hex(),
                )
            self.report.checkpoints_checked += 1

    def check_head(self, size: int, last: bytes) -> None:
        if size != len(self.leaves):
            self.problem(
                None, "head", f"head says size {size} but {len(self.leaves)} entries are stored"
            )
        elif self.leaves and last != self.leaves[-1]:
            self.problem(size - 1, "head", "head's last leaf hash does not match the last leaf")

    def check_state(self) -> None:
        ch = self.state.changes
        stored_lots = {lot.id: lot for lot in self.r.all_lots()}
        for lot_id, lot in ch.lots.items():
            if stored_lots.get(lot_id) != lot:
                self.problem(lot.seq, "state", f"derived lot table differs for lot {lot_id!r}")
        for lot_id in set(stored_lots) - set(ch.lots):
            self.problem(None, "state", f"lot table has lot {lot_id!r} that no statement created")
        stored_h = {k: v for k, v in self.r.all_holdings().items() if v != 0}
        replayed_h = {k: v for k, v in ch.holdings.items() if v != Decimal(0)}
        for key in sorted(set(stored_h) | set(replayed_h)):
            if stored_h.get(key) != replayed_h.get(key):
                self.problem(
                    None,
                    "state",
                    f"holding of lot {key[0]!r} by {key[1]} is {stored_h.get(key, 0)} in the "
                    f"database but {replayed_h.get(key, 0)} by replay",
                )
                break
        stored_k = {k.kid: k for k in self.r.all_keys()}
        if stored_k != ch.keys:
            self.problem(None, "state", "derived key table differs from the replayed keys")


def audit(store: Store, progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Re-derive everything from the stored leaves; see the module docstring."""
    with store.read() as r:
        return _Auditor(r, progress).run()


def replay(leaves: list[tuple[int, bytes]]) -> MemoryState:
    """Replay (seq, leaf bytes) through the custody state machine (no checks kept)."""
    state = MemoryState()
    for _seq, leaf in leaves:
        state.commit(apply(state, decode_leaf(leaf).entry, is_valid_signature))
    return state
