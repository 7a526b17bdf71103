"""Parsing benchmark (issue 12): the per-envelope CPU cost of the strict readers.

Signs N envelopes of ``bench/ingest_mix.py``'s realistic mix and times, in
CPU time of this process (best of ``--repeat`` passes, so background load on
other cores matters little), each reader on the ingest and verification paths:

* ``parse_envelope``: one JSON line of ``custody submit`` to an envelope;
* ``strictjson.loads``: the JSON step of it alone;
* ``parse_statement``: the payload to a statement (by type, and overall), and the
  same through its full strict path alone (what any payload not in the encoders'
  form takes: strict JSON, then the per-field validators);
* ``decode_leaf``: stored leaf bytes to a leaf (what verification reads).

    .venv/bin/python bench/parse.py --n 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest_mix import T0, Parties, realistic_mix

from ledger import strictjson
from ledger.envelope import parse_envelope
from ledger.home import Home
from ledger.leaf import LEAF_TEMPLATE, decode_leaf, envelope_json
from ledger.statements import parse_statement
from ledger.statements.decode import parse_statement_strict


def cpu_us(fn: Callable[[Any], object], items: Sequence[Any], repeat: int) -> float:
    """Best CPU time of one call, in µs, over ``repeat`` passes over ``items``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home")
        ledger, _ = home.init(origin="bench.custody/ledger", time=T0)
        parties = Parties(ledger, home.operator_key(), {"farm": 60, "gin": 12, "spin": 12})
        envs = [e for _, e in zip(range(args.n), realistic_mix(parties, args.n), strict=False)]
        ledger.store.close()
    lines = [e.to_json() for e in envs]
    received = b"2026-01-01T00:00:00.000000Z"
    leaves = [
        LEAF_TEMPLATE % (envelope_json(e), b"0" * 64, received, i) for i, e in enumerate(envs)
    ]
    payloads = [e.payload for e in envs]
    by_type: dict[str, list[bytes]] = defaultdict(list)
    for p in payloads:
        by_type[parse_statement(p).type].append(p)
    rows = [
        ("parse_envelope (a JSON line)", cpu_us(parse_envelope, lines, args.repeat)),
        ("  strictjson.loads of it", cpu_us(strictjson.loads, lines, args.repeat)),
        ("parse_statement, the mix", cpu_us(parse_statement, payloads, args.repeat)),
    ]
    for kind, items in sorted(by_type.items()):
        rows.append((f"  {kind} ({len(items)})", cpu_us(parse_statement, items, args.repeat)))
    full = cpu_us(parse_statement_strict, payloads, args.repeat)
    rows.append(("  the mix, full path alone", full))
    rows.append(("decode_leaf (stored leaf bytes)", cpu_us(decode_leaf, leaves, args.repeat)))
    print(f"CPU µs a call, best of {args.repeat} passes over {args.n:,} envelopes")
    for label, us in rows:
        print(f"  {label:<34} {us:7.1f}")


if __name__ == "__main__":
    main()
