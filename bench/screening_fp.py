"""Screening benchmark: false-positive rate and match latency.

Matches every name of ``tests/provenance/data/ordinary_companies.txt`` (real
companies that are on no screening list) against the shipped screening data
and prints the false-positive rate, then times ``match_entity`` over the same
names (and over listed names, which take the slower scoring path).

Run: ``.venv/bin/python bench/screening_fp.py [--rounds N] [--corpus FILE]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provenance.screening import (  # noqa: E402
    MATCH_THRESHOLD,
    ScreeningData,
    load_screening,
)

DEFAULT_CORPUS = ROOT / "tests" / "provenance" / "data" / "ordinary_companies.txt"


def read_corpus(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def latencies_us(data: ScreeningData, names: list[str], rounds: int) -> list[float]:
    """Per-call latency in microseconds, one sample per name and round."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for name in names:
            start = clock()
            data.match_entity(name)
            samples.append((clock() - start) / 1000.0)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"mean {statistics.fmean(ordered):7.1f} us   median {statistics.median(ordered):7.1f} us"
        f"   p99 {p99:7.1f} us   max {ordered[-1]:7.1f} us"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = load_screening()
    load_ms = (time.perf_counter() - started) * 1000.0
    names = read_corpus(args.corpus)
    flagged = {name: data.match_entity(name) for name in names}
    positives = {name: hits for name, hits in flagged.items() if hits}

    print(f"screening data {data.version} ({', '.join(data.list_ids)}); load {load_ms:.1f} ms")
    print(f"threshold {MATCH_THRESHOLD:g}")
    print(
        f"false positives: {len(positives)} of {len(names)} ordinary names "
        f"= {100.0 * len(positives) / max(1, len(names)):.2f}%"
    )
    for name, hits in positives.items():
        best = hits[0]
        print(f"  {name!r} -> {best.entry_name!r} via {best.matched_alias!r} ({best.score})")

    listed = [e.name for e in data.entries() if e.kind != "region"]
    print(f"latency, ordinary names ({len(names)} x {args.rounds}):")
    print("  " + describe(latencies_us(data, names, args.rounds)))
    print(f"latency, listed names ({len(listed)} x {args.rounds}):")
    print("  " + describe(latencies_us(data, listed, args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
