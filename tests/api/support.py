"""Helpers for the API tests: a real `custody serve` on a loopback port, logins;
the cotton supply chain (``tests/api/story.py``) is re-exported here."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ledger.envelope import Envelope
from ledger.home import Home
from ledger.keys import PrivateKey, b64encode
from tests.api.story import ENTRY_NUMBER, SUBJECT, Actor, Story, cotton_story

__all__ = [
    "CUSTODY",
    "ENTRY_NUMBER",
    "JSON",
    "REPO",
    "SUBJECT",
    "Actor",
    "Server",
    "Story",
    "cotton_story",
    "login",
    "new_home",
    "submit_all",
    "token_request",
]

REPO = Path(__file__).resolve().parents[2]
CUSTODY = REPO / ".venv" / "bin" / "custody"

# Limits loose enough that only the tests about limits meet them.
TEST_LIMITS = {
    "CUSTODY_API_SUBMIT_RATE": "0",
    "CUSTODY_API_AUTH_RATE": "0",
}


def new_home(home: Home, origin: str) -> Home:
    """Initialise ``home`` (operator key, entry 0) and release its database."""
    ledger, _ = home.init(origin=origin)
    ledger.store.close()
    return home


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _PortTakenError(Exception):
    pass


class Server:
    """`custody serve --port <free> --home <home>` as a subprocess."""

    def __init__(
        self,
        home: Path,
        *,
        env: dict[str, str] | None = None,
        db_url: str | None = None,
        workers: int = 1,
        limits: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"server-{self.port}.log"
        full = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
        if "CUSTODY_PROFILE" in os.environ:  # the document profile the test chose
            full["CUSTODY_PROFILE"] = os.environ["CUSTODY_PROFILE"]
        full.update(TEST_LIMITS if limits is None else limits)
        if db_url:
            full["CUSTODY_DB_URL"] = db_url
        full.update(env or {})
        self.env = full
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Start the server; a port taken between choosing and binding it (another test
        worker's server or client) is retried on a fresh port."""
        for _attempt in range(5):
            try:
                return self._start()
            except _PortTakenError:
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.log = self.home.parent / f"server-{self.port}.log"
        return self._start()

    def _start(self) -> Server:
        cmd = [
            str(CUSTODY),
            "serve",
            "--port",
            str(self.port),
            "--home",
            str(self.home),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(self.workers),
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "address already in use" in self.output().lower():
                    raise _PortTakenError(self.port)
                raise RuntimeError(f"custody serve exited: {self.output()}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"custody serve did not come up: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def auth_message(origin: str, party: str, kid: str, nonce: str, timestamp: str) -> bytes:
    """Written from docs/api.md, independently of api.auth."""
    return f"custody-auth/1\n{origin}\n{party}\n{kid}\n{nonce}\n{timestamp}".encode()


def now_stamp(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_request(
    http: httpx.Client, party: str, key: PrivateKey, *, stamp: str | None = None
) -> dict[str, Any]:
    """A challenge, signed: the body of POST /v1/auth/token."""
    r = http.post("/v1/auth/challenge", json={"party": party, "kid": key.kid})
    assert r.status_code == 200, r.text
    ch = r.json()
    stamp = stamp or now_stamp()
    msg = auth_message(ch["origin"], party, key.kid, ch["nonce"], stamp)
    return {
        "party": party,
        "kid": key.kid,
        "nonce": ch["nonce"],
        "timestamp": stamp,
        "signature": b64encode(key.sign(msg)),
    }


def login(http: httpx.Client, party: str, key: PrivateKey) -> dict[str, str]:
    """Authorization headers for ``party``."""
    r = http.post("/v1/auth/token", json=token_request(http, party, key))
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def submit_all(http: httpx.Client, envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """Submit in order, one envelope per request; every one must be appended."""
    out = []
    for env in envelopes:
        r = http.post("/v1/entries", content=env.to_json(), headers=JSON)
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


JSON = {"Content-Type": "application/json"}
