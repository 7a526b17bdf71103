"""A child process for crash and concurrency tests: appends batches and prints
an acknowledgement line after each commit.

    python -m tests.ledger.appender HOME KEYFILE PARTY PREFIX BATCHES BATCH_SIZE
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ledger.envelope import sign_envelope
from ledger.home import Home
from ledger.keys import load_private_key
from ledger.statements import build_statement


def main() -> None:
    home, keyfile, party, prefix = sys.argv[1:5]
    batches, size = int(sys.argv[5]), int(sys.argv[6])
    key = load_private_key(Path(keyfile))
    ledger = Home(Path(home)).open()
    t = datetime(2026, 3, 1, tzinfo=UTC)
    for b in range(batches):
        envs = []
        for i in range(size):
            lot = f"{prefix}/{b}/{i}"
            payload = build_statement(
                "origin",
                f"o/{lot}",
                party,
                t + timedelta(seconds=b * size + i),
                lot={"id": lot, "material": "cotton.seed", "quantity": Decimal(10), "unit": "kg"},
                site={"name": "Field", "country": "US"},
            )
            envs.append(sign_envelope(payload, [key]))
        results = ledger.submit(envs)
        bad = [r for r in results if r.error is not None]
        if bad:
            print(f"ERROR {bad[0].error}", flush=True)
            sys.exit(1)
        seqs = " ".join(f"{r.seq}:{r.digest}" for r in results)
        print(f"ACK {b} {seqs}", flush=True)
    ledger.store.close()


if __name__ == "__main__":
    main()
