"""`custody witness add-log` next to an existing key (a rotation) keeps both keys
and the state; `custody witness remove-log-key` drops one, and refuses a key it
does not trust with a clear message and no traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ledger.checkpoint import verifier_key
from ledger.keys import PrivateKey
from tests.cli.support import CUSTODY

ORIGIN = "custody.test/ledger"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    done = subprocess.run(
        [CUSTODY, "witness", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert "Traceback" not in done.stderr
    return done


def test_add_and_remove_log_keys(tmp_path: Path) -> None:
    d = str(tmp_path / "w")
    old, new = (verifier_key(ORIGIN, PrivateKey.generate().public_key) for _ in range(2))
    assert run("init", "--dir", d, "--name", "witness.test/w1", "--log", old).returncode == 0
    added = run("add-log", new, "--dir", d)
    assert added.returncode == 0, added.stderr
    assert "trusts 2 keys" in added.stdout
    from ledger.witness.state import WitnessState

    st = WitnessState(Path(d) / "state.db")
    try:
        assert st.log_keys(ORIGIN) == [old, new]
    finally:
        st.close()
    removed = run("remove-log-key", old, "--dir", d)
    assert removed.returncode == 0, removed.stderr
    assert "trusts 1 key(s)" in removed.stdout
    again = run("remove-log-key", old, "--dir", d)
    assert again.returncode != 0
    assert "does not trust that key" in again.stdout + again.stderr
    last = run("remove-log-key", new, "--dir", d)
    assert "no longer follows log" in last.stdout
    assert run("add-log", "not a key", "--dir", d).returncode != 0
    info = run("add-log", old, "--dir", d)
    assert "follows log" in info.stdout
    st = WitnessState(Path(d) / "state.db")
    try:
        assert st.logs() == {ORIGIN: [old]}
    finally:
        st.close()
