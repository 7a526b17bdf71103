"""Ingest benchmark (issues 2 and 3).

Appends N pre-signed envelopes in batches and prints, from the same run:

* end-to-end statements/s through ``Ledger.submit`` (parse, verify, custody
  checks, leaf + Merkle nodes + checkpoint, one transaction per batch);
* PyNaCl (libsodium) Ed25519 verifications/s on one core, and the ratio;
* the rate of the same statements with custody state checks replaced by the
  signature check alone (the cost of the state machine);
* the median time for an inclusion proof at the final size.

    .venv/bin/python bench/ingest.py --n 100000 [--mix origin|realistic] [--workers 2]
    CUSTODY_DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/ingest.py

The database starts empty (a temporary home; for PostgreSQL the tables are dropped first).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger import log as ledger_log
from ledger.custody import Changes, EntryRef, SigCheck, StateReader, check_signatures
from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey, is_valid_signature
from ledger.log import Ledger
from ledger.statements import build_statement, statement_digest
from ledger.store import drop_all

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{label}: {done}/{total}")
        sys.stderr.flush()
        if done >= total:
            sys.stderr.write("\n")


class Parties:
    def __init__(self, ledger: Ledger, operator: PrivateKey, counts: dict[str, int]) -> None:
        self.keys: dict[str, PrivateKey] = {}
        envs = []
        for prefix, n in counts.items():
            for i in range(n):
                pid = f"{prefix}{i}"
                k = PrivateKey.generate()
                self.keys[pid] = k
                payload = build_statement(
                    "party",
                    f"party/{pid}",
                    "operator",
                    T0,
                    party={
                        "id": pid,
                        "name": f"{prefix.title()} {i}",
                        "country": "US",
                        "roles": ["supplier"],
                    },
                    keys=[k.public_key_b64],
                )
                envs.append(sign_envelope(payload, [operator]))
        for r in ledger.submit(envs):
            assert r.error is None, r.error


def origin_mix(parties: Parties, n: int) -> Iterator[Envelope]:
    farms = [p for p in parties.keys if p.startswith("farm")]
    for i in range(n):
        pid = farms[i % len(farms)]
        payload = build_statement(
            "origin",
            f"o/{i}",
            pid,
            T0 + timedelta(seconds=i),
            lot={
                "id": f"{pid}/lot-{i}",
                "material": "cotton.seed",
                "quantity": Decimal(1000),
                "unit": "kg",
            },
            site={"name": "Field", "country": "US", "subdivision": "US-TX"},
        )
        yield sign_envelope(payload, [parties.keys[pid]])


def realistic_mix(parties: Parties, n: int) -> Iterator[Envelope]:
    """Units of 13 statements: 3 origins, 3 dispatches and receipts to a gin, a
    transform of 3 inputs into 2 outputs, a partial dispatch and its receipt."""
    farms = [p for p in parties.keys if p.startswith("farm")]
    gins = [p for p in parties.keys if p.startswith("gin")]
    spinners = [p for p in parties.keys if p.startswith("spin")]
    k = parties.keys
    t = T0
    u = 0
    made = 0

    def sign(type_: str, sid: str, issuer: str, **body: Any) -> Envelope:
        nonlocal t
        t += timedelta(seconds=1)
        return sign_envelope(build_statement(type_, sid, issuer, t, **body), [k[issuer]])

    while made < n:
        gin = gins[u % len(gins)]
        spin = spinners[u % len(spinners)]
        lots = []
        for j in range(3):
            farm = farms[(3 * u + j) % len(farms)]
            lot = f"{farm}/u{u}-{j}"
            lots.append(lot)
            yield sign(
                "origin",
                f"o/{lot}",
                farm,
                lot={
                    "id": lot,
                    "material": "cotton.seed",
                    "quantity": Decimal(12000),
                    "unit": "kg",
                },
                site={"name": "Field", "country": "US", "subdivision": "US-TX"},
            )
            d = sign(
                "dispatch", f"d/{lot}", farm, lot=lot, quantity=Decimal(12000), unit="kg", to=gin
            )
            yield d
            yield sign(
                "receipt",
                f"r/{lot}",
                gin,
                dispatch=statement_digest(d.payload),
                quantity=Decimal(12000),
                unit="kg",
            )
        yield sign(
            "transform",
            f"t/{gin}/u{u}",
            gin,
            process="cotton.ginning",
            inputs=[{"lot": lot, "quantity": Decimal(12000), "unit": "kg"} for lot in lots],
            outputs=[
                {
                    "id": f"{gin}/lint-{u}",
                    "material": "cotton.lint",
                    "quantity": Decimal(13000),
                    "unit": "kg",
                },
                {
                    "id": f"{gin}/seed-{u}",
                    "material": "cotton.seed.ginned",
                    "quantity": Decimal(20000),
                    "unit": "kg",
                },
            ],
            site={"name": "Gin", "country": "US", "subdivision": "US-TX"},
        )
        d = sign(
            "dispatch",
            f"d/{gin}/lint-{u}",
            gin,
            lot=f"{gin}/lint-{u}",
            quantity=Decimal(6500),
            unit="kg",
            to=spin,
        )
        yield d
        yield sign(
            "receipt",
            f"r/{gin}/lint-{u}",
            spin,
            dispatch=statement_digest(d.payload),
            quantity=Decimal(6500),
            unit="kg",
        )
        made += 13
        u += 1


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [is_valid_signature(pk, sig, msg) for pk, sig, msg in items]


def process_verifier(pool: ProcessPoolExecutor, workers: int) -> ledger_log.Verifier:
    def verify(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
        if len(items) < 64:
            return _verify_chunk(items)
        step = (len(items) + workers - 1) // workers
        parts = [items[i : i + step] for i in range(0, len(items), step)]
        out: list[bool] = []
        for part in pool.map(_verify_chunk, parts):
            out.extend(part)
        return out

    return verify


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


def run(
    home: Path,
    envs: list[Envelope],
    batch: int,
    verifier: ledger_log.Verifier | None,
    label: str,
    setup: Callable[[Ledger, PrivateKey], Parties] | None = None,
) -> float:
    ledger = Home(home).open()
    if verifier is not None:
        ledger.verifier = verifier
    start = time.perf_counter()
    for i in range(0, len(envs), batch):
        results = ledger.submit(envs[i : i + batch])
        bad = next((r for r in results if r.error is not None), None)
        if bad is not None:
            raise SystemExit(f"unexpected rejection: {bad.error}")
        progress(label, min(i + batch, len(envs)), len(envs))
    elapsed = time.perf_counter() - start
    ledger.store.close()
    return len(envs) / elapsed


def fresh_home(tmp: Path, name: str) -> tuple[Home, Ledger]:
    if os.environ.get("CUSTODY_DB_URL"):
        drop_all(os.environ["CUSTODY_DB_URL"])
    home = Home(tmp / name)
    ledger, _ = home.init(origin="bench.custody/ledger", time=T0)
    return home, ledger


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="statements to append")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--mix", choices=["origin", "realistic"], default="realistic")
    ap.add_argument("--workers", type=int, default=2, help="verification processes (1 = inline)")
    ap.add_argument("--proofs", type=int, default=2000, help="inclusion proofs to time")
    args = ap.parse_args()

    backend = "postgresql" if os.environ.get("CUSTODY_DB_URL") else "sqlite"
    print(
        f"custody ingest benchmark: {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {backend}"
    )
    vrate = verify_rate()
    print(f"PyNaCl Ed25519 verify, one core:          {vrate:10,.0f} /s")

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        counts = {"farm": 60, "gin": 12, "spin": 6}
        rates: dict[str, float] = {}
        pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
        verifier = process_verifier(pool, args.workers) if pool else None
        envs: list[Envelope] = []
        for label, custody_checks in (("full", True), ("signatures only", False)):
            home, ledger = fresh_home(tmp, label.replace(" ", "-"))
            parties = Parties(ledger, home.operator_key(), counts)
            ledger.store.close()
            gen = realistic_mix if args.mix == "realistic" else origin_mix
            envs = []
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
                rates[label] = run(home.path, envs, args.batch, verifier, f"append ({label})")
            finally:
                namespace["apply"] = original
            if custody_checks:
                led = Home(home.path).open(with_key=False)
                size = led.size()
                times = []
                step = max(1, size // args.proofs)
                for seq in range(0, size, step):
                    s = time.perf_counter()
                    led.prove(seq)
                    times.append(time.perf_counter() - s)
                median_ms = statistics.median(times) * 1000
                led.store.close()
        if pool:
            pool.shutdown()

    full = rates["full"]
    print(
        f"mix: {args.mix}, {args.n:,} statements in batches of {args.batch}, "
        f"verification on {args.workers} process(es)"
    )
    print(f"end-to-end ingest with custody checks:    {full:10,.0f} statements/s")
    print(
        f"end-to-end ingest, signature checks only: {rates['signatures only']:10,.0f} statements/s"
    )
    print(f"custody checks cost:                      {1 - full / rates['signatures only']:10.1%}")
    print(
        f"ingest / one-core verify ratio:           {full / vrate:10.2f}x "
        "(target 0.5x, stretch 1.0x)"
    )
    print(f"median inclusion proof at {size:,} entries: {median_ms:8.3f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
