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
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import Envelope, envelope_from_obj, sign_envelope
from ledger.home import DB_URL_ENV, Home
from ledger.keys import PrivateKey, is_valid_signature, kid_of
from ledger.sigcheck import ProcessVerifier
from ledger.statements import (
    Key,
    Party,
    encode_statement,
    format_time,
    parse_statement,
    statement_digest,
)
from ledger.store import Store, drop_all
from provenance.graph import collect
from provenance.verify import verify_lot

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MILLI = Decimal("0.001")
BATCH = 5000

# (pool, process, output material, yield)
TIERS: list[tuple[str, str | None, str, Decimal]] = [
    ("farm", None, "cotton.seed", Decimal(1)),
    ("gin", "cotton.ginning", "cotton.lint", Decimal("0.36")),
    ("spin", "yarn.spinning", "yarn.cotton", Decimal("0.86")),
    ("knit", "fabric.knitting", "fabric.cotton.greige", Decimal("0.96")),
    ("dye", "fabric.dyeing", "fabric.cotton", Decimal("0.90")),
    ("sew", "apparel.cut_and_sew", "apparel.tshirt", Decimal("0.80")),
]
POOLS = {"farm": 300, "gin": 30, "spin": 20, "knit": 20, "dye": 15, "sew": 15, "imp": 5, "lab": 2}
COUNTRIES: dict[str, list[tuple[str, str | None]]] = {
    "farm": [("US", "US-TX"), ("IN", "IN-GJ"), ("US", "US-GA"), ("AU", None)],
    "gin": [("US", "US-TX"), ("IN", "IN-GJ")],
    "spin": [("IN", "IN-TN"), ("VN", None)],
    "knit": [("VN", None), ("BD", None)],
    "dye": [("VN", None), ("BD", None)],
    "sew": [("VN", None), ("BD", None), ("KH", None)],
    "imp": [("US", None)],
    "lab": [("DE", None)],
}
TARGET_FANIN = (8, 2, 4, 4, 5)  # sew←dye, dye←knit, knit←spin, spin←gin, gin←farm
FILLER_FANIN = (2, 2, 2, 2, 3)


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@dataclass
class Generator:
    """Signs the statements of supply trees, in dependency order, one second apart."""

    rng: random.Random
    keys: dict[str, PrivateKey]
    sites: dict[str, tuple[str, str | None]]
    pending: list[Envelope] = field(default_factory=list)
    n: int = 0
    clock: datetime = T0

    def stmt(self, issuer: str, stype: str, /, **body: Any) -> str:
        self.n += 1
        self.clock += timedelta(seconds=1)
        doc = {
            "spec": "custody/1",
            "type": stype,
            "id": f"{stype}-{self.n}",
            "issuer": issuer,
            "time": format_time(self.clock),
            **body,
        }
        payload = encode_statement(doc)
        self.pending.append(sign_envelope(payload, [self.keys[issuer]]))
        return statement_digest(payload)

    def site(self, party: str) -> dict[str, str]:
        country, sub = self.sites[party]
        out = {"name": f"{party} site", "country": country}
        if sub:
            out["subdivision"] = sub
        return out

    def pick(self, pool: str, avoid: str | None = None) -> str:
        while True:
            party = f"{pool}-{self.rng.randrange(POOLS[pool]):04d}"
            if party != avoid:
                return party

    def lot(self, tier: int, fanin: tuple[int, ...], owner: str) -> tuple[str, Decimal]:
        """Create a lot at ``tier`` owned by ``owner``; return it and its mass (kg)."""
        _, process, material, ratio = TIERS[tier]
        lot_id = f"{owner}/{material}-{self.n + 1}"
        if process is None:
            kg = Decimal(self.rng.randrange(5000, 12000))
            self.stmt(
                owner,
                "origin",
                lot={"id": lot_id, "material": material, "quantity": kg, "unit": "kg"},
                site=self.site(owner),
            )
            return lot_id, kg
        inputs: list[dict[str, Any]] = []
        total = Decimal(0)
        for _ in range(fanin[len(fanin) - tier]):
            supplier = self.pick(TIERS[tier - 1][0])
            src, kg = self.lot(tier - 1, fanin, supplier)
            main = (kg * Decimal(self.rng.choice(("0.7", "0.75", "0.8", "0.85")))).quantize(MILLI)
            d = self.stmt(supplier, "dispatch", lot=src, quantity=main, unit="kg", to=owner)
            self.stmt(owner, "receipt", dispatch=d, quantity=main, unit="kg")
            self.sibling(tier, src, kg - main, supplier, owner)
            inputs.append({"lot": src, "quantity": main, "unit": "kg"})
            total += main
        out_kg = (total * ratio).quantize(MILLI)
        output: dict[str, Any] = {"id": lot_id, "material": material}
        if material == "apparel.tshirt":
            output.update(quantity=int(out_kg / Decimal("0.18")), unit="pcs", mass_kg=out_kg)
        else:
            output.update(quantity=out_kg, unit="kg")
        assert process is not None
        self.stmt(
            owner,
            "transform",
            process=process,
            inputs=inputs,
            outputs=[output],
            site=self.site(owner),
        )
        if tier == 1 and self.rng.random() < 0.1:
            self.stmt(
                self.pick("lab"),
                "evidence",
                lots=[lot_id],
                kind="isotope_test",
                document={
                    "sha256": f"{self.n:064x}",
                    "name": f"isotope-{self.n}.pdf",
                    "media_type": "application/pdf",
                    "size": 1000,
                },
            )
        return lot_id, out_kg

    def sibling(self, tier: int, lot: str, kg: Decimal, supplier: str, owner: str) -> None:
        """The rest of a lot goes to another buyer, who transforms it (off the target's path)."""
        buyer = self.pick(TIERS[tier][0], avoid=owner)
        d = self.stmt(supplier, "dispatch", lot=lot, quantity=kg, unit="kg", to=buyer)
        self.stmt(buyer, "receipt", dispatch=d, quantity=kg, unit="kg")
        _, process, material, ratio = TIERS[tier]
        assert process is not None
        out_kg = (kg * ratio).quantize(MILLI)
        self.stmt(
            buyer,
            "transform",
            process=process,
            inputs=[{"lot": lot, "quantity": kg, "unit": "kg"}],
            outputs=[
                {
                    "id": f"{buyer}/{material}-{self.n + 1}",
                    "material": material,
                    "quantity": out_kg
                    if material != "apparel.tshirt"
                    else int(out_kg / Decimal("0.18")),
                    "unit": "kg" if material != "apparel.tshirt" else "pcs",
                    **({"mass_kg": out_kg} if material == "apparel.tshirt" else {}),
                }
            ],
            site=self.site(buyer),
        )

    def good(self, fanin: tuple[int, ...], entry: int) -> str:
        """A finished good: the T-shirt tree, dispatched to an importer and imported."""
        sewer = self.pick("sew")
        tee, kg = self.lot(len(TIERS) - 1, fanin, sewer)
        pcs = int(kg / Decimal("0.18"))
        importer = self.pick("imp")
        d = self.stmt(sewer, "dispatch", lot=tee, quantity=pcs, unit="pcs", to=importer)
        self.stmt(importer, "receipt", dispatch=d, quantity=pcs, unit="pcs")
        self.stmt(
            importer,
            "import",
            lot=tee,
            quantity=pcs,
            unit="pcs",
            entry_number=f"BNC-{entry:07d}-1",
        )
        return tee


