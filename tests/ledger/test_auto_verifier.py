"""AutoVerifier: this core for small verifications, the shared worker pool for the bulk.

Verdicts never depend on where a check ran; a script without a main guard never
has its body run again by a worker process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ledger.keys import PrivateKey
from ledger.sigcheck import AutoVerifier, Batch, Triple, shared_pool, verify_serial


def _triples(n: int) -> list[Triple]:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    out: list[Triple] = []
    for i in range(n):
        msg = b"message %d" % i
        sig = a.sign(msg)
        if i % 7 == 3:
            out.append((b.public_key, sig, msg))  # another key
        elif i % 11 == 5:
            out.append((a.public_key, sig, msg + b"!"))  # other bytes
        else:
            out.append((a.public_key, sig, msg))
    return out


def test_a_small_verification_stays_on_this_core() -> None:
    items = _triples(50)
    auto = AutoVerifier(parallel_min=1000)
    assert auto(items) == verify_serial(items)
    assert auto.asked == 50


def test_verdicts_are_the_same_on_the_worker_pool() -> None:
    items = _triples(600)
    expected = verify_serial(items)
    assert expected.count(False) > 50
    auto = AutoVerifier(parallel_min=0)
    auto(items[:1])  # starts the shared pool in the background
    deadline = time.monotonic() + 120
    while shared_pool() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shared_pool() is not None, "the shared pool did not start"
    assert auto(items) == expected
    batch = Batch(AutoVerifier(parallel_min=0), chunk=128)  # as verification sends them
    for pk, sig, msg in items:
        batch.add(pk, sig, msg)
    memo = batch.memo()
    assert [memo(*t) for t in items] == expected


@pytest.mark.parametrize("guarded", [True, False])
def test_a_script_body_runs_once_with_or_without_a_main_guard(
    tmp_path: Path, guarded: bool
) -> None:
    body = textwrap.dedent(
        """
        import time
        from ledger.keys import PrivateKey
        from ledger.sigcheck import AutoVerifier, shared_pool

        def main():
            print("body", flush=True)
            k = PrivateKey.generate()
            items = [(k.public_key, k.sign(b"m"), b"m")] * 200
            auto = AutoVerifier(parallel_min=0)
            assert all(auto(items))
            deadline = time.monotonic() + 60
            while {wait} and shared_pool() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert all(auto(items))
            print("pool", shared_pool() is not None, flush=True)
        """
    ).format(wait=guarded)
    body += 'if __name__ == "__main__":\n    main()\n' if guarded else "main()\n"
    script = tmp_path / "script.py"
    script.write_text(body, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["body", f"pool {guarded}"]


def test_bundle_verification_starts_the_workers_only_for_many_leaves(tmp_path: Path) -> None:
    """A large bundle starts the shared pool as soon as its zip is read; a small one never."""
    body = textwrap.dedent(
        """
        import time
        from ledger.sigcheck import PARALLEL_MIN, shared_pool
        from ledger.sigpool import _Shared
        from provenance.bundle.verify import start_workers

        def main():
            start_workers({f"leaves/{i}.json": b"" for i in range(PARALLEL_MIN)})
            print("small", _Shared.pool is not None, flush=True)
            start_workers({f"leaves/{i}.json": b"" for i in range(PARALLEL_MIN + 1)})
            deadline = time.monotonic() + 60
            while shared_pool() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            print("large", shared_pool() is not None, flush=True)

        if __name__ == "__main__":
            main()
        """
    )
    script = tmp_path / "script.py"
    script.write_text(body, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["small False", "large True"]
