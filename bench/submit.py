"""``custody submit`` benchmark (issue 12): a whole CLI process against one-core verification.

Builds a fresh ledger, registers the parties of ``bench/ingest_mix.py`` and writes
N pre-signed envelopes of its mix as JSON lines; then, in one run:

* the PyNaCl (libsodium) Ed25519 verification rate, on this core, of the
  signatures of those same envelopes (median of ``--verify-repeat`` passes,
  measured before and after the submit, the ratio uses their mean);
* the wall-clock time of a whole ``custody submit FILE`` process (interpreter
  start, imports, reading, parsing, verifying, appending, summary), and its
  envelopes/s over the verification rate.

    .venv/bin/python bench/submit.py --n 100000
    .venv/bin/python bench/submit.py --n 100000 \\
        --db-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_submit

Targets: >= 0.8x on SQLite (stretch 1.2x), >= 0.6x on PostgreSQL. With
``--db-url`` the tables of that database are dropped first.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ingest_mix import T0, Parties, origin_mix, progress, realistic_mix
from nacl.signing import VerifyKey

from ledger.envelope import Envelope
from ledger.home import DB_URL_ENV, Home
from ledger.statements import parse_statement
from ledger.store import drop_all

CUSTODY = Path(sys.executable).with_name("custody")
COUNTS = {"farm": 60, "gin": 12, "spin": 12}


def nacl_rate(envs: list[Envelope], keys: dict[str, bytes]) -> float:
    """Ed25519 verifications/s through PyNaCl on one core, of every signature of ``envs``."""
    verifiers = {pid: VerifyKey(pk) for pid, pk in keys.items()}
    triples = []
    for e in envs:
        issuer = parse_statement(e.payload).issuer
        triples += [(verifiers[issuer], e.pae, s.sig) for s in e.signatures]
    start = time.perf_counter()
    for vk, msg, sig in triples:
        vk.verify(msg, sig)
    return len(triples) / (time.perf_counter() - start)


class _CpuWatch:
    """CPU time (user + system) of a process and its descendants, sampled from /proc
    (a process's last sample before it ends is what counts; Linux only)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _tree(self, pid: int) -> list[int]:
        out = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    for child in f.read().split():
                        out += self._tree(int(child))
        except OSError:
            pass
        return out

    def sample(self) -> None:
        for pid in self._tree(self.pid):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = (int(fields[11]) + int(fields[12])) / self.tick
            self.seen[pid] = max(self.seen.get(pid, 0.0), used)

    def totals(self) -> tuple[float, float, int]:
        """CPU of the main process, of all, and how many processes were seen."""
        return self.seen.get(self.pid, 0.0), sum(self.seen.values()), len(self.seen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="pre-signed envelopes to submit")
    ap.add_argument("--mix", choices=["origin", "realistic"], default="realistic")
    ap.add_argument("--db-url", help="a PostgreSQL URL (its custody tables are dropped first)")
    ap.add_argument("--verify-repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="print and keep the temporary folder")
    args = ap.parse_args()
    if args.db_url:
        os.environ[DB_URL_ENV] = args.db_url
        drop_all(args.db_url)
    backend = "postgresql" if args.db_url else "sqlite"
    print(
        f"custody submit benchmark: {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {backend}"
    )
    tmp_dir = tempfile.mkdtemp(prefix="custody-bench-submit-")
    tmp = Path(tmp_dir)
    home = Home(tmp / "home")
    ledger, _ = home.init(origin="bench.custody/ledger", time=T0)
    parties = Parties(ledger, home.operator_key(), COUNTS)
    size0 = ledger.size()
    mix = realistic_mix if args.mix == "realistic" else origin_mix
    envs: list[Envelope] = []
    path = tmp / "envelopes.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for e in mix(parties, args.n):
            if len(envs) == args.n:
                break
            envs.append(e)
            f.write(e.to_json() + "\n")
            if len(envs) % 1000 == 0:
                progress("signing", len(envs), args.n)
    keys = {pid: k.public_key for pid, k in parties.keys.items()}
    rates = [nacl_rate(envs, keys) for _ in range(args.verify_repeat)]
    env = dict(os.environ, CUSTODY_HOME=str(home.path))
    load = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(CUSTODY), "submit", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    cpu = _CpuWatch(proc.pid)
    while proc.poll() is None:
        cpu.sample()
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read() if proc.stderr is not None else ""
    load_after = os.getloadavg()
    rates += [nacl_rate(envs, keys) for _ in range(args.verify_repeat)]
    if proc.returncode != 0:
        raise SystemExit(f"custody submit failed ({proc.returncode}): {stderr[-2000:]}")
    appended = ledger.size() - size0
    if appended != args.n:
        raise SystemExit(f"{appended} appended, expected {args.n}")
    vrate = statistics.mean(rates)
    rate = args.n / elapsed
    print(
        f"PyNaCl Ed25519 verify of the same signatures, one core: {vrate:10,.0f} /s "
        f"(mean of {len(rates)}: {min(rates):,.0f} to {max(rates):,.0f})"
    )
    print(
        f"custody submit of {args.n:,} envelopes ({args.mix} mix, {path.stat().st_size:,} bytes), "
        f"whole process: {elapsed:.2f} s = {rate:,.0f} envelopes/s"
    )
    target = "0.6x" if args.db_url else "0.8x, stretch 1.2x"
    print(f"submit / one-core verify ratio: {rate / vrate:.2f}x (target {target})")
    main_cpu, all_cpu, procs = cpu.totals()
    print(
        f"CPU of the submit: {main_cpu:.2f} s on its main process, {all_cpu:.2f} s with its "
        f"{procs - 1} helper processes = {all_cpu / args.n * 1e6:.0f} us an envelope "
        f"(main {main_cpu / args.n * 1e6:.0f} us)"
    )
    print(
        f"load average (1 min) {load[0]:.1f} before the submit, {load_after[0]:.1f} after "
        f"({os.cpu_count()} cores)"
    )
    print(f"summary line: {stderr.strip().splitlines()[-1]}")
    ledger.store.close()
    if args.keep:
        print(f"kept {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
