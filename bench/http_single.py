"""Single HTTP submissions (issue 12): ``POST /v1/entries``, one envelope a request.

A real ``custody serve`` on loopback (limits off) over a fresh ledger takes
pre-signed ``origin`` envelopes, one per request, from ``--clients`` concurrent
keep-alive connections for ``--seconds``. The load generator is ``wrk`` (C,
one thread; ``apt-get install wrk``) with ``bench/http_single.lua``, which posts
a different envelope per request from a pre-written file, so the client takes
little of the CPU the server is measured on; without ``wrk`` the minimal asyncio
client of ``bench/http_ingest.py`` runs in a child process instead. ``--pin``
puts the load generator on the last core and the server on the others.

Printed: acknowledged appends per second (201 answers), p50 / p90 / p95 / p99 /
max latency, the server's CPU per acknowledged append (from ``/proc``: the
server and its children), the client's CPU, and the load average. Every
acknowledged append is checked to be in the ledger afterwards (the ledger grew
by at least the 201 count, and by at most the requests still in flight at the
end).

    .venv/bin/python bench/http_single.py [--clients 16] [--seconds 15] [--pin]
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/http_single.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from http_ingest import cpu_seconds, free_port, http_singles, origins, register, start_server

from ledger.home import Home
from ledger.log import Ledger
from ledger.store import drop_all

LUA = Path(__file__).with_name("http_single.lua")


def log(msg: str) -> None:
    print(msg, flush=True)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run_wrk(
    port: int, bodies: Path, clients: int, seconds: float, pin: int | None
) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    cmd += ["-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(bodies), "1"]
    if pin is not None:
        cmd = ["taskset", "-c", str(pin), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def run_asyncio(port: int, bodies: Path, clients: int, seconds: float) -> dict[str, Any]:
    """The fallback load generator, in this (child) process."""
    lines = [line.encode() for line in bodies.read_text().splitlines()]
    per_client = [lines[c::clients] for c in range(clients)]
    lat, count, elapsed = asyncio.run(http_singles("127.0.0.1", port, per_client, seconds))
    ordered = sorted(lat)

    def pct(p: float) -> int:
        return int(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1e6)

    return {
        "created": count, "duplicate": 0, "other": 0, "requests": count,
        "us": int(elapsed * 1e6), "p50_us": pct(0.5), "p90_us": pct(0.9),
        "p95_us": pct(0.95), "p99_us": pct(0.99), "max_us": int(ordered[-1] * 1e6),
    }  # fmt: skip


def size(ledger: Ledger) -> int:
    with ledger.store.read() as r:
        return r.head().size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--n", type=int, default=0, help="envelopes to sign (default 2,500/s of run)")
    ap.add_argument("--pin", action="store_true", help="load generator on the last core only")
    ap.add_argument("--access-log", action="store_true", help="serve with the access log on")
    ap.add_argument("--no-wrk", action="store_true", help="use the asyncio client")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        port, path, clients, seconds = args.client.split(",")
        figures = run_asyncio(int(port), Path(path), int(clients), float(seconds))
        print(json.dumps(figures), flush=True)
        return

    url = os.environ.get("CUSTODY_DB_URL")
    backend = "postgresql" if url else "sqlite"
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    cores = os.cpu_count() or 1
    pin = cores - 1 if args.pin and cores > 1 else None
    log(
        f"custody single-submission benchmark: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.node()}, {cores} cores, Python {platform.python_version()}, {backend}, "
        f"{'wrk' if use_wrk else 'asyncio client'}, {args.clients} clients, "
        f"{'pinned' if pin is not None else 'not pinned'}"
        f"{', access log on' if args.access_log else ''}"
    )
    n = args.n or int(args.seconds * 2500)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if url:
            drop_all(url)
        home = Home(tmp / "home")
        ledger, _ = home.init(origin="bench.custody/http-single")
        parties = register(ledger, home.operator_key(), 64)
        size0 = size(ledger)
        ledger.store.close()
        started = time.perf_counter()
        bodies = tmp / "bodies.jsonl"
        with bodies.open("w") as f:
            for e in origins(parties, "single", n):
                f.write(e.to_json() + "\n")
        log(f"signed {n:,} envelopes in {time.perf_counter() - started:.1f} s")

        port = free_port()
        proc = start_server(home, port, 1, access_log=args.access_log)
        if pin is not None:
            server_cores = set(range(cores)) - {pin}
            for task in Path(f"/proc/{proc.pid}/task").iterdir():
                os.sched_setaffinity(int(task.name), server_cores)
        try:
            load0, cpu0 = load(), cpu_seconds(proc.pid)
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if use_wrk:
                fig = run_wrk(port, bodies, args.clients, args.seconds, pin)
            else:
                out = subprocess.run(
                    [sys.executable, __file__, "--client",
                     f"{port},{bodies},{args.clients},{args.seconds}"],
                    capture_output=True, text=True, check=True,
                ).stdout  # fmt: skip
                fig = json.loads(out.strip().splitlines()[-1])
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu1, load1 = cpu_seconds(proc.pid), load()
            time.sleep(0.5)  # the requests in flight when the client stopped
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        ledger = home.open()
        grown = size(ledger) - size0
        ledger.store.close()
        if url:
            drop_all(url)

    created, elapsed = fig["created"], fig["us"] / 1e6
    client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    server_cpu = cpu1 - cpu0
    assert created <= grown <= created + args.clients, (created, grown)
    assert fig["other"] == 0, fig
    assert not fig.get("timeouts"), fig
    rate = created / elapsed
    ms = {k: fig[f"{k}_us"] / 1000 for k in ("p50", "p90", "p95", "p99", "max")}
    log(
        f"acknowledged appends: {created:,} in {elapsed:.1f} s = {rate:,.0f}/s "
        f"({rate / 1500:.2f}x the 1,500/s target); duplicates {fig['duplicate']}, "
        f"ledger grew by {grown:,}"
    )
    log(
        "latency ms: " + ", ".join(f"{k} {v:.1f}" for k, v in ms.items())
        + f"  (p99 target < 50 ms: {ms['p99'] / 50:.2f}x)"
    )  # fmt: skip
    log(
        f"server CPU {server_cpu:.2f} s = {server_cpu / max(created, 1) * 1000:.2f} ms per "
        f"append; client CPU {client_cpu:.2f} s; load average {load0} -> {load1}"
    )
    if args.json:
        summary = {
            "backend": backend, "clients": args.clients, "per_s": round(rate),
            "server_ms_per_append": round(server_cpu / max(created, 1) * 1000, 3),
            "client_cpu_s": round(client_cpu, 2), **{f"{k}_ms": round(v, 2) for k, v in ms.items()},
        }  # fmt: skip
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
