"""Witnessing benchmark (issue 16): HTTP ingest with two local witnesses against none.

Each run starts from a fresh home (parties registered in-process), starts a
real ``custody serve`` on loopback and posts ``--n`` pre-signed ``origin``
envelopes to ``POST /v1/entries/batch`` in batches of ``--batch`` with two
requests in flight (the load generator of ``bench/http_ingest.py``). Runs come
in pairs, ``--repeat`` times, which kind goes first alternating: no witness,
and two witnesses (``custody witness serve`` on loopback, named in the home's
``witnesses.json``, so the server asks them in the background).

Figures: the overhead, the median over the pairs of ``1 - with / without``
(target: at most 5%); the server process's own CPU time per 1000 entries for
both kinds (steadier than rates on a shared machine); and the witnessing lag,
how long after the last append both witnesses had cosigned the final checkpoint.

The witnessing task costs the server CPU per *round* (every 0.5 s when there is
a new checkpoint), not per entry, so its share of the per-entry CPU depends on
how many entries a round covers. ``--rounds R`` (default 60) also measures, in
this process, the CPU of one round with a new checkpoint and of an idle round
against two real witnesses, and derives the witnessing CPU per 1000 entries at
the measured no-witness rate, and the share of one core the task takes while
appends go on (round CPU / 0.5 s): what it can take from a server that is
CPU-bound, i.e. the bound on the throughput loss. Steadier than the paired runs
on a loaded machine.

    .venv/bin/python bench/witness.py [--n 20000] [--batch 1000] [--repeat 3] [--rounds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.home import Home  # noqa: E402

CUSTODY = Path(sys.executable).parent / "custody"


def _http_ingest() -> ModuleType:
    """``bench/http_ingest.py`` (envelopes, server start, load generator), by path."""
    spec = importlib.util.spec_from_file_location(
        "custody_bench_http_ingest", ROOT / "bench" / "http_ingest.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("bench/http_ingest.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


H = _http_ingest()


def run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def start_witness(directory: Path, vkey_log: str) -> tuple[subprocess.Popen[bytes], str, str]:
    run([str(CUSTODY), "witness", "init", "--dir", str(directory), "--log", vkey_log])
    vkey = run([str(CUSTODY), "witness", "key", "--dir", str(directory)]).strip()
    port = H.free_port()
    cmd = [str(CUSTODY), "witness", "serve", "--dir", str(directory), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return proc, url, vkey
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("custody witness serve did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``): the server's
    own cost, steadier than wall-clock rates on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def one_run(tmp: Path, label: str, n: int, batch: int, witnesses: int) -> dict[str, float]:
    home = Home(tmp / label)
    ledger, _ = home.init(origin="custody.bench/ledger")
    parties = H.register(ledger, home.operator_key(), 50)
    vkey_log = ledger.verifier_key()
    ledger.store.close()
    envs = list(H.origins(parties, label, n))
    bodies = [
        json.dumps([e.to_json_obj() for e in envs[i : i + batch]]).encode()
        for i in range(0, n, batch)
    ]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(witnesses):
            proc, url, vkey = start_witness(tmp / f"{label}-w{i}", vkey_log)
            procs.append(proc)
            run([str(CUSTODY), "witness", "add", url, vkey, "--home", str(home.path)])
        port = H.free_port()
        server = H.start_server(home, port, 1)
        procs.append(server)
        cpu0 = _cpu_seconds(server.pid)
        rate = asyncio.run(H.http_batched("127.0.0.1", port, bodies, 2))
        done_at = time.perf_counter()
        out = {"rate": rate, "cpu_ms_per_1000": (_cpu_seconds(server.pid) - cpu0) * 1e6 / n}
        if witnesses:
            size = httpx.get(f"http://127.0.0.1:{port}/v1/health").json()["size"]
            while True:
                status = httpx.get(f"http://127.0.0.1:{port}/v1/witnesses").json()["witnesses"]
                if all(w["cosigned_size"] >= size for w in status):
                    break
                if time.perf_counter() - done_at > 120:
                    raise SystemExit(f"witnesses did not catch up: {status}")
                time.sleep(0.05)
            out["lag"] = time.perf_counter() - done_at
        return out
    finally:
        for p in reversed(procs):
            stop(p)


def round_cost(tmp: Path, rounds: int) -> dict[str, float]:
    """CPU ms of one witnessing round with a new checkpoint (two witnesses) and of
    an idle round, measured around :meth:`api.witnessing.Witnessing.round`."""
    from api.witnessing import Witnessing
    from ledger.cosignature import parse_cosigner_key
    from ledger.witness.config import WitnessEndpoint

    home = Home(tmp / "rounds")
    ledger, _ = home.init(origin="custody.bench/ledger")
    parties = H.register(ledger, home.operator_key(), 50)
    envs = list(H.origins(parties, "rounds", rounds * 10))
    procs: list[subprocess.Popen[bytes]] = []
    endpoints = []
    try:
        for i in range(2):
            proc, url, vkey = start_witness(tmp / f"rounds-w{i}", ledger.verifier_key())
            procs.append(proc)
            endpoints.append(WitnessEndpoint(url, parse_cosigner_key(vkey)))

        async def measure() -> dict[str, float]:
            task = Witnessing(ledger.store, endpoints, interval=3600)
            await task.start()
            try:
                await task.round()
                busy = []
                for r in range(rounds):
                    ledger.submit(envs[r * 10 : (r + 1) * 10])
                    t0 = time.process_time()
                    await task.reload()
                    await task.round()
                    busy.append((time.process_time() - t0) * 1000)
                if any(s["cosigned_size"] != ledger.size() for s in task.status()):
                    raise SystemExit(f"a witness fell behind: {task.status()}")
                t0 = time.process_time()
                for _ in range(rounds):
                    await task.reload()
                    await task.round()
                idle = (time.process_time() - t0) * 1000 / rounds
            finally:
                await task.stop()
            return {"round_ms": statistics.median(busy), "idle_round_ms": idle}

        return asyncio.run(measure())
    finally:
        ledger.store.close()
        for p in procs:
            stop(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="envelopes per run")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind (alternating)")
    ap.add_argument("--rounds", type=int, default=60, help="rounds timed in-process (0: skip)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    os.environ.pop("CUSTODY_DB_URL", None)  # SQLite homes: each run starts empty
    none: list[float] = []
    two: list[float] = []
    lags: list[float] = []
    cpu_none: list[float] = []
    cpu_two: list[float] = []
    cost: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="custody-bench-witness-") as t:
        tmp = Path(t)
        if args.rounds:
            cost = round_cost(tmp, args.rounds)
        for r in range(args.repeat):
            # odd pairs run the witnessed case first, so neither kind always goes first
            if r % 2:
                b = one_run(tmp, f"two{r}", args.n, args.batch, 2)
            a = one_run(tmp, f"none{r}", args.n, args.batch, 0)
            none.append(a["rate"])
            cpu_none.append(a["cpu_ms_per_1000"])
            H.log(
                f"run {r}: no witness    {a['rate']:8.0f} entries/s, server CPU "
                f"{a['cpu_ms_per_1000']:.0f} ms per 1000 entries"
            )
            if not r % 2:
                b = one_run(tmp, f"two{r}", args.n, args.batch, 2)
            two.append(b["rate"])
            lags.append(b["lag"])
            cpu_two.append(b["cpu_ms_per_1000"])
            rate, lag, cpu = b["rate"], b["lag"], b["cpu_ms_per_1000"]
            H.log(
                f"run {r}: two witnesses {rate:8.0f} entries/s, server CPU {cpu:.0f} ms per "
                f"1000 entries, cosigned {lag:.2f} s later"
            )
    base, witnessed = statistics.median(none), statistics.median(two)
    # runs alternate, so each pair shares the machine's load of its minute: the
    # median of the paired ratios is the steadier figure on a shared machine
    overhead = 1 - statistics.median(b / a for a, b in zip(none, two, strict=True))
    H.log(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    H.log(f"median no witness     {base:8.0f} entries/s")
    H.log(f"median two witnesses  {witnessed:8.0f} entries/s")
    H.log(f"overhead              {overhead * 100:6.1f} %  median of paired runs (target <= 5 %)")
    c0, c2 = statistics.median(cpu_none), statistics.median(cpu_two)
    extra = (c2 / c0 - 1) * 100
    H.log(f"server CPU            {c0:6.0f} -> {c2:.0f} ms per 1000 entries ({extra:+.1f} %)")
    H.log(f"witnessing lag        {statistics.median(lags):6.2f} s median after the last append")
    if cost:
        per_1000 = cost["round_ms"] * (1000 / base) / 0.5  # rounds every 0.5 s
        H.log(
            f"one round           {cost['round_ms']:6.2f} ms CPU with a new checkpoint, "
            f"{cost['idle_round_ms']:.2f} ms idle"
        )
        H.log(
            f"witnessing CPU      {per_1000:6.1f} ms per 1000 entries at {base:.0f} entries/s "
            f"({per_1000 / c0 * 100:.1f} % of {c0:.0f}); {cost['round_ms'] / 0.5 / 10:.1f} % "
            "of one core while appends go on, whatever the rate (the bound on throughput)"
        )
    if args.json:
        doc: dict[str, Any] = {
            "n": args.n,
            "batch": args.batch,
            "none": none,
            "two_witnesses": two,
            "lag_seconds": lags,
            "server_cpu_ms_per_1000": {"none": cpu_none, "two_witnesses": cpu_two},
            "overhead": overhead,
            "round_cost_ms": cost,
        }
        print(json.dumps(doc))


if __name__ == "__main__":
    main()
