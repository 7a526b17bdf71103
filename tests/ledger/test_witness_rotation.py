"""A witness across an operator key rotation (docs/decisions/0007): its state is
keyed by the log's origin alone, so the first checkpoint signed by the new key
must be consistent with what it cosigned under the old one; once it cosigned
under the new key, the old key is refused; a fork signed by either key is
refused and kept as evidence. A state written before several keys per origin
existed is migrated in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger.checkpoint import verifier_key
from ledger.keys import PrivateKey
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import add_checkpoint, format_request
from ledger.witness.state import WitnessState
from tests.ledger.test_witness_protocol import ORIGIN, Log, leaves

OLD = PrivateKey(bytes([5]) * 32)
NEW = PrivateKey(bytes([7]) * 32)


def vkey(key: PrivateKey) -> str:
    return verifier_key(ORIGIN, key.public_key)


def signed(log: Log, key: PrivateKey) -> Log:
    return Log.__new__(Log)._init(key, log.hashes)


def test_the_state_carries_across_a_rotation(tmp_path: Path) -> None:
    wh = WitnessHome(tmp_path / "w")
    cosigner = wh.init("witness.test/w1")
    state = wh.state()
    state.add_log(ORIGIN, vkey(OLD))
    before = Log(OLD, leaves("a", 10))
    assert add_checkpoint(state, cosigner, format_request(0, [], before.note())).status == 200

    # the log rotated (the rotation entries are leaves 10 and 11); the new key is not
    # trusted yet: 403, nothing changes
    after = signed(before.append(b"rotation", b"retire"), NEW)
    req = format_request(10, after.proof(10), after.note())
    assert add_checkpoint(state, cosigner, req).status == 403
    assert state.latest(ORIGIN).size == 10  # type: ignore[union-attr]

    # the witness's operator adds the new key: same origin, the state is kept, and
    # the checkpoint by the new key is checked for consistency with size 10
    assert state.add_log(ORIGIN, vkey(NEW)) is True
    assert state.add_log(ORIGIN, vkey(NEW)) is False  # once
    assert state.log_keys(ORIGIN) == [vkey(OLD), vkey(NEW)]
    stale = add_checkpoint(state, cosigner, format_request(0, [], after.note()))
    assert (stale.status, stale.body) == (409, "10\n")  # no fresh start under the new key
    assert add_checkpoint(state, cosigner, req).status == 200
    held = state.latest(ORIGIN)
    assert held is not None
    assert (held.size, held.vkey) == (12, vkey(NEW))

    # the retired key: a checkpoint it signs now is refused even when consistent
    late = signed(after.append(b"x"), OLD)
    refused = add_checkpoint(state, cosigner, format_request(12, late.proof(12), late.note()))
    assert refused.status == 403
    assert "rotated-out key" in refused.body
    assert state.latest(ORIGIN).size == 12  # type: ignore[union-attr]

    # removing the old key keeps the state; the new key keeps extending it
    assert state.remove_log_key(vkey(OLD)) == ORIGIN
    assert state.log_keys(ORIGIN) == [vkey(NEW)]
    grown = after.append(b"y")
    assert (
        add_checkpoint(state, cosigner, format_request(12, grown.proof(12), grown.note())).status
        == 200
    )
    assert state.evidence() == []
    state.close()


def test_a_fork_cannot_hide_behind_a_rotation(tmp_path: Path) -> None:
    """Whoever holds the old key signs a rotation to a key of their own on another
    history: the witness, holding the honest size, refuses the forked history
    under whichever trusted key it is signed, and keeps it as evidence."""
    wh = WitnessHome(tmp_path / "w")
    cosigner = wh.init("witness.test/w1")
    state = wh.state()
    state.add_log(ORIGIN, vkey(OLD))
    common = leaves("c", 6)
    honest = Log(OLD, [*common, *leaves("h", 4)])
    assert add_checkpoint(state, cosigner, format_request(0, [], honest.note())).status == 200
    # a fork from size 6 that rotates to NEW inside the fork, signed by NEW ...
    fork = Log(NEW, [*common, b"fork-rotation", b"fork-retire", *leaves("f", 4)])
    state.add_log(ORIGIN, vkey(NEW))  # even if the witness was told to trust NEW
    # ... with a consistency proof from 10 that is valid for the fork's own tree
    answer = add_checkpoint(state, cosigner, format_request(10, fork.proof(10), fork.note()))
    assert answer.status == 422
    # ... and a forked checkpoint of the same size signed by the old key
    same = Log(OLD, [*common, *leaves("g", 4)])
    assert add_checkpoint(state, cosigner, format_request(10, [], same.note())).status == 409
    kinds = [(e.kind, e.held_size, e.offered_size) for e in state.evidence()]
    assert kinds == [("inconsistent", 10, 12), ("same_size", 10, 10)]
    assert state.latest(ORIGIN).size == 10  # type: ignore[union-attr]
    state.close()


def test_a_state_with_one_key_per_origin_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE logs (origin TEXT PRIMARY KEY, vkey TEXT NOT NULL);"
        "CREATE TABLE latest (origin TEXT PRIMARY KEY, vkey TEXT NOT NULL, size INTEGER NOT NULL,"
        " root BLOB NOT NULL, note TEXT NOT NULL, cosigned_at REAL NOT NULL);"
    )
    log = Log(OLD, leaves("a", 3))
    conn.execute("INSERT INTO logs VALUES (?, ?)", (ORIGIN, vkey(OLD)))
    conn.execute(
        "INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?)",
        (ORIGIN, vkey(OLD), 3, _root(log), log.note(), 1.0),
    )
    conn.commit()
    conn.close()
    state = WitnessState(path)
    try:
        assert state.logs() == {ORIGIN: [vkey(OLD)]}
        assert state.latest(ORIGIN).size == 3  # type: ignore[union-attr]
    finally:
        state.close()
    state = WitnessState(path)  # opening again changes nothing
    try:
        assert state.logs() == {ORIGIN: [vkey(OLD)]}
    finally:
        state.close()


def _root(log: Log) -> bytes:
    from ledger import merkle

    return merkle.root(log.hashes)
