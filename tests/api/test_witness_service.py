"""Real processes: `custody witness serve` (C2SP tlog-witness over HTTP) and
`custody serve` asking it in the background. The witness is SIGKILLed and
restarted while the log keeps appending; a down witness and one that never
answers do not slow appends and show in /v1/witnesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ledger.checkpoint import open_checkpoint, parse_verifier_key
from ledger.cosignature import count_cosigners, parse_cosigner_key
from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey
from ledger.statements import build_statement, format_time
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import format_request
from tests.api.support import CUSTODY, JSON, Server, free_port, new_home

ORIGIN = "custody.witnessing/ledger"


class WitnessServer:
    """`custody witness serve --dir D --port P` as a subprocess (restartable on its port)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = directory.parent / f"witness-{self.port}.log"

    def start(self) -> WitnessServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
        cmd = [str(CUSTODY), "witness", "serve", "--dir", str(self.dir), "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("witness did not come up: " + self.log.read_text(errors="replace"))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def cli(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    done = subprocess.run(
        [str(CUSTODY), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def party_envelope(key: PrivateKey, n: int) -> Envelope:
    pk = PrivateKey.generate()
    payload = build_statement(
        "party",
        f"party/p{n}",
        "operator",
        format_time(datetime.now(UTC)),
        party={"id": f"p{n}", "name": f"Party {n}", "country": "US", "roles": ["supplier"]},
        keys=[pk.public_key_b64],
    )
    return sign_envelope(payload, [key])


@pytest.fixture
def ledger_home(tmp_path: Path) -> Home:
    return new_home(Home(tmp_path / "home"), ORIGIN)


def make_witness(tmp_path: Path, name: str, home: Home) -> tuple[WitnessServer, str]:
    vkey_log = home.open(with_key=False).verifier_key()
    d = tmp_path / name
    cli("witness", "init", "--dir", str(d), "--name", f"witness.test/{name}", "--log", vkey_log)
    vkey = cli("witness", "key", "--dir", str(d)).strip()
    return WitnessServer(d), vkey


def wait_cosigned(url: str, size: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    note = ""
    while time.monotonic() < deadline:
        r = httpx.get(url + "/v1/checkpoint/cosigned", timeout=5)
        if r.status_code == 200:
            note = r.text
            if int(note.split("\n")[1]) >= size:
                return note
        time.sleep(0.2)
    raise AssertionError(f"no cosigned checkpoint of size {size}; last: {note!r}")


def test_log_gets_cosigned_and_survives_witness_crashes(tmp_path: Path, ledger_home: Home) -> None:
    w, wkey = make_witness(tmp_path, "w1", ledger_home)
    w.start()
    try:
        size = _cosigned_through_crashes(w, wkey, ledger_home)
    finally:
        w.stop()
    # the witness kept its state across the kills: it holds the log's final size and
    # never saw a conflict from this honest log
    state = WitnessHome(w.dir).state()
    try:
        latest = state.latest(ORIGIN)
        assert latest is not None
        assert latest.size == size
        assert state.evidence() == []
    finally:
        state.close()
    assert "no split-view evidence" in cli("witness", "evidence", "--dir", str(w.dir))


def _cosigned_through_crashes(w: WitnessServer, wkey: str, ledger_home: Home) -> int:
    cli("witness", "add", w.url, wkey, "--home", str(ledger_home.path))
    op = ledger_home.operator_key()
    with Server(ledger_home.path) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        note = wait_cosigned(srv.url, 1)
        counted = count_cosigners(note, [parse_cosigner_key(wkey)])
        assert counted.count == 1
        vkey = http.get("/v1/key").text.strip()
        assert open_checkpoint(note, parse_verifier_key(vkey)).size >= 1
        # the CLI names the witnesses that cosigned (stderr) and prints the cosigned note
        shown = subprocess.run(
            [str(CUSTODY), "ledger", "checkpoint", "--cosigned", "--home", str(ledger_home.path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert count_cosigners(shown.stdout, [parse_cosigner_key(wkey)]).count == 1
        assert "cosigned by 1 of 1 witness(es): witness.test/w1" in shown.stderr

        # appends continue while the witness is killed (SIGKILL) and restarted
        stop = threading.Event()
        appended: list[int] = []

        def append() -> None:
            n = 0
            while not stop.is_set():
                r = http.post("/v1/entries", content=party_envelope(op, n).to_json(), headers=JSON)
                assert r.status_code == 201, r.text
                appended.append(r.json()["seq"])
                n += 1
                time.sleep(0.02)

        t = threading.Thread(target=append)
        t.start()
        try:
            for pause in (0.3, 0.05):
                time.sleep(pause)
                w.kill()
                time.sleep(0.2)
                w.start()
        finally:
            time.sleep(0.5)
            stop.set()
            t.join(60)
        size = http.get("/v1/health").json()["size"]
        assert size == 1 + len(appended)
        note = wait_cosigned(srv.url, size, timeout=120)
        assert count_cosigners(note, [parse_cosigner_key(wkey)]).count == 1
        status = http.get("/v1/witnesses").json()["witnesses"][0]
        assert status["cosigned_size"] == size
    return int(size)


def test_witness_http_statuses(tmp_path: Path, ledger_home: Home) -> None:
    w, _ = make_witness(tmp_path, "w1", ledger_home)
    w.start()
    try:
        note = ledger_home.open(with_key=False).checkpoint()
        with httpx.Client(base_url=w.url, timeout=30) as http:
            ok = http.post("/add-checkpoint", content=format_request(0, [], note))
            assert ok.status_code == 200
            assert ok.text.startswith("— witness.test/w1 ")
            stale = http.post("/add-checkpoint", content=format_request(0, [], note))
            assert stale.status_code == 409
            assert stale.headers["content-type"].startswith("text/x.tlog.size")
            assert stale.text == "1\n"
            assert http.post("/add-checkpoint", content=b"garbage").status_code == 400
            huge = http.post("/add-checkpoint", content=b"x" * (2 << 20))
            assert huge.status_code == 413
            assert http.get("/").json()["logs"][0]["latest"]["size"] == 1
    finally:
        w.stop()


def _black_hole() -> tuple[socket.socket, int, threading.Event]:
    """A TCP server that accepts and never answers (a witness that hangs)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    done = threading.Event()
    held: list[socket.socket] = []

    def run() -> None:
        srv.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue
        for c in held:
            c.close()

    threading.Thread(target=run, daemon=True).start()
    return srv, int(srv.getsockname()[1]), done


def test_down_and_hanging_witnesses_do_not_slow_appends(tmp_path: Path, ledger_home: Home) -> None:
    hang, hang_port, done = _black_hole()
    down_port = free_port()  # nothing listens there
    from ledger.cosignature import Cosigner

    for i, port in ((1, hang_port), (2, down_port)):
        vkey = Cosigner(f"witness.test/gone{i}", PrivateKey.generate()).verifier.vkey
        cli("witness", "add", f"http://127.0.0.1:{port}", vkey, "--home", str(ledger_home.path))
    op = ledger_home.operator_key()
    try:
        with Server(ledger_home.path) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
            slowest = 0.0
            started = time.monotonic()
            for n in range(40):
                t0 = time.monotonic()
                r = http.post("/v1/entries", content=party_envelope(op, n).to_json(), headers=JSON)
                assert r.status_code == 201, r.text
                slowest = max(slowest, time.monotonic() - t0)
            total = time.monotonic() - started
            # the hanging witness holds a request for its 10 s timeout; appends never wait
            assert slowest < 3.0, slowest
            assert total < 30.0, total
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = {w["name"]: w for w in http.get("/v1/witnesses").json()["witnesses"]}
                if status["witness.test/gone2"]["last_error"]:
                    break
                time.sleep(0.2)
            assert status["witness.test/gone2"]["status"] == "failing"
            assert status["witness.test/gone2"]["cosigned_size"] == 0
            assert http.get("/v1/checkpoint/cosigned").status_code == 404
            health = http.get("/v1/health").json()
            assert health["status"] == "ok"
            assert {w["name"]: w["status"] for w in health["witnesses"]}["witness.test/gone2"] == (
                "failing"
            )
        assert "did not cosign" in srv.output()
    finally:
        done.set()
        hang.close()
