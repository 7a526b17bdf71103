"""`custody bundle view`: the auditor's page for one bundle, verified on this computer and
served on a loopback port (started by import string, like `custody serve`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from ledger.home import Home
from provenance.context import VerificationContext
from tests.api.support import CUSTODY, ENTRY_NUMBER, SUBJECT, free_port


def test_bundle_view_serves_the_auditor_page_offline(world: dict[str, Any]) -> None:
    home: Home = world["home"]
    bundle = world["tmp"] / "view.zip"
    with VerificationContext.from_home(home) as ctx:
        expected = ctx.export_bundle(SUBJECT, bundle, entry_number=ENTRY_NUMBER).verdict
        vkey = ctx.ledger.verifier_key()
    port = free_port()
    log = (world["tmp"] / "view.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    proc = subprocess.Popen(
        [
            str(CUSTODY),
            "bundle",
            "view",
            str(bundle),
            "--operator-key",
            vkey,
            "--entry-number",
            ENTRY_NUMBER,
            "--port",
            str(port),
            "--no-open",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/bundles/verify", proc, world["tmp"] / "view.log")
        assert f'id="bundle-verdict" class="badge {expected}"' in page
        assert "on this computer by custody bundle view, offline" in page
        assert f"CBP entry {ENTRY_NUMBER}" in page
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 303
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_bundle_view_refuses_a_bad_key_before_serving(world: dict[str, Any]) -> None:
    bundle = world["tmp"] / "none.zip"
    r = subprocess.run(
        [str(CUSTODY), "bundle", "view", str(bundle), "--operator-key", "nonsense", "--no-open"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode != 0
    assert "Traceback" not in r.stderr


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = log.read_text(errors="replace")
            raise AssertionError(f"custody bundle view exited: {out}")
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return r.text
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("custody bundle view did not come up")
