"""HTTP ingest benchmark (issue 6): ``custody serve`` against in-process ``Ledger.submit``.

In one run, on one machine, over the same kind of ledger:

1. the in-process rate: pre-signed ``origin`` envelopes appended with
   ``Ledger.submit`` in batches (as ``bench/ingest.py`` does, signatures
   verified inline, as the server does);
2. the HTTP batched rate: the same number of envelopes posted to
   ``POST /v1/entries/batch`` of a real ``custody serve`` on loopback, in
   batches of the same size, with two requests in flight (a bulk loader keeps
   the server busy while it sends the next batch); bodies are encoded before
   the clock starts, so the figure is the server's;
3. the ratio of the two (target: at least 80%, issue 12), in wall time and per
   CPU-second of the server (from ``/proc``: on a shared machine, the CPU figures
   do not depend on how much of a core the server got);
4. single submissions (``POST /v1/entries``) from 16 concurrent clients for a
   fixed time: p50 / p99 latency (target p99 < 50 ms), throughput (target 1,500/s)
   and the server's CPU per acknowledged append.

    .venv/bin/python bench/http_ingest.py [--n 20000] [--batch 1000] [--clients 16] [--seconds 15]
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/http_ingest.py

The database starts empty (a temporary home; for PostgreSQL the tables are dropped first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey
from ledger.log import Ledger
from ledger.statements import build_statement
from ledger.store import drop_all

BIN = Path(sys.executable).parent
CUSTODY = BIN / "custody"


def log(msg: str) -> None:
    print(msg, flush=True)


def register(ledger: Ledger, operator: PrivateKey, n: int) -> list[tuple[str, PrivateKey]]:
    parties = []
    envs = []
    for i in range(n):
        pid = f"farm{i}"
        key = PrivateKey.generate()
        parties.append((pid, key))
        payload = build_statement(
            "party",
            f"party/{pid}",
            "operator",
            datetime.now(UTC) - timedelta(days=1),
            party={"id": pid, "name": f"Farm {i}", "country": "US", "roles": ["supplier"]},
            keys=[key.public_key_b64],
        )
        envs.append(sign_envelope(payload, [operator]))
    for r in ledger.submit(envs):
        assert r.error is None, r.error
    return parties


def origins(parties: list[tuple[str, PrivateKey]], tag: str, n: int) -> Iterator[Envelope]:
    now = datetime.now(UTC) - timedelta(hours=1)
    for i in range(n):
        pid, key = parties[i % len(parties)]
        payload = build_statement(
            "origin",
            f"{tag}/{i}",
            pid,
            now,
            lot={
                "id": f"{pid}/{tag}-{i}",
                "material": "cotton.seed",
                "quantity": Decimal(1000),
                "unit": "kg",
            },
            site={"name": "Field", "country": "US", "subdivision": "US-TX"},
        )
        yield sign_envelope(payload, [key])


def in_process(home: Home, envs: list[Envelope], batch: int) -> tuple[float, float]:
    """Appends per second of wall time and per CPU-second of this process."""
    ledger = home.open()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(envs), batch):
        for r in ledger.submit(envs[i : i + batch]):
            assert r.error is None, r.error
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    ledger.store.close()
    return len(envs) / elapsed, len(envs) / cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process ``pid`` and its children (uvicorn's
    workers), from ``/proc``: on a shared machine the wall-clock rate depends on how
    much of a core the server gets; appends per CPU-second of the server do not."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself or a child
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    home: Home, port: int, workers: int, *, access_log: bool = False
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update({"CUSTODY_API_SUBMIT_RATE": "0", "CUSTODY_API_AUTH_RATE": "0"})
    cmd = [str(CUSTODY), "serve", "--home", str(home.path), "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning"]
    cmd += ["--access-log" if access_log else "--no-access-log"]
    quiet = subprocess.DEVNULL if access_log else None  # a line per request
    proc = subprocess.Popen(cmd, env=env, stdout=quiet)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("custody serve exited")
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("custody serve did not start")


class RawHTTP:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator.

    httpx costs about a millisecond of client CPU per request, which on a
    small machine competes with the server being measured; like ``wrk`` or
    ``hey``, this sends pre-encoded requests and reads ``Content-Length``
    bodies, nothing more.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawHTTP:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()

    def request(self, path: str, body: bytes, content_type: str = "application/json") -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("ascii") + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


async def http_batched(host: str, port: int, bodies: list[bytes], inflight: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    count = 0

    async def worker() -> None:
        nonlocal count
        async with RawHTTP(host, port) as http:
            while not queue.empty():
                status, body = await http.send(
                    http.request("/v1/entries/batch", queue.get_nowait())
                )
                assert status == 200, body[:300]
                results = json.loads(body)["results"]
                bad = [x for x in results if "error" in x]
                assert not bad, bad[:3]
                count += len(results)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    return count / (time.perf_counter() - start)


async def http_singles(
    host: str, port: int, per_client: list[list[bytes]], seconds: float
) -> tuple[list[float], int, float]:
    latencies: list[float] = []

    async def client(bodies: list[bytes], deadline: float) -> None:
        async with RawHTTP(host, port) as http:
            raws = [http.request("/v1/entries", b) for b in bodies]
            for raw in raws:
                if time.monotonic() >= deadline:
                    return
                t0 = time.perf_counter()
                status, body = await http.send(raw)
                latencies.append(time.perf_counter() - t0)
                assert status == 201, body[:300]

    start = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(client(b, deadline) for b in per_client))
    elapsed = time.perf_counter() - start
    return latencies, len(latencies), elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="envelopes per ingest measurement")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--inflight", type=int, default=2, help="concurrent batch requests")
    ap.add_argument("--clients", type=int, default=16, help="concurrent single submitters")
    ap.add_argument("--seconds", type=float, default=15.0, help="single-submission phase")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()

    backend = "postgresql" if os.environ.get("CUSTODY_DB_URL") else "sqlite"
    log(
        f"custody HTTP ingest benchmark: {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {backend}, "
        f"{args.workers} worker(s)"
    )
    with tempfile.TemporaryDirectory() as tmp_s:
        if os.environ.get("CUSTODY_DB_URL"):
            drop_all(os.environ["CUSTODY_DB_URL"])
        home = Home(Path(tmp_s) / "home")
        ledger, _ = home.init(origin="bench.custody/http")
        parties = register(ledger, home.operator_key(), 64)
        ledger.store.close()
        log("signing envelopes ...")
        local = list(origins(parties, "local", args.n))
        remote = list(origins(parties, "http", args.n))
        per_client_n = int(args.seconds * 400) + 100
        singles = [
            [e.to_json().encode() for e in origins(parties, f"single{c}", per_client_n)]
            for c in range(args.clients)
        ]
        bodies = [
            ("[" + ",".join(e.to_json() for e in remote[i : i + args.batch]) + "]").encode()
            for i in range(0, len(remote), args.batch)
        ]

        inproc, inproc_cpu = in_process(home, local, args.batch)
        log(
            f"in-process Ledger.submit, batches of {args.batch}: {inproc:10,.0f} statements/s"
            f"  ({inproc_cpu:,.0f} per CPU-second)"
        )

        port = free_port()
        proc = start_server(home, port, args.workers)
        try:
            cpu0 = cpu_seconds(proc.pid)
            batched = asyncio.run(http_batched("127.0.0.1", port, bodies, args.inflight))
            cpu1 = cpu_seconds(proc.pid)
            lat, count, elapsed = asyncio.run(
                http_singles("127.0.0.1", port, singles, args.seconds)
            )
            cpu2 = cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        if os.environ.get("CUSTODY_DB_URL"):
            drop_all(os.environ["CUSTODY_DB_URL"])

    ratio = batched / inproc
    batched_cpu = args.n / (cpu1 - cpu0)
    single_cpu = count / (cpu2 - cpu1)
    p50, p99 = percentile(lat, 0.50) * 1000, percentile(lat, 0.99) * 1000
    log(
        f"HTTP POST /v1/entries/batch ({args.batch}/request, {args.inflight} in flight): "
        f"{batched:10,.0f} statements/s  ({batched_cpu:,.0f} per server CPU-second)"
    )
    log(
        f"HTTP batched / in-process:                {ratio:10.0%}  (target >= 80%); "
        f"per CPU-second {batched_cpu / inproc_cpu:.0%}"
    )
    log(
        f"single POST /v1/entries, {args.clients} clients, {elapsed:.0f} s: "
        f"{count / elapsed:,.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(lat) * 1000:.1f} ms  (target 1,500/s, p99 < 50 ms); "
        f"{single_cpu:,.0f} per server CPU-second ({(cpu2 - cpu1) / count * 1000:.2f} ms each)"
    )
    if args.json:
        figures: dict[str, Any] = {
            "backend": backend,
            "in_process_per_s": round(inproc),
            "in_process_per_cpu_s": round(inproc_cpu),
            "http_batched_per_s": round(batched),
            "http_batched_per_server_cpu_s": round(batched_cpu),
            "single_per_server_cpu_s": round(single_cpu),
            "ratio": round(ratio, 3),
            "single_clients": args.clients,
            "single_per_s": round(count / elapsed),
            "single_p50_ms": round(p50, 2),
            "single_p99_ms": round(p99, 2),
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
