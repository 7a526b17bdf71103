"""`custody witness serve` (a real process) killed with SIGKILL in the middle of
``add-checkpoint``: once after it received a request and before it could persist
the new checkpoint (it waits for its state database's write lock, held by the
test), once after it persisted it and before the log read the answer. After each
restart it holds exactly the old or the new checkpoint, and it never cosigns a
checkpoint inconsistent with what it cosigned before — forks of every shape are
refused and kept as evidence."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ledger.checkpoint import verifier_key
from ledger.cosignature import count_cosigners, parse_cosigner_key
from ledger.keys import PrivateKey
from ledger.witness.protocol import format_request
from tests.api.test_witness_service import WitnessServer, cli
from tests.ledger.test_witness_protocol import ORIGIN, Log, leaves

OP = PrivateKey(bytes([11]) * 32)


def _held(state_db: Path) -> int:
    conn = sqlite3.connect(f"file:{state_db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT size FROM latest WHERE origin = ?", (ORIGIN,)).fetchone()
    finally:
        conn.close()
    return 0 if row is None else int(row[0])


def _post(w: WitnessServer, old: int, log: Log, proof_from: Log | None = None) -> httpx.Response:
    src = log if proof_from is None else proof_from
    body = format_request(old, src.proof(old, len(log.hashes)), log.note())
    return httpx.post(w.url + "/add-checkpoint", content=body, timeout=60)


def test_killed_mid_protocol_never_cosigns_an_inconsistent_checkpoint(tmp_path: Path) -> None:
    d = tmp_path / "w"
    cli(
        "witness",
        "init",
        "--dir",
        str(d),
        "--name",
        "witness.test/kill",
        "--log",
        verifier_key(ORIGIN, OP.public_key),
    )
    wkey = parse_cosigner_key(cli("witness", "key", "--dir", str(d)).strip())
    state_db = d / "state.db"
    common = leaves("c", 5)
    honest = Log(OP, [*common, *leaves("h", 20)])  # sizes 10, 15, 20, 25 of this history
    fork = Log(OP, [*common, *leaves("f", 20)])  # the same first 5 leaves, then another
    cosigned: list[str] = []

    def accept(r: httpx.Response, log: Log) -> None:
        assert r.status_code == 200, r.text
        cosigned.append(log.note())
        assert count_cosigners(log.note() + r.text, [wkey]).count == 1

    w = WitnessServer(d).start()
    try:
        accept(_post(w, 0, _at(honest, 10)), _at(honest, 10))

        # 1. killed after receiving the request, before persisting: the witness waits
        #    for the write lock of its state database, which the test holds
        lock = sqlite3.connect(state_db, timeout=30, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        outcome: list[object] = []

        def ask() -> None:
            try:
                outcome.append(_post(w, 10, _at(honest, 15)))
            except httpx.HTTPError as e:
                outcome.append(e)

        t = threading.Thread(target=ask)
        t.start()
        time.sleep(1.5)
        assert t.is_alive()  # the request is inside the witness, waiting for the lock
        w.kill()
        t.join(30)
        assert isinstance(outcome[0], httpx.HTTPError)  # the log got no answer
        lock.execute("ROLLBACK")
        lock.close()
        assert _held(state_db) == 10  # nothing half-written

        w.start()
        _refuses_forks(w, honest, fork, 10)
        accept(_post(w, 10, _at(honest, 15)), _at(honest, 15))

        # 2. killed after persisting, before the log read the answer
        body = format_request(15, honest.proof(15, 20), _at(honest, 20).note())
        host, port = urlsplit(w.url).hostname, urlsplit(w.url).port
        raw = socket.create_connection((host, port), timeout=30)
        raw.sendall(
            b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        deadline = time.monotonic() + 30
        while _held(state_db) != 20:
            assert time.monotonic() < deadline, "the witness never persisted size 20"
            time.sleep(0.005)
        w.kill()
        raw.close()  # whatever it answered is lost
        assert _held(state_db) == 20

        w.start()
        # the log, not knowing, asks again from 15: 409 with the size the witness holds
        stale = _post(w, 15, _at(honest, 20))
        assert (stale.status_code, stale.text) == (409, "20\n")
        assert stale.headers["content-type"] == "text/x.tlog.size"
        # and then from 20: the same checkpoint is cosigned again
        accept(_post(w, 20, _at(honest, 20)), _at(honest, 20))
        _refuses_forks(w, honest, fork, 20)
        accept(_post(w, 20, honest), honest)
    finally:
        w.stop()

    # every cosignature was over the honest history; every fork was kept as evidence
    assert all(note in {_at(honest, n).note() for n in (10, 15, 20, 25)} for note in cosigned)
    assert _held(state_db) == 25
    shown = cli("witness", "evidence", "--dir", str(d), "--json")
    assert '"kind": "same_size"' in shown
    assert '"kind": "inconsistent"' in shown


def _at(log: Log, size: int) -> Log:
    return Log.__new__(Log)._init(log.key, log.hashes[:size])


def _refuses_forks(w: WitnessServer, honest: Log, fork: Log, held: int) -> None:
    """Forks of every shape from the size the witness holds are refused."""
    # the same size, another root
    same = _post(w, held, _at(fork, held))
    assert (same.status_code, same.text) == (409, f"{held}\n")
    # a larger forked tree with the fork's own (self-consistent) proof
    bigger = _at(fork, held + 5)
    assert _post(w, held, bigger).status_code == 422
    # with the honest tree's proof, too
    assert _post(w, held, bigger, proof_from=honest).status_code == 422
    # a stale old size never bypasses the check
    assert _post(w, 0, bigger).status_code == 409
