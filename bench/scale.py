"""Scale benchmark (issue 12, "Scale"): a ledger of 10^7 entries and more, streamed.

``bench/ingest.py`` signs its whole input before the clock starts and holds it in
memory; at 10^7 statements that is too much of both. Here the statements of the
mix (``bench/ingest_mix.py``) are signed in batches on ``--sign-workers``
processes, at most ``--ahead`` batches ahead of the appender, and appended
through ``Ledger.submit_stream`` (verification on ``--workers`` processes), so
memory stays flat whatever ``--n`` is. The run prints:

* a progress line every ``--every`` seconds (UTC time, entries, rate and CPU of
  the appending process an entry over the interval, PostgreSQL backend CPU an
  entry, RSS, projected finish), and a line for each tenth of ``--n`` as it
  completes: a run stopped early (SIGTERM, SIGINT, ``--stop-at``) still reports
  the rate by tenth so far;
* at the end (or when stopped): rates and CPU µs an entry of the first and the
  last complete tenth and their ratio; then ``ANALYZE`` (where autovacuum is
  off the planner has no statistics, and the recursive trace query at 10^7
  takes minutes instead of 0.2 s); the median inclusion proof at the size
  reached; the storage per entry by table (``pg_table_size`` +
  ``pg_indexes_size``; SQLite: the file); the PostgreSQL settings in force;
* with ``--trace-target`` (the default for the realistic mix): the target
  finished good of ``bench/trace.py`` (about 10,000 upstream statements) is
  appended first, and ``bench/trace.py --measure`` times its trace + verify on
  the fresh ledger and again at the size reached.

    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale \\
        .venv/bin/python bench/scale.py --n 10000000 --home /tmp/scale-home
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from ingest import fresh_home, proof_times, table_sizes
from ingest_mix import UNIT, Parties, sign_range
from trace_chain import Bench

from ledger.envelope import PAYLOAD_TYPE, Envelope, EnvelopeSignature
from ledger.home import DB_URL_ENV, Home
from ledger.log import Ledger
from ledger.sigcheck import ProcessVerifier, worker_pool
from ledger.store import Store, drop_all

TICK = os.sysconf("SC_CLK_TCK")


def say(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", flush=True)


@dataclass
class Progress:
    """Per batch: entries so far, wall and CPU (this process, PostgreSQL backends) at its end."""

    total: int
    start: float = field(default_factory=time.perf_counter)
    cpu0: float = field(default_factory=time.process_time)
    done: list[int] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    tenths: list[tuple[int, float, float]] = field(default_factory=list)  # (entries, wall, cpu)

    def add(self, n: int) -> None:
        self.done.append((self.done[-1] if self.done else 0) + n)
        self.ends.append(time.perf_counter() - self.start)
        self.cpus.append(time.process_time() - self.cpu0)
        if self.done[-1] >= (len(self.tenths) + 1) * self.total / 10:  # one a batch
            self.tenths.append((self.done[-1], self.ends[-1], self.cpus[-1]))
            say(f"tenth {len(self.tenths)}: {self.tenth_line(len(self.tenths) - 1)}")

    def tenth_line(self, i: int) -> str:
        n, wall, cpu = self.tenths[i]
        n0, wall0, cpu0 = self.tenths[i - 1] if i else (0, 0.0, 0.0)
        return (
            f"{n0:,} to {n:,}: {(n - n0) / (wall - wall0):,.0f} entries/s, "
            f"{(cpu - cpu0) / (n - n0) * 1e6:,.0f} µs CPU an entry (appending process)"
        )


class BackendCpu:
    """CPU seconds of the database's PostgreSQL backends (``/proc``, same host), the
    appender's connections; 0 on SQLite or when ``/proc`` cannot be read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: dict[int, float] = {}

    def __call__(self) -> float:
        if self.store.is_sqlite:
            return 0.0
        from sqlalchemy import text

        with self.store.engine.connect() as c:
            pids = c.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.seen[int(pid)] = (int(fields[11]) + int(fields[12])) / TICK
        return sum(self.seen.values())


