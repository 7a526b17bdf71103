"""Audit steps 1-6: the entries, the hash chain, the replay, the tree, the
checkpoints and the head; step 7 (the derived tables) is :mod:`ledger.audit.derived`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger import merkle
from ledger.audit.derived import IndexCheck, check_tables
from ledger.audit.report import AuditReport, Problem
from ledger.checkpoint import parse_verifier_key, verifier_key
from ledger.custody import EntryRef, MemoryState, apply
from ledger.errors import CustodyError
from ledger.keys import is_valid_signature, kid_of
from ledger.leaf import ZERO_HASH, LeafError, decode_leaf
from ledger.rotation import KeyChain, Rotation, is_rotation, open_checkpoint_chained
from ledger.statements import Party
from ledger.store import ReadTx, StoredEntry

CHUNK = 5000


class Auditor:
    def __init__(self, r: ReadTx, progress: Callable[[int, int], None] | None) -> None:
        self.r = r
        self.progress = progress
        self.report = AuditReport()
        self.state = MemoryState(lookup=r.statement_of)
        self.index = IndexCheck(r, self.report)
        self.leaves: list[bytes] = []
        self.frontier: list[bytes] = []
        self.computed: dict[tuple[int, int], bytes] = {}
        self.roots: dict[int, bytes] = {}
        self.prev = ZERO_HASH
        self.last_time: datetime | None = None
        self.last_received_at = ""
        self.expected = 0
        self.chain: KeyChain | None = None  # checkpoint keys, from entry 0 on

    def problem(self, seq: int | None, check: str, message: str, **details: Any) -> None:
        self.report.add(Problem(seq, check, message, details))

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
                nxt = self.r.next_seq(start)
                if nxt is None:
                    break
                self.problem(
                    start,
                    "chain",
                    f"entry seq {start} is missing (the next stored entry is seq {nxt})",
                )
                start = nxt
                continue
            start = rows[-1].seq + 1
            self.index.flush(start)
        self.index.finish()
        self.report.size = head.size
        self.report.entries_checked = self.expected
        self.check_nodes()
        self.check_checkpoints(cps, head.size)
        self.check_head(head.size, head.last_leaf_hash, head.received_at)
        check_tables(self.r, self.state, self.report)
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
        prev, self.prev = self.prev, computed.hex()
        try:
            leaf = decode_leaf(row.leaf)
        except LeafError as e:
            self.problem(seq, "leaf", f"seq {seq}: {e.why}", reason=e.reason)
            self.index.already_reported(seq)
            return
        if leaf.to_bytes() != row.leaf:
            self.problem(seq, "leaf", f"seq {seq}: leaf bytes are not canonical JSON")
        if leaf.seq != seq:
            self.problem(seq, "chain", f"seq {seq}: the leaf says seq {leaf.seq}")
        if leaf.prev != prev:
            self.problem(
                seq,
                "chain",
                f"seq {seq}: prev does not link to the previous leaf",
                expected=prev,
                actual=leaf.prev,
            )
        if self.last_time is not None and leaf.time < self.last_time:
            self.problem(seq, "chain", f"seq {seq}: received_at goes back in time")
        self.last_time = leaf.time
        self.last_received_at = leaf.received_at
        try:
            stmt = leaf.statement  # parsed once: leaf.entry below reuses it
        except LeafError as e:
            code = e.reason.removeprefix("integrity.")
            self.problem(seq, "statement", f"seq {seq}: {e.why}", code=code)
            self.index.already_reported(seq)
            return
        derived = {
            "digest": stmt.digest,
            "issuer": stmt.issuer,
            "stmt_id": stmt.id,
            "type": stmt.type,
            "received_at": leaf.received_at,
        }
        for column, want in derived.items():
            have = getattr(row, column)
            if have != want:
                self.problem(
                    seq,
                    "leaf",
                    f"seq {seq}: entries.{column} is {have!r} but the leaf says {want!r}",
                    column=column,
                    expected=want,
                    actual=have,
                )
        try:
            changes = apply(self.state, leaf.entry, is_valid_signature)
        except CustodyError as e:
            check = "signature" if e.code.startswith("bad_signature") else "custody"
            self.problem(
                seq, check, f"seq {seq} would have been rejected: {e.message}", code=e.code
            )
            self.index.already_reported(seq)
            return
        self.state.commit(changes)
        self.index.expect(seq, changes)
        self.observe_keys(leaf.entry)

    def observe_keys(self, entry: EntryRef) -> None:
        """The chain of checkpoint keys: entry 0's signing key, then each rotation
        (:mod:`ledger.rotation`; the replay above verified every signature)."""
        kids = [kid for kid, _ in entry.signatures]
        stmt = entry.statement
        if entry.seq == 0 and isinstance(stmt, Party):
            own = {kid_of(k): k for k in stmt.public_keys}
            if kids and kids[0] in own:
                self.chain = KeyChain(own[kids[0]])
            return
        if self.chain is None or stmt.issuer != self.state.operator():
            return
        new = is_rotation(stmt, kids, self.chain.current)
        if new is not None:
            self.chain.add(Rotation(entry.seq, self.chain.current, new))

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
            parse_verifier_key(verifier_key(origin, bytes.fromhex(pk_hex)))
        except (CustodyError, ValueError) as e:
            self.problem(None, "checkpoint", f"operator key or origin unusable: {e}")
            return
        chain = self.chain or KeyChain(bytes.fromhex(pk_hex))
        self.report.key_rotations = chain.to_json()
        if chain.current.hex() != pk_hex:
            self.problem(
                None,
                "checkpoint",
                "meta.operator_public_key is not the key the log's rotations put in force",
                expected=chain.current.hex(),
                actual=pk_hex,
            )
        for cp_size, note in cps:
            try:
                cp = open_checkpoint_chained(note, origin, chain)
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

    def check_head(self, size: int, last: bytes, received_at: str) -> None:
        if size != len(self.leaves):
            self.problem(
                None, "head", f"head says size {size} but {len(self.leaves)} entries are stored"
            )
        elif self.leaves and last != self.leaves[-1]:
            self.problem(size - 1, "head", "head's last leaf hash does not match the last leaf")
        elif self.leaves and self.last_received_at and received_at != self.last_received_at:
            self.problem(
                size - 1,
                "head",
                f"head's received_at is {received_at!r} but the last leaf says "
                f"{self.last_received_at!r}",
            )
