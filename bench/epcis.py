"""``custody epcis import`` benchmark (issue 14): import rate against ``custody submit``.

Writes an EPCIS 2.0 document of N commissioning ObjectEvents of one party
(each a distinct LGTIN lot, an ``eventID``, a quantity in KGM, the party's SGLN
as ``bizLocation``), and N pre-signed envelopes of the same ``origin``
statements as JSON lines; then times two whole CLI processes, each on a fresh
SQLite ledger with the same party registered:

* ``custody epcis import DOC --key K`` (read twice, map, sign, append), and
* ``custody submit FILE`` of the pre-signed envelopes,

and prints both rates and their ratio (target: import >= 0.5x submit), with the
CPU time of each process (its worker processes included) and the load average.

    .venv/bin/python bench/epcis.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ledger.envelope import sign_envelope
from ledger.keys import load_private_key
from ledger.statements import build_statement

CUSTODY = Path(sys.executable).with_name("custody")
GLN = "0614141000005"  # urn:epc:id:sgln:0614141.00000.0


CPU: dict[str, float] = {}  # CPU seconds (user + system) of the last process, its workers included


def _run(home: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = dict(os.environ, CUSTODY_HOME=str(home))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(CUSTODY), *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"custody {args[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc


def _home(tmp: Path, name: str) -> Path:
    home = tmp / name
    _run(home, "init", "--origin", "bench.custody/epcis")
    if not (tmp / "farm.key").exists():
        _run(home, "keys", "generate", "--out", str(tmp / "farm"))
    _run(
        home, "party", "register", "--id", "farm", "--name", "Bench Farm", "--country", "US",
        "--subdivision", "US-TX", "--role", "supplier", "--public-key", str(tmp / "farm.pub"),
        "--gln", GLN,
    )  # fmt: skip
    return home


def _events(n: int) -> list[dict[str, object]]:
    return [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{i:012x}",
            "eventTime": "2026-03-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "quantityList": [
                {
                    "epcClass": f"urn:epc:class:lgtin:0614141.012345.B{i}",
                    "quantity": 100 + i % 900,
                    "uom": "KGM",
                }
            ],
            "action": "ADD",
            "bizStep": "commissioning",
            "bizLocation": {"id": "urn:epc:id:sgln:0614141.00000.0"},
        }
        for i in range(n)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="events (and envelopes)")
    ap.add_argument("--keep", action="store_true", help="print and keep the temporary folder")
    args = ap.parse_args()
    print(
        f"custody epcis import benchmark: {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, sqlite, n={args.n:,}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="custody-bench-epcis-"))
    events = _events(args.n)
    doc = tmp / "events.jsonld"
    doc.write_text(
        json.dumps(
            {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-03-01T09:00:00Z",
                "epcisBody": {"eventList": events},
            }
        ),
        encoding="utf-8",
    )
    import_home = _home(tmp, "import-home")
    submit_home = _home(tmp, "submit-home")
    key = load_private_key(tmp / "farm.key")
    envelopes = tmp / "origins.jsonl"
    with envelopes.open("w", encoding="utf-8") as f:
        for event in events:
            element = event["quantityList"][0]  # type: ignore[index]
            payload = build_statement(
                "origin",
                str(event["eventID"]),
                "farm",
                "2026-03-01T08:00:00Z",
                lot={
                    "id": element["epcClass"],
                    "material": "gtin.00614141123452",
                    "quantity": Decimal(element["quantity"]),
                    "unit": "kg",
                },
                site={"name": "Bench Farm", "country": "US", "subdivision": "US-TX"},
            )
            f.write(sign_envelope(payload, [key]).to_json() + "\n")
    print(f"load before: {os.getloadavg()[0]:.1f}")
    imported, proc = _run(import_home, "epcis", "import", str(doc), "--key", str(tmp / "farm.key"))
    import_cpu = CPU["last"]
    summary_import = proc.stderr.strip().splitlines()[-1]
    print(f"load between: {os.getloadavg()[0]:.1f}")
    submitted, proc = _run(submit_home, "submit", str(envelopes))
    submit_cpu = CPU["last"]
    summary_submit = proc.stderr.strip().splitlines()[-1]
    print(f"load after: {os.getloadavg()[0]:.1f}")
    import_rate = args.n / imported
    submit_rate = args.n / submitted
    print(
        f"custody epcis import of {args.n:,} events ({doc.stat().st_size:,} bytes): "
        f"{imported:.2f} s = {import_rate:,.0f} events/s  [{summary_import}]"
    )
    print(
        f"custody submit of {args.n:,} pre-signed envelopes ({envelopes.stat().st_size:,} bytes):"
        f" {submitted:.2f} s = {submit_rate:,.0f} envelopes/s  [{summary_submit}]"
    )
    print(f"import / submit ratio: {import_rate / submit_rate:.2f}x (target >= 0.5x)")
    print(
        f"CPU time (user + system, worker processes included): import {import_cpu:.1f} s, "
        f"submit {submit_cpu:.1f} s; per-CPU-second ratio {submit_cpu / import_cpu:.2f}x"
    )
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
