"""A bounded load on loopback: 16 concurrent clients submitting for 30 s, against
SQLite (one worker) and PostgreSQL (two workers sharing the ledger).

Nothing acknowledged may be lost, duplicated or reordered: each client's
acknowledged seqs increase, all seqs are distinct, the ledger holds exactly the
acknowledged statements (and the ones there before), and the audit is clean.
The measured throughput is printed (run with ``-s`` to see it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from api.tokens import TokenStore
from ledger.audit import audit
from ledger.envelope import sign_envelope
from ledger.home import Home
from ledger.statements import build_statement
from ledger.store import Store
from tests.api.support import Actor, Server, Story, new_home, submit_all

CLIENTS = 16
DURATION = 30.0
BATCHING = 4  # the last BATCHING clients send batches of BATCH envelopes
BATCH = 5


@dataclass
class ClientLog:
    acks: list[tuple[int, str]] = field(default_factory=list)  # (seq, digest) in ack order
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def _origin(actor: Actor, n: int) -> str:
    payload = build_statement(
        "origin",
        f"load-{n}",
        actor.id,
        datetime.now(UTC),
        lot={
            "id": f"{actor.id}/load-{n}",
            "material": "cotton.seed",
            "quantity": Decimal(1000 + n),
            "unit": "kg",
        },
        site={"name": "Field", "country": "US", "subdivision": "US-TX"},
    )
    return sign_envelope(payload, [actor.key]).to_json()


def _client(url: str, actor: Actor, batch: int, start: threading.Event, log: ClientLog) -> None:
    n = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        start.wait()
        deadline = time.monotonic() + DURATION
        while time.monotonic() < deadline:
            bodies = [_origin(actor, n + i) for i in range(batch)]
            n += batch
            t0 = time.perf_counter()
            try:
                if batch == 1:
                    r = http.post(
                        "/v1/entries",
                        content=bodies[0],
                        headers={"Content-Type": "application/json"},
                    )
                    results = [r.json()] if r.status_code == 201 else None
                else:
                    r = http.post(
                        "/v1/entries/batch",
                        content="\n".join(bodies),
                        headers={"Content-Type": "application/x-ndjson"},
                    )
                    results = r.json()["results"] if r.status_code == 200 else None
            except httpx.HTTPError as e:
                log.errors.append(f"{actor.id}: {e!r}")
                return
            log.latencies.append(time.perf_counter() - t0)
            if results is None or any("seq" not in x for x in results):
                log.errors.append(f"{actor.id}: HTTP {r.status_code} {r.text[:200]}")
                return
            log.acks.extend((int(x["seq"]), str(x["digest"])) for x in results)


def _load(home: Home, server: Server, story: Story) -> None:
    farms = [story.actors[f"farm{i}"] for i in range(CLIENTS)]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        submit_all(http, story.envelopes)
    store = Store(server.env.get("CUSTODY_DB_URL") or home.db_url)
    with store.read() as r:
        before = r.head().size
    logs = [ClientLog() for _ in farms]
    start = threading.Event()
    threads = [
        threading.Thread(
            target=_client,
            args=(server.url, farm, BATCH if i >= CLIENTS - BATCHING else 1, start, logs[i]),
        )
        for i, farm in enumerate(farms)
    ]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    start.set()
    for t in threads:
        t.join(DURATION + 120)
    elapsed = time.perf_counter() - t0
    errors = [e for log in logs for e in log.errors]
    assert not errors, errors[:5]

    # each client's acknowledgements come in increasing seq order
    for log in logs:
        seqs = [s for s, _ in log.acks]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
    acked = {s: d for log in logs for s, d in log.acks}
    total = sum(len(log.acks) for log in logs)
    assert len(acked) == total, "two acknowledgements share a seq"

    # the ledger holds exactly what was acknowledged, after what was there before
    with store.read() as r:
        size = r.head().size
        stored = {e.seq: e.digest for e in r.entries(before, size)}
    assert size == before + total
    assert stored == acked

    report = audit(store)
    store.close()
    assert report.ok, [p.message for p in report.problems[:5]]

    lat = sorted(x for log in logs for x in log.latencies)
    p50 = lat[len(lat) // 2] * 1000
    p99 = lat[int(len(lat) * 0.99)] * 1000
    print(
        f"\n[load {server.env.get('CUSTODY_DB_URL', 'sqlite').split(':')[0]}, "
        f"{server.workers} worker(s)] {CLIENTS} clients, {elapsed:.1f} s: "
        f"{total} statements acknowledged, {total / elapsed:.0f}/s; "
        f"request latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


def _story(home: Home) -> Story:
    story = Story(home)
    for i in range(CLIENTS):
        story.party(f"farm{i}", f"Farm {i}", "US", subdivision="US-TX")
    return story


@pytest.mark.slow
def test_load_sqlite(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    new_home(home, origin="custody.load/ledger")
    with Server(home.path) as server:
        _load(home, server, _story(home))


@pytest.mark.slow
@pytest.mark.postgres
def test_load_postgresql(tmp_path: Path, pg_url: str) -> None:
    import os

    os.environ["CUSTODY_DB_URL"] = pg_url
    try:
        home = Home(tmp_path / "home")
        new_home(home, origin="custody.load-pg/ledger")
    finally:
        del os.environ["CUSTODY_DB_URL"]
    try:
        with Server(home.path, db_url=pg_url, workers=2) as server:
            _load(home, server, _story(home))
    finally:
        store = Store(pg_url)
        TokenStore(store.engine).drop_schema()
        store.close()
