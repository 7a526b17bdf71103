"""The ``add-checkpoint`` call of c2sp.org/tlog-witness, decided without HTTP.

Request body: ``old <size>`` line, zero to 63 base64 consistency-proof lines,
an empty line, then the signed checkpoint note. :func:`add_checkpoint` returns
the status, body and content type the witness answers with:

* 400 — malformed request, or old size above the checkpoint size;
* 404 — the checkpoint's origin is not a log this witness knows;
* 403 — no signature by a key the witness trusts for the origin verifies, or the
  only valid ones are by a key older than the one it last cosigned under (a key
  the log rotated out, docs/decisions/0007);
* 409 — the old size is not the size the witness last cosigned (body: that size,
  ``text/x.tlog.size``), or the same size with another root hash;
* 422 — the consistency proof from the old size does not verify (a proof from
  size 0 must be empty; a checkpoint of size 0 must carry the empty tree's root);
* 200 — the witness stored the checkpoint as its latest for the log, then
  answers with its cosignature line.

The checks run in the order the spec lists them: 404, 403, 400, 409, 422. The
state is keyed by origin alone: a checkpoint signed by any trusted key of the
origin must be consistent with the one the witness holds, whichever key signed
that one.

The check of the old size and the write of the new checkpoint are one
compare-and-swap (:meth:`ledger.witness.state.WitnessState.advance`). A
checkpoint validly signed by the operator that conflicts with the one the witness
holds (same size and another root, or no valid consistency proof from it) is
kept as split-view evidence (:class:`~ledger.witness.state.Evidence`).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger import merkle
from ledger.checkpoint import Checkpoint, open_note, parse_checkpoint, parse_verifier_key
from ledger.cosignature import Cosigner
from ledger.errors import CustodyError, ProofError
from ledger.note import split_note, strict_b64decode
from ledger.witness.state import Latest, WitnessState

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_TYPE",
    "AddCheckpoint",
    "Answer",
    "add_checkpoint",
    "format_request",
    "parse_request",
]

MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
_TEXT = "text/plain; charset=utf-8"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class Answer:
    """What the witness answers: HTTP status, body text and content type."""

    status: int
    body: str
    content_type: str = _TEXT


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed request: old size, consistency proof, the checkpoint note as sent."""

    old: int
    proof: tuple[bytes, ...]
    note: str


class _BadRequestError(Exception):
    pass


def format_request(old: int, proof: list[bytes] | tuple[bytes, ...], note: str) -> bytes:
    """The request body of ``add-checkpoint`` (what a log sends)."""
    lines = [f"old {old}", *(strict_b64(h) for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + note).encode("utf-8")


def strict_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def parse_request(raw: bytes) -> AddCheckpoint:
    """Parse the request body strictly; raises ``_BadRequestError`` with the reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _BadRequestError("the request body is not UTF-8") from e
    cut = text.find("\n\n")
    if cut < 0:
        raise _BadRequestError("no empty line between the old size and the checkpoint")
    header, note = text[:cut].split("\n"), text[cut + 2 :]
    first = header[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        raise _BadRequestError("the first line is not 'old <size>' (decimal, no leading zeros)")
    if len(header) - 1 > MAX_PROOF_LINES:
        raise _BadRequestError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for i, line in enumerate(header[1:], start=2):
        h = strict_b64decode(line)
        if h is None or len(h) != 32:
            raise _BadRequestError(f"line {i} is not the base64 of a 32-byte hash")
        proof.append(h)
    return AddCheckpoint(int(first[4:]), tuple(proof), note)


def add_checkpoint(
    state: WitnessState,
    cosigner: Cosigner,
    raw: bytes,
    now: Callable[[], float] = time.time,
) -> Answer:
    """Decide one ``add-checkpoint`` request (see the module docstring)."""
    try:
        req = parse_request(raw)
    except _BadRequestError as e:
        return Answer(400, f"{e}\n")
    try:
        body, _ = split_note(req.note)
        cp = parse_checkpoint(body)
    except CustodyError as e:
        return Answer(400, f"the checkpoint is malformed: {e.message}\n")
    keys = state.log_keys(cp.origin)
    if not keys:
        return Answer(404, f"unknown log origin {cp.origin!r}\n")
    signed_by, why = _verifying_keys(req.note, keys)
    if not signed_by:
        names = ", ".join(k.split("+")[1] for k in keys)
        return Answer(403, f"no valid signature by a trusted key of the log ({names}): {why}\n")
    if req.old > cp.size:
        return Answer(400, f"old size {req.old} is above the checkpoint size {cp.size}\n")

    conflict: list[tuple[Latest, str]] = []

    def decide(held: Latest | None) -> Answer:
        held_size, held_root = (0, merkle.EMPTY_ROOT) if held is None else (held.size, held.root)
        if held is not None and cp.size == held.size and cp.root != held.root:
            conflict.append((held, "same_size"))
        if held is not None and held.vkey in keys:
            newest = keys.index(held.vkey)
            if max(keys.index(k) for k in signed_by) < newest:
                return Answer(
                    403,
                    f"signed by a key older than {held.vkey.split('+')[1]}, the log's key "
                    "the witness last cosigned under (a rotated-out key)\n",
                )
        if req.old != held_size:
            return Answer(409, f"{held_size}\n", SIZE_TYPE)
        if held is not None and req.old == cp.size and cp.root != held.root:
            return Answer(409, f"{held_size}\n", SIZE_TYPE)
        # from nothing cosigned: the empty tree (a size-0 checkpoint must carry its root)
        try:
            merkle.verify_consistency(held_size, cp.size, req.proof, held_root, cp.root)
        except ProofError as e:
            if held is not None and req.old != cp.size:
                conflict.append((held, "inconsistent"))
            return Answer(422, f"the consistency proof does not verify: {e.message}\n")
        return Answer(200, "")

    def accept(answer: Answer) -> Latest | None:
        if answer.status != 200:
            return None
        return Latest(cp.origin, signed_by[-1], cp.size, cp.root, req.note, now())

    answer = state.advance(cp.origin, decide, accept)
    for held, kind in conflict:
        proof = "\n".join(strict_b64(h) for h in req.proof)
        state.record_evidence(held, kind, cp.size, req.note, req.old, proof)
    if answer.status != 200:
        return answer
    return Answer(200, cosigner.cosign(body, int(now())).line())


def _verifying_keys(note: str, keys: list[str]) -> tuple[list[str], str]:
    """The trusted keys (in trust order) with a valid signature on the note, and the
    reason of the last failure. Each key is tried alone: a bad line by one key does
    not hide a good line by another, and lines by unknown keys are ignored."""
    good: list[str] = []
    why = "no signature line by a trusted key"
    for vkey in keys:
        try:
            verified = open_note(note, [parse_verifier_key(vkey)])
        except CustodyError as e:
            why = e.message
            continue
        if verified.signers:
            good.append(vkey)
    return good, why


def checkpoint_of(note: str) -> Checkpoint:
    """The checkpoint a note carries, unverified (for display)."""
    return parse_checkpoint(split_note(note)[0])