class Bench:
    def __init__(self, home: Path, seed: int) -> None:
        self.home = Home(home)
        self.ledger, _ = self.home.init(origin="custody.bench/ledger", time=T0)
        self.ledger.verifier = lambda items: [True] * len(items)  # generator's own signatures
        operator = self.home.operator_key()
        rng = random.Random(seed)
        self.gen = Generator(rng, {"operator": operator}, {})
        self.size = 1
        self.entries = 0
        self._register(operator)

    def _register(self, operator: PrivateKey) -> None:
        for pool, count in POOLS.items():
            for i in range(count):
                pid = f"{pool}-{i:04d}"
                key = PrivateKey.generate()
                self.gen.keys[pid] = key
                self.gen.sites[pid] = self.gen.rng.choice(COUNTRIES[pool])
                country, sub = self.gen.sites[pid]
                info: dict[str, Any] = {
                    "id": pid,
                    "name": f"{pool.title()} {i} Company",
                    "country": country,
                    "roles": ["lab"] if pool == "lab" else ["supplier"],
                }
                if pool == "imp":
                    info["roles"] = ["importer"]
                if sub:
                    info["subdivision"] = sub
                self.gen.stmt("operator", "party", party=info, keys=[key.public_key_b64])
        self.flush()

    def flush(self) -> None:
        pending, self.gen.pending = self.gen.pending, []
        for i in range(0, len(pending), BATCH):
            results = self.ledger.submit(pending[i : i + BATCH])
            bad = [r for r in results if r.error is not None]
            if bad:
                raise SystemExit(f"generator statement rejected: {bad[0].error}")
            self.size += len(results)

    def fill(self, target_size: int, label: str) -> None:
        start = time.perf_counter()
        while self.size < target_size:
            self.entries += 1
            self.gen.good(FILLER_FANIN, self.entries)
            if len(self.gen.pending) >= BATCH:
                self.flush()
                rate = (self.size) / max(time.perf_counter() - start, 1e-9)
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r{label}: {self.size}/{target_size} ({rate:,.0f}/s)")
        self.flush()
        if sys.stderr.isatty():
            sys.stderr.write("\n")

    def target(self) -> str:
        self.entries += 1
        tee = self.gen.good(TARGET_FANIN, self.entries)
        self.flush()
        return tee


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
    store: Store, size: int, subject: str, repeat: int, pool: ProcessVerifier | None
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
    }
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
        results.append(measure(ledger.store, ledger.size(), state["subject"], args.repeat, pool))
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
        results.append(measure(store, bench.size, subject, args.repeat, pool))
        if args.grow_to > bench.size:
            started = time.perf_counter()
            bench.fill(args.grow_to, "growing")
            log(f"grew to {bench.size} statements in {time.perf_counter() - started:.0f} s")
            results.append(measure(store, bench.size, subject, args.repeat, pool))
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
            f"({r['signatures']:,} on one core)"
        )
        print(f"  verify / signatures      {r['ratio_verify_to_signatures']:8.2f} x")
        if "workers" in r:
            print(
                f"  verify, {r['workers']} processes     {r['verify_parallel_s'] * 1000:8.1f} ms "
                f"({r['ratio_parallel_to_signatures']:.2f} x the one-core signatures)"
            )
        print(f"  peak Python memory       {r['peak_python_mb']:8.1f} MB (verify + graph)")
        print(f"  process max RSS          {r['max_rss_mb']:8.1f} MB")


if __name__ == "__main__":
    main()
