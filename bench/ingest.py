"""Ingest benchmark (issues 2 and 3).

Appends N pre-signed envelopes in batches and prints, from the same run:

* end-to-end statements/s through ``Ledger.submit_stream`` (parse, verify on
  ``--workers`` processes, custody checks, leaf + Merkle nodes + checkpoint,
  one transaction per batch, pipelined: the next batches are parsed and
  verified while the current one is appended); ``--mode submit`` calls
  ``Ledger.submit`` batch after batch instead;
* the rate over the first and over the last 10% of the batches (the cost of
  an append must not grow with the ledger);
* PyNaCl (libsodium) Ed25519 verifications/s on one core (measured before the
  first run and after every run; the ratio uses their mean);
* the rate of the same statements with custody state checks replaced by the
  signature check alone (the cost of the state machine);
* the median time for an inclusion proof at the final size;
* the storage per entry: bytes of every table and its indexes over the entries
  (PostgreSQL: ``pg_table_size`` and ``pg_indexes_size`` after ``VACUUM ANALYZE``;
  SQLite: the database file after a checkpoint of the WAL).

Each figure is the median of ``--repeat`` runs (default 3), the full and the
signatures-only runs alternated so that both see the same background load.

    .venv/bin/python bench/ingest.py --n 100000 [--mix origin|realistic] [--workers 2]
    .venv/bin/python bench/ingest.py --n 200000 --repeat 1   # first vs last 10%
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/ingest.py

For 10^7 entries and more, whose input does not fit in memory, ``bench/scale.py``
signs the same mix in batches on worker processes while the ledger appends;
``--n`` above :data:`STREAM_FROM` (or ``--stream``) runs it from here, once:

    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/ingest.py --n 10000000 [--home DIR]

The database starts empty (a temporary home; for PostgreSQL the tables are
dropped first). The pre-signed input is frozen out of the garbage collector
(``gc.freeze``) before the clock starts, and each batch is let go once
appended, as a client would: the input belongs to the benchmark, not to the
ledger, and at 10^5+ envelopes held to the end (each with the signed-bytes
cache the ledger fills in) collections scanning it would make appends look
slower as the run goes on.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest_mix import T0, Parties, origin_mix, progress, realistic_mix

from ledger import log as ledger_log
from ledger.custody import Changes, EntryRef, SigCheck, StateReader, check_signatures
from ledger.envelope import Envelope
from ledger.home import Home
from ledger.keys import PrivateKey, is_valid_signature
from ledger.log import Ledger
from ledger.sigcheck import ProcessVerifier
from ledger.store import Store, drop_all


def verify_rate(n: int = 20000) -> float:
    key = PrivateKey.generate()
    msgs = [os.urandom(300) for _ in range(n)]
    sigs = [key.sign(m) for m in msgs]
    start = time.perf_counter()
    for m, s in zip(msgs, sigs, strict=True):
        is_valid_signature(key.public_key, s, m)
    return n / (time.perf_counter() - start)


def signatures_only(state: StateReader, entry: EntryRef, sig_ok: SigCheck) -> Changes:
    check_signatures(state, entry, sig_ok)
    return Changes()


@dataclass
class Run:
    rate: float  # statements/s, whole run
    first: float  # statements/s over the first 10% of the batches
    last: float  # ... and over the last 10%
    cpu_first: float  # this process's CPU seconds a statement, first 10% (load-proof)
    cpu_last: float  # ... and last 10%


def run(
    home: Path,
    envs: list[Envelope],
    batch: int,
    workers: int,
    label: str,
    mode: str,
) -> Run:
    ledger = Home(home).open()
    verifier = ProcessVerifier(workers) if workers > 1 else None
    if verifier is not None:
        verifier.start()  # worker start-up is not part of the rate
        ledger.verifier = verifier
    queue = deque(envs[i : i + batch] for i in range(0, len(envs), batch))
    sizes = [len(b) for b in queue]
    total = len(envs)
    envs.clear()  # the queue holds the input now, and lets go of each batch it hands over

    def feed() -> Iterator[list[Envelope]]:
        # as a client would: once appended, a batch is gone (the envelopes the
        # ledger touched would otherwise pile up as live objects for the GC)
        while queue:
            yield queue.popleft()

    stream = (
        ledger.submit_stream(feed())
        if mode == "stream"
        else (ledger.submit(items) for items in feed())
    )
    gc.collect()
    gc.freeze()
    ends: list[float] = []
    cpus: list[float] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        for i, results in enumerate(stream):
            ends.append(time.perf_counter())
            cpus.append(time.process_time())
            bad = next((r for r in results if r.error is not None), None)
            if bad is not None:
                raise SystemExit(f"unexpected rejection: {bad.error}")
            progress(label, min((i + 1) * batch, total), total)
    finally:
        gc.unfreeze()
        if verifier is not None:
            verifier.close()
        ledger.store.close()
    tenth = max(1, len(sizes) // 10)
    first_n = sum(sizes[:tenth])
    last_n = sum(sizes[-tenth:])
    before_last = ends[-tenth - 1] if len(ends) > tenth else start
    cpu_before_last = cpus[-tenth - 1] if len(cpus) > tenth else cpu_start
    return Run(
        total / (ends[-1] - start),
        first_n / (ends[tenth - 1] - start),
        last_n / (ends[-1] - before_last),
        (cpus[tenth - 1] - cpu_start) / first_n,
        (cpus[-1] - cpu_before_last) / last_n,
    )


def fresh_home(tmp: Path, name: str) -> tuple[Home, Ledger]:
    if os.environ.get("CUSTODY_DB_URL"):
        drop_all(os.environ["CUSTODY_DB_URL"])
    home = Home(tmp / name)
    ledger, _ = home.init(origin="bench.custody/ledger", time=T0)
    return home, ledger


STREAM_FROM = 2_000_000
"""Above this many statements the input is signed while the ledger appends."""


def streamed(args: argparse.Namespace) -> None:
    """One streamed build by ``bench/scale.py`` (the input never all in memory)."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as tmp_s:
        home = args.home or Path(tmp_s) / "home"
        command = [
            sys.executable, str(Path(__file__).with_name("scale.py")), "--n", str(args.n),
            "--home", str(home), "--batch", str(args.batch), "--mix", args.mix,
            "--workers", str(args.workers), "--proofs", str(args.proofs),
        ]  # fmt: skip
        raise SystemExit(subprocess.run(command, check=False).returncode)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="statements to append")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--mix", choices=["origin", "realistic"], default="realistic")
    ap.add_argument("--workers", type=int, default=2, help="verification processes (1 = inline)")
    ap.add_argument(
        "--mode",
        choices=["stream", "submit"],
        default="stream",
        help="pipelined Ledger.submit_stream, or Ledger.submit batch after batch",
    )
    ap.add_argument("--proofs", type=int, default=2000, help="inclusion proofs to time")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each variant, alternated (median)"
    )
    ap.add_argument(
        "--no-compare",
        action="store_true",
        help="skip the signatures-only run (the cost of the custody checks)",
    )
    ap.add_argument(
        "--stream",
        action="store_true",
        help=f"sign while appending (bench/scale.py; the default above {STREAM_FROM:,})",
    )
    ap.add_argument("--home", type=Path, help="home folder of a --stream run (default: temporary)")
    args = ap.parse_args()
    if args.stream or args.n > STREAM_FROM:
        streamed(args)
        return

    backend = "postgresql" if os.environ.get("CUSTODY_DB_URL") else "sqlite"
    print(
        f"custody ingest benchmark: {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {backend}"
    )
    vrates = [verify_rate()]
    variants = [("full", True)] + ([] if args.no_compare else [("signatures only", False)])
    runs: dict[str, list[Run]] = {label: [] for label, _ in variants}
    size, median_ms = 0, 0.0
    storage: list[tuple[str, int, int]] = []
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        for r in range(args.repeat):
            for label, custody_checks in variants:  # alternated: both see the same noise
                home = tmp / f"{label.replace(' ', '-')}-{r}"
                runs[label].append(one_run(args, home, label, custody_checks))
                vrates.append(verify_rate())
                if custody_checks and r == 0:
                    size, median_ms = proof_times(home, args.proofs)
                    storage = storage_bytes(home)

    full = _median(runs["full"])
    vrate = statistics.mean(vrates)
    print(
        f"PyNaCl Ed25519 verify, one core:          {vrate:10,.0f} /s "
        f"(mean of {len(vrates)}: {min(vrates):,.0f} to {max(vrates):,.0f})"
    )
    print(
        f"mix: {args.mix}, {args.n:,} statements in batches of {args.batch}, "
        f"verification on {args.workers} process(es), {args.mode}; "
        f"median of {args.repeat} run(s)"
    )
    print(
        f"end-to-end ingest with custody checks:    {full.rate:10,.0f} statements/s "
        f"({_rates(runs['full'])})"
    )
    print(
        f"  first 10% / last 10% of the batches:    {full.first:10,.0f} / {full.last:,.0f} "
        f"statements/s ({full.last / full.first:.2f}x)"
    )
    print(
        f"  CPU of this process, first / last 10%:  {full.cpu_first * 1e6:10.0f} / "
        f"{full.cpu_last * 1e6:.0f} µs a statement ({full.cpu_last / full.cpu_first:.2f}x; "
        "verification workers not counted)"
    )
    if "signatures only" in runs:
        sig = _median(runs["signatures only"])
        print(
            f"end-to-end ingest, signature checks only: {sig.rate:10,.0f} statements/s "
            f"({_rates(runs['signatures only'])})"
        )
        print(f"custody checks cost:                      {1 - full.rate / sig.rate:10.1%}")
    print(
        f"ingest / one-core verify ratio:           {full.rate / vrate:10.2f}x "
        "(target 0.5x, stretch 1.0x)"
    )
    print(f"median inclusion proof at {size:,} entries: {median_ms:8.3f} ms (target < 5 ms)")
    table_bytes = sum(t for _, t, _ in storage)
    index_bytes = sum(i for _, _, i in storage)
    print(
        f"storage per entry at {size:,} entries:    {(table_bytes + index_bytes) / size:10,.0f} "
        f"bytes (tables {table_bytes / size:,.0f}, indexes {index_bytes / size:,.0f})"
    )
    for name, t, i in sorted(storage, key=lambda row: -(row[1] + row[2])):
        if t + i >= 0.01 * (table_bytes + index_bytes):
            print(f"  {name:<24} {t / size:8,.0f} + {i / size:,.0f} bytes an entry")