def signed_batches(
    args: argparse.Namespace, seeds: dict[str, bytes], stop: list[bool]
) -> Iterator[list[Envelope]]:
    """The mix in batches of about ``args.batch``, signed on worker processes ahead."""
    per = max(1, args.batch // UNIT) if args.mix == "realistic" else args.batch
    count = -(-args.n // UNIT) if args.mix == "realistic" else args.n
    pool = worker_pool(args.sign_workers, "ingest_mix")
    ahead: deque[Future[list[tuple[bytes, tuple[tuple[str, bytes], ...]]]]] = deque()
    nxt = 0
    try:
        while True:
            while nxt < count and len(ahead) < args.ahead:
                ahead.append(pool.submit(sign_range, args.mix, seeds, nxt, min(count, nxt + per)))
                nxt += per
            if not ahead or stop[0]:
                return
            yield [
                Envelope(PAYLOAD_TYPE, payload, tuple(EnvelopeSignature(k, s) for k, s in sigs))
                for payload, sigs in ahead.popleft().result()
            ]
    finally:
        for f in ahead:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def setup(args: argparse.Namespace) -> tuple[Ledger, dict[str, bytes]]:
    """A fresh ledger (the trace target first, with ``--trace-target``) and the mix's parties."""
    home: Path = args.home
    if args.trace_target:
        if os.environ.get(DB_URL_ENV):
            drop_all(os.environ[DB_URL_ENV])
        bench = Bench(home, 4)
        subject = bench.target()
        (home / "bench.json").write_text(json.dumps({"subject": subject}), encoding="utf-8")
        ledger = bench.ledger
        say(f"trace target {subject}: ledger at {ledger.size():,} entries")
        operator = bench.home.operator_key()
    else:
        h, ledger = fresh_home(home.parent, home.name)
        operator = h.operator_key()
    parties = Parties(ledger, operator, {"farm": 60, "gin": 12, "spin": 6})
    ledger.store.close()
    return ledger, {pid: k.seed for pid, k in parties.keys.items()}


def trace_verify(home: Path, label: str) -> None:
    """``bench/trace.py --measure`` on the target, as a separate process."""
    say(f"trace + verify ({label}):")
    script = str(Path(__file__).with_name("trace.py"))
    out = subprocess.run(
        [sys.executable, script, "--measure", str(home), "--repeat", "3", "--workers", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    print(out.stdout + out.stderr[-2000:], flush=True)


def append(args: argparse.Namespace, seeds: dict[str, bytes]) -> Progress:
    ledger = Home(args.home).open()
    verifier = ProcessVerifier(args.workers) if args.workers > 1 else None
    if verifier is not None:
        verifier.start()
        ledger.verifier = verifier
    total = -(-args.n // UNIT) * UNIT if args.mix == "realistic" else args.n
    stop = [False]

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop[0] = True  # the batch being appended is finished, then the report

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    backend = BackendCpu(ledger.store)
    gc.collect()
    gc.freeze()
    prog = Progress(total)
    last = (0, 0.0, 0.0, backend())
    try:
        for results in ledger.submit_stream(signed_batches(args, seeds, stop)):
            bad = next((r for r in results if r.error is not None), None)
            if bad is not None:
                raise SystemExit(f"unexpected rejection: {bad.error}")
            prog.add(len(results))
            if args.stop_at and time.time() >= args.stop_at:
                stop[0] = True
            if prog.ends[-1] - last[1] >= args.every or stop[0]:
                n, wall, cpu, be = prog.done[-1], prog.ends[-1], prog.cpus[-1], backend()
                rate = (n - last[0]) / (wall - last[1])
                eta = datetime.fromtimestamp(time.time() + (total - n) / rate, UTC)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                say(
                    f"{n:,}/{total:,} ({n / total:.1%}): {rate:,.0f} entries/s, "
                    f"{(cpu - last[2]) / (n - last[0]) * 1e6:,.0f} µs CPU an entry here, "
                    f"{(be - last[3]) / (n - last[0]) * 1e6:,.0f} µs in PostgreSQL; "
                    f"max RSS {rss:,.0f} MB; load {os.getloadavg()[0]:.1f}; "
                    f"finish at this rate {eta:%H:%M} UTC"
                )
                last = (n, wall, cpu, be)
    finally:
        gc.unfreeze()
        if verifier is not None:
            verifier.close()
        ledger.store.close()
    return prog


def pg_settings(store: Store) -> str:
    from sqlalchemy import text

    if store.is_sqlite:
        return "SQLite"
    names = [
        "server_version",
        "shared_buffers",
        "effective_cache_size",
        "work_mem",
        "maintenance_work_mem",
        "synchronous_commit",
        "max_wal_size",
        "checkpoint_timeout",
        "wal_compression",
        "autovacuum",
    ]
    with store.engine.connect() as c:
        rows = c.execute(
            text("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(:n)"),
            {"n": names},
        ).all()
    return ", ".join(f"{n}={v}" for n, v in rows)


def report(args: argparse.Namespace, prog: Progress) -> None:
    n = prog.done[-1] if prog.done else 0
    say(f"appended {n:,} of {prog.total:,} entries in {prog.ends[-1] if n else 0:,.0f} s")
    for i in range(len(prog.tenths)):
        print(f"  tenth {i + 1}: {prog.tenth_line(i)}")
    if len(prog.tenths) >= 2:
        first, last = prog.tenths[0], prog.tenths[-1]
        prev = prog.tenths[-2]
        r1, r2 = first[0] / first[1], (last[0] - prev[0]) / (last[1] - prev[1])
        c1, c2 = first[2] / first[0], (last[2] - prev[2]) / (last[0] - prev[0])
        print(
            f"first / last complete tenth: {r1:,.0f} / {r2:,.0f} entries/s ({r2 / r1:.2f}x); "
            f"CPU of the appending process {c1 * 1e6:,.0f} / {c2 * 1e6:,.0f} µs an entry "
            f"({c2 / c1:.2f}x)"
        )
    led = Home(args.home).open(with_key=False)
    size = led.size()
    print(f"settings: {pg_settings(led.store)}", flush=True)
    if not led.store.is_sqlite:  # planner statistics (with autovacuum off there are none)
        from sqlalchemy import text

        with led.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    rows = table_sizes(led.store)  # no VACUUM: the tables are appended to
    led.store.close()
    tb, ib = sum(t for _, t, _ in rows), sum(i for _, _, i in rows)
    print(
        f"storage at {size:,} entries: {tb + ib:,} bytes = {(tb + ib) / size:,.0f} bytes an entry "
        f"(tables {tb / size:,.0f}, indexes {ib / size:,.0f})"
    )
    for name, t, i in sorted(rows, key=lambda r: -(r[1] + r[2])):
        print(f"  {name:<24} {t / size:8,.1f} + {i / size:,.1f} bytes an entry")
    if args.proofs:
        size, median_ms = proof_times(args.home, args.proofs)
        print(f"median inclusion proof at {size:,} entries: {median_ms:.3f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="entries to append (whole units)")
    ap.add_argument("--home", type=Path, required=True, help="home folder (created)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--mix", choices=["origin", "realistic"], default="realistic")
    ap.add_argument("--workers", type=int, default=2, help="verification processes")
    ap.add_argument("--sign-workers", type=int, default=1, help="signing processes")
    ap.add_argument("--ahead", type=int, default=4, help="signed batches held ahead")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    ap.add_argument("--proofs", type=int, default=2000, help="inclusion proofs to time")
    ap.add_argument("--stop-at", type=float, default=0.0, help="Unix time to stop appending")
    ap.add_argument(
        "--trace-target",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="append bench/trace.py's target good first; time its trace at both ends",
    )
    args = ap.parse_args()
    if args.trace_target is None:
        args.trace_target = args.mix == "realistic"
    say(
        f"custody scale benchmark: {platform.node()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {'PostgreSQL' if os.environ.get(DB_URL_ENV) else 'SQLite'}"
        f"; --n {args.n:,} --mix {args.mix} --batch {args.batch} --workers {args.workers} "
        f"--sign-workers {args.sign_workers}"
    )
    _, seeds = setup(args)
    if args.trace_target:
        trace_verify(args.home, "before the stream")
    prog = append(args, seeds)
    report(args, prog)
    if args.trace_target:
        trace_verify(args.home, "at the size reached")


if __name__ == "__main__":
    main()
