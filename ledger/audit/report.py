"""What ``ledger audit`` found: :class:`Problem` and :class:`AuditReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS = 100

CHECKS = (
    "chain",  # seq numbers, prev links, ledger time
    "leaf",  # leaf bytes, hash, form, and the entries columns that copy leaf fields
    "statement",  # the statement a leaf carries
    "custody",  # the custody state machine would have rejected it
    "signature",
    "tree",  # stored Merkle nodes
    "checkpoint",
    "head",
    "state",  # parties, keys, lots, holdings, dispatches, meta.operator
    "index",  # lot_refs, party_refs
)


@dataclass(frozen=True)
class Problem:
    seq: int | None
    check: str  # one of CHECKS
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
    rows_checked: int = 0
    root: str = ""
    key_rotations: list[dict[str, Any]] = field(default_factory=list)  # operator key chain
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.seq is not None]
        if with_seq:
            return min(with_seq, key=lambda p: p.seq or 0)
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        """Keep the first :data:`MAX_PROBLEMS`; count the rest."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root,
            "entries_checked": self.entries_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "rows_checked": self.rows_checked,
            "key_rotations": self.key_rotations,
            "first_bad_seq": None if first is None else first.seq,
            "problems": [p.to_json() for p in self.problems],
            "more_problems": self.more_problems,
        }
