"""Uploaded documents (``docs/api.md``, "Documents"): which statements name a
document, the pending area, and the sweep.

The server keeps a document's bytes in the home's document store
(``<home>/documents/<sha256>``, where ``custody verify`` and bundle export look)
only once a statement the uploader can see names its SHA-256 (an ``evidence``
``document`` or a ``dispatch`` ``documents`` item). Until then the upload waits
in ``<home>/uploads/<party>/<sha256>`` with a sidecar ``<sha256>.json``
(expiry), one area per uploader so that nobody can touch another's upload; it
is dropped when no such statement has appeared by its expiry.
The pending area is swept on access: every documents request first promotes
the pending uploads a statement now names and drops the expired ones.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from api.visibility import Caller, ScopeCache, signed_roles
from ledger.errors import IntegrityError
from ledger.leaf import decode_leaf
from ledger.statements import Dispatch, Evidence, Statement
from ledger.store import ReadTx, StatementFilter

PAGE = 1000
SWEEP_MAX = 200
"""Pending uploads looked at per request (the oldest first)."""


@dataclass(frozen=True)
class Naming:
    """A statement that names a document, and what it says about it."""

    seq: int
    statement: Statement
    name: str
    media_type: str | None


def naming_statements(r: ReadTx, caller: Caller, sha256: str, scopes: ScopeCache) -> list[Naming]:
    """The statements visible to ``caller`` that name the document ``sha256``."""
    visible = None if caller.privileged else scopes.get(r, caller.party).seqs
    found: list[Naming] = []
    for kind in ("evidence", "dispatch"):
        after = -1
        while True:
            rows = r.statement_page(StatementFilter(type=kind), after, PAGE, visible)
            for row in rows:
                try:
                    stmt = decode_leaf(row.leaf, row.seq).statement
                except IntegrityError:
                    continue
                if isinstance(stmt, Evidence) and stmt.document.sha256 == sha256:
                    doc = stmt.document
                    found.append(Naming(row.seq, stmt, doc.name, doc.media_type))
                elif isinstance(stmt, Dispatch):
                    for item in stmt.documents:
                        if item.sha256 == sha256:
                            found.append(Naming(row.seq, stmt, item.name, None))
            if len(rows) < PAGE:
                break
            after = rows[-1].seq
    found.sort(key=lambda n: n.seq)
    return found


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


class Uploads:
    """The home's document store and its pending area."""

    def __init__(self, documents: Path, pending: Path, ttl: int) -> None:
        self.documents = documents
        self.pending = pending
        self.ttl = ttl

    def stored(self, sha256: str) -> Path | None:
        path = self.documents / sha256
        return path if path.is_file() else None

    def keep(self, sha256: str, data: bytes, party: str) -> None:
        """Into the document store (the bytes were checked against ``sha256``)."""
        if self.stored(sha256) is None:
            _write(self.documents / sha256, data)
        self._drop(party, sha256)

    def hold(self, sha256: str, data: bytes, party: str, now: float | None = None) -> float:
        """Into ``party``'s pending area; returns the expiry (Unix time, seconds).
        Uploading the same bytes again restarts the clock."""
        expires = (time.time() if now is None else now) + self.ttl
        area = self.pending / party
        _write(area / sha256, data)
        _write(area / f"{sha256}.json", json.dumps({"expires_at": expires}).encode())
        return expires

    def is_pending(self, party: str, sha256: str) -> bool:
        return (self.pending / party / f"{sha256}.json").is_file()

    def _drop(self, party: str, sha256: str) -> None:
        area = self.pending / party
        for path in (area / sha256, area / f"{sha256}.json"):
            path.unlink(missing_ok=True)

    def sweep(self, r: ReadTx, scopes: ScopeCache, now: float | None = None) -> tuple[int, int]:
        """Promote pending uploads a statement visible to their uploader now names;
        drop the expired ones. Returns (promoted, dropped)."""
        if not self.pending.is_dir():
            return 0, 0
        clock = time.time() if now is None else now
        promoted = dropped = 0
        metas = sorted(self.pending.glob("*/*.json"), key=_mtime)
        for meta_path in metas[:SWEEP_MAX]:
            sha, party = meta_path.name.removesuffix(".json"), meta_path.parent.name
            try:
                expires = float(json.loads(meta_path.read_text())["expires_at"])
                data = (meta_path.parent / sha).read_bytes()
            except (OSError, ValueError, KeyError, TypeError):
                self._drop(party, sha)
                dropped += 1
                continue
            caller = caller_of(r, party)
            if caller is not None and naming_statements(r, caller, sha, scopes):
                self.keep(sha, data, party)
                promoted += 1
            elif clock >= expires:
                self._drop(party, sha)
                dropped += 1
        return promoted, dropped


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def caller_of(r: ReadTx, party: str) -> Caller | None:
    """The uploader of a pending document as a :class:`Caller` (roles from its
    signed registration), or None when the party is unknown."""
    record = r.party(party)
    if record is None:
        return None
    return Caller(party, "", signed_roles(r, record), 0)
