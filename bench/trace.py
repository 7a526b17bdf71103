"""Trace and verify benchmark (issue 4; SPEC §6).

Generates a realistic ledger of about N statements: many finished goods
(cotton T-shirts), each a supply tree of 6 tiers plus the import (farm
origin → ginning → spinning → knitting → dyeing → cut-and-sew → importer),
with fan-in at every tier, partial dispatches (each lot is split between
the buyer on the chain and another buyer, who receives and transforms its
part: double-spending by siblings would be visible) and some lab evidence.
One *target* good is built with enough fan-in to have about 10,000 upstream
statements; it sits in the middle of the ledger, among filler goods. The
run prints, for the target:

* trace: :func:`provenance.graph.collect` (the recursive query and the reads);
* verify: :func:`provenance.verify.verify_lot` end to end (collect + parse +
  replay with every signature + rules + composition + graph), its split,
  and its peak Python memory (tracemalloc, in a separate run) and the
  process's peak RSS;
* the time to verify just the trace's signatures on one core (libsodium via
  PyNaCl, the same calls), and the ratio verify / signatures;

then, with ``--grow-to M``, appends filler goods up to M statements and
measures the same target again: the trace's time should not grow with the
ledger.

Generation is fast: statements are signed up front and appended through
:meth:`ledger.log.Ledger.submit` in batches of 5,000; the ledger is given a
trusting pre-verifier for the generator's own fresh signatures (the custody
state machine still judges every statement; the verification measured here
checks every signature for real).

    .venv/bin/python bench/trace.py                       # small: 20,000 statements
    .venv/bin/python bench/trace.py --n 100000
    .venv/bin/python bench/trace.py --n 100000 --grow-to 1000000   # 10^5 then 10^6
    .venv/bin/python bench/trace.py --measure HOME   # measure a generated ledger again
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/trace.py --n 100000

The 10^6 ledger takes several minutes to generate and about 2 GB of disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trace_chain import Bench, log

from ledger.envelope import envelope_from_obj
from ledger.home import DB_URL_ENV, Home
from ledger.keys import is_valid_signature, kid_of
from ledger.sigcheck import ProcessVerifier
from ledger.statements import (
    Key,
    Party,
    parse_statement,
)
from ledger.store import Store, drop_all
from provenance.graph import collect
from provenance.verify import verify_lot


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall time, its CPU time, result) over ``repeat`` runs after a warm-up."""
    fn()  # warm-up (OS page cache, key cache)
    best = (float("inf"), 0.0)
    result: Any = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = (time.perf_counter() - wall, time.process_time() - cpu)
        best = min(best, elapsed)
    return best[0], best[1], result


def signature_triples(leaves: list[bytes]) -> list[tuple[bytes, bytes, bytes]]:
    """(public key, signature, PAE) of every signature of the given leaves."""
    keys: dict[str, bytes] = {}
    envelopes = []
    for leaf in leaves:
        env = envelope_from_obj(json.loads(leaf)["envelope"])
        envelopes.append(env)
        st = parse_statement(env.payload)
        if isinstance(st, Party):
            for pk in st.public_keys:
                keys[kid_of(pk)] = pk
        elif isinstance(st, Key):
            keys[kid_of(st.public_key_bytes)] = st.public_key_bytes
    return [(keys[s.keyid], s.sig, env.pae) for env in envelopes for s in env.signatures]


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [is_valid_signature(pk, sig, msg) for pk, sig, msg in items]