def one_run(args: argparse.Namespace, path: Path, label: str, custody_checks: bool) -> Run:
    """A fresh ledger, its parties, ``args.n`` signed statements, and the timed append."""
    home, ledger = fresh_home(path.parent, path.name)
    parties = Parties(ledger, home.operator_key(), {"farm": 60, "gin": 12, "spin": 6})
    ledger.store.close()
    gen = realistic_mix if args.mix == "realistic" else origin_mix
    envs: list[Envelope] = []
    for e in gen(parties, args.n):
        envs.append(e)
        if len(envs) % 10000 == 0:
            progress("signing", len(envs), args.n)
    envs = envs[: args.n]
    namespace = vars(ledger_log)  # swap the state machine for signatures alone
    original = namespace["apply"]
    if not custody_checks:
        namespace["apply"] = signatures_only
    try:
        return run(home.path, envs, args.batch, args.workers, f"append ({label})", args.mode)
    finally:
        namespace["apply"] = original


def proof_times(home: Path, proofs: int) -> tuple[int, float]:
    """The ledger size and the median time of ``proofs`` inclusion proofs across it, in ms."""
    led = Home(home).open(with_key=False)
    size = led.size()
    times = []
    for seq in range(0, size, max(1, size // proofs)):
        s = time.perf_counter()
        led.prove(seq)
        times.append(time.perf_counter() - s)
    led.store.close()
    return size, statistics.median(times) * 1000


def storage_bytes(home: Path) -> list[tuple[str, int, int]]:
    """:func:`table_sizes` after a WAL checkpoint (SQLite) or ``VACUUM ANALYZE``."""
    from sqlalchemy import text

    led = Home(home).open(with_key=False)
    store = led.store
    try:
        if store.is_sqlite:
            with store.engine.connect() as c:
                c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        return table_sizes(store)
    finally:
        store.close()


def table_sizes(store: Store) -> list[tuple[str, int, int]]:
    """(table, table bytes, index bytes) of the ledger's tables (SQLite: the whole file)."""
    from sqlalchemy import text

    with store.engine.connect() as c:
        if store.is_sqlite:
            pages = c.execute(text("PRAGMA page_count")).scalar_one()
            page = c.execute(text("PRAGMA page_size")).scalar_one()
            return [("(database file)", int(pages) * int(page), 0)]
        rows = c.execute(
            text(
                "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
            )
        ).all()
    return [(str(n), int(t), int(i)) for n, t, i in rows]


def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]


def _rates(runs: list[Run]) -> str:
    return ", ".join(f"{r.rate:,.0f}" for r in runs)


if __name__ == "__main__":
    main()
