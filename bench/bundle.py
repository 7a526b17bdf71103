"""Evidence bundle benchmark (issue 5; SPEC §7): export and offline verification.

Builds the ledger of ``bench/trace.py`` (its generator: T-shirt supply trees
of six tiers with fan-in and partial dispatches to sibling buyers, among
filler goods) with one *target* finished good of about 10,000 upstream
statements, then measures, for that good:

* export: :func:`provenance.bundle.export_bundle` end to end (one read
  transaction for the checkpoint, the trace and every inclusion proof; the
  rules; ``report.json`` and ``report.html``; the zip);
* verify: :func:`provenance.bundle.verify_bundle` in this process (open the
  zip safely, checkpoint signature, every leaf hash and inclusion proof, every
  envelope signature, the custody replay and every rule, the comparison of
  ``report.*``), and ``custody bundle verify --json`` in a fresh process
  (interpreter start-up and imports included).

Targets (issue 5): verify under 3 s, export under 5 s.

    .venv/bin/python bench/bundle.py                 # a 20,000-statement ledger
    .venv/bin/python bench/bundle.py --n 100000

The generator's lab evidence cites documents that exist nowhere (made-up
hashes), so the bundle lists them as missing and its verification flags them
(INTEGRITY): the verdict is ``fail`` for that reason, which costs nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provenance.bundle import export_bundle, verify_bundle  # noqa: E402


def _trace_bench() -> ModuleType:
    """``bench/trace.py`` (its generator), loaded by path: ``bench`` is not a package."""
    spec = importlib.util.spec_from_file_location(
        "custody_bench_trace", ROOT / "bench" / "trace.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("bench/trace.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall-clock and CPU seconds of ``repeat`` runs after a warm-up, and a result.

    CPU time (this process only) is the steadier figure on a shared machine.
    """
    fn()  # warm-up (page cache, imports, caches)
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=20000, help="ledger size (statements)")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median)")
    p.add_argument("--keep", action="store_true", help="keep the temporary home and bundle")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args(argv)
    tb = _trace_bench()
    work = Path(tempfile.mkdtemp(prefix="custody-bundle-bench-"))
    try:
        started = time.perf_counter()
        bench = tb.Bench(work / "home", args.seed)
        bench.fill(args.n // 2, "filler")
        subject = bench.target()
        bench.fill(args.n, "filler")
        tb.log(f"generated {bench.size} statements in {time.perf_counter() - started:.0f} s")
        ledger = bench.ledger
        key = ledger.verifier_key()
        out = work / "bundle.zip"
        first = export_bundle(ledger, subject, out, documents_dir=bench.home.documents)
        entry = first.report.import_entries[0] if first.report.import_entries else None

        def export() -> Any:
            return export_bundle(
                ledger, subject, out, entry_number=entry, documents_dir=bench.home.documents
            )

        t_export, c_export, summary = _timed(export, args.repeat)
        t_verify, c_verify, result = _timed(
            lambda: verify_bundle(out, operator_key=key), args.repeat
        )
        custody = shutil.which("custody", path=str(Path(sys.executable).parent)) or "custody"

        def fresh() -> int:
            proc = subprocess.run(
                [custody, "bundle", "verify", str(out), "--operator-key", key, "--json"],
                capture_output=True,
                check=False,
                cwd=work,
            )
            json.loads(proc.stdout)
            return proc.returncode

        t_fresh, _, code = _timed(fresh, args.repeat)
        with zipfile.ZipFile(out) as zf:
            html = zf.getinfo("report.html").file_size
        integrity = [f for f in result.findings if f.rule == "INTEGRITY"]
        figures = {
            "ledger_size": bench.size,
            "subject": subject,
            "entry_number": entry,
            "bundle_statements": summary.entries,
            "bundle_bytes": out.stat().st_size,
            "report_html_bytes": html,
            "missing_documents": len(summary.missing_documents),
            "verdict_at_export": summary.verdict,
            "verdict_offline": result.verdict,
            "integrity_findings": len(integrity),
            "export_s": round(t_export, 3),
            "export_cpu_s": round(c_export, 3),
            "verify_s": round(t_verify, 3),
            "verify_cpu_s": round(c_verify, 3),
            "verify_fresh_process_s": round(t_fresh, 3),
            "cli_exit": code,
        }
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    if args.json:
        print(json.dumps({"machine": machine, "results": figures}, indent=2))
        return
    f = figures
    print(f"bundle benchmark ({machine}, SQLite)")
    print(
        f"ledger {f['ledger_size']:,} statements | bundle of {f['subject']} "
        f"(entry {f['entry_number']}): {f['bundle_statements']:,} statements, "
        f"{f['bundle_bytes'] / 2**20:.1f} MB zip, "
        f"report.html {f['report_html_bytes'] / 2**20:.1f} MB\n"
        f"  export                       {f['export_s']:7.2f} s   "
        f"(CPU {f['export_cpu_s']:.2f} s; target < 5 s)\n"
        f"  verify (in process)          {f['verify_s']:7.2f} s   "
        f"(CPU {f['verify_cpu_s']:.2f} s; target < 3 s)\n"
        f"  verify (fresh custody CLI)   {f['verify_fresh_process_s']:7.2f} s\n"
        f"  verdict at export {f['verdict_at_export']}, offline {f['verdict_offline']} "
        f"({f['integrity_findings']} INTEGRITY findings; {f['missing_documents']} documents "
        "cited by the generator exist nowhere)"
    )
    if args.keep:
        print(f"kept {work}")


if __name__ == "__main__":
    main()