def measure(
    store: Store,
    size: int,
    subject: str,
    repeat: int,
    pool: ProcessVerifier | None,
    paired: int = 0,
) -> dict[str, Any]:

    def do_collect() -> Any:
        with store.read() as r:
            return collect(r, subject)

    t_collect, _, collected = _timed(do_collect, repeat)
    t_verify, cpu_verify, report = _timed(lambda: verify_lot(store, subject), repeat)

    def graph_only() -> Any:
        fresh = verify_lot(store, subject)
        start = time.perf_counter()
        graph = fresh.graph
        graph_times.append(time.perf_counter() - start)
        return graph

    graph_times: list[float] = []
    _, _, graph = _timed(graph_only, repeat)
    t_graph = min(graph_times)
    triples = signature_triples([e.leaf for e in collected.entries])
    t_sigs, cpu_sigs, ok = _timed(lambda: sum(_verify_chunk(triples)), repeat)
    out: dict[str, Any] = {
        "ledger_size": size,
        "subject": subject,
        "trace_statements": len(collected.entries),
        "traced_lots": len(collected.lots),
        "signatures": len(triples),
        "signatures_ok": ok,
        "verdict": report.verdict,
        "findings": len(report.findings),
        "graph_nodes": graph.number_of_nodes(),
        "trace_s": round(t_collect, 4),
        "verify_s": round(t_verify, 4),
        "verify_cpu_s": round(cpu_verify, 4),
        "graph_s": round(t_graph, 4),
        "signatures_only_s": round(t_sigs, 4),
        "signatures_only_cpu_s": round(cpu_sigs, 4),
        "ratio_verify_to_signatures": round(t_verify / t_sigs, 2),
        "ratio_verify_cpu_to_signatures_cpu": round(cpu_verify / cpu_sigs, 2),
    }
    if paired:  # each verify right before a one-core signature run: load moves both alike
        ratios = []
        for _ in range(paired):
            start = time.perf_counter()
            kept = verify_lot(store, subject)  # freed after the pair, as the best run above
            mid = time.perf_counter()
            _verify_chunk(triples)
            ratios.append((mid - start) / (time.perf_counter() - mid))
            del kept
        out["ratio_paired_median"] = round(statistics.median(ratios), 3)
    if pool is not None:
        t_par, _, _ = _timed(lambda: verify_lot(store, subject, verifier=pool), repeat)
        out["workers"] = pool.workers
        out["verify_parallel_s"] = round(t_par, 4)
        out["ratio_parallel_to_signatures"] = round(t_par / t_sigs, 2)
    tracemalloc.start()
    verify_lot(store, subject).graph  # noqa: B018 (the graph too)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["peak_python_mb"] = round(peak / 2**20, 1)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=20000, help="ledger size for the first measure")
    p.add_argument("--grow-to", type=int, default=0, help="grow the ledger and measure again")
    p.add_argument("--home", type=Path, default=None, help="home folder (default: a temp dir)")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per figure (best)")
    p.add_argument("--workers", type=int, default=2, help="also verify with N processes (0: no)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--paired",
        type=int,
        default=0,
        metavar="N",
        help="also the median of N verify / signatures ratios, each pair run back to back",
    )
    p.add_argument(
        "--measure",
        type=Path,
        default=None,
        metavar="HOME",
        help="measure again a ledger generated before (HOME holds bench.json)",
    )
    args = p.parse_args(argv)
    pool = ProcessVerifier(args.workers) if args.workers > 1 else None
    if pool is not None:
        pool.start()
    results: list[dict[str, Any]] = []
    if args.measure is not None:
        state = json.loads((args.measure / "bench.json").read_text(encoding="utf-8"))
        ledger = Home(args.measure).open(with_key=False)
        subject = state["subject"]
        results.append(
            measure(ledger.store, ledger.size(), subject, args.repeat, pool, args.paired)
        )
    else:
        home = args.home or Path(tempfile.mkdtemp(prefix="custody-bench-")) / "home"
        if os.environ.get(DB_URL_ENV):
            drop_all(os.environ[DB_URL_ENV])
        started = time.perf_counter()
        bench = Bench(home, args.seed)
        bench.fill(args.n // 2, "filler")
        subject = bench.target()
        bench.fill(args.n, "filler")
        (home / "bench.json").write_text(json.dumps({"subject": subject}), encoding="utf-8")
        log(f"generated {bench.size} statements in {time.perf_counter() - started:.0f} s ({home})")
        store = bench.ledger.store
        results.append(measure(store, bench.size, subject, args.repeat, pool, args.paired))
        if args.grow_to > bench.size:
            started = time.perf_counter()
            bench.fill(args.grow_to, "growing")
            log(f"grew to {bench.size} statements in {time.perf_counter() - started:.0f} s")
            results.append(measure(store, bench.size, subject, args.repeat, pool, args.paired))
    if pool is not None:
        pool.close()
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs"
    )
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return
    db = "PostgreSQL" if os.environ.get(DB_URL_ENV) else "SQLite"
    print(f"trace + verify benchmark ({machine}, {db}; best of {args.repeat})")
    for r in results:
        print(
            f"ledger {r['ledger_size']:>9,} statements | trace of {r['subject']}: "
            f"{r['trace_statements']:,} statements, {r['traced_lots']:,} lots, "
            f"verdict {r['verdict']}"
        )
        print(f"  trace (collect)          {r['trace_s'] * 1000:8.1f} ms")
        print(
            f"  verify (verify_lot)      {r['verify_s'] * 1000:8.1f} ms "
            f"(CPU {r['verify_cpu_s'] * 1000:.0f} ms; includes the collect)"
        )
        print(f"  graph for custody trace  {r['graph_s'] * 1000:8.1f} ms (built on demand)")
        print(
            f"  signatures only          {r['signatures_only_s'] * 1000:8.1f} ms "
            f"(CPU {r['signatures_only_cpu_s'] * 1000:.0f} ms; {r['signatures']:,} on one core)"
        )
        print(
            f"  verify / signatures      {r['ratio_verify_to_signatures']:8.2f} x "
            f"(CPU of this process {r['ratio_verify_cpu_to_signatures_cpu']:.2f} x)"
        )
        if "ratio_paired_median" in r:
            print(f"  the same, paired median  {r['ratio_paired_median']:8.3f} x")
        if "workers" in r:
            print(
                f"  verify, {r['workers']} processes     {r['verify_parallel_s'] * 1000:8.1f} ms "
                f"({r['ratio_parallel_to_signatures']:.2f} x the one-core signatures)"
            )
        print(f"  peak Python memory       {r['peak_python_mb']:8.1f} MB (verify + graph)")
        print(f"  process max RSS          {r['max_rss_mb']:8.1f} MB")


if __name__ == "__main__":
    main()
