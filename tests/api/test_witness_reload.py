"""`custody serve` (a real process) and its witnesses.json: witnesses added and
removed with `custody witness add/remove` while it runs are asked, or no longer,
without a restart; a witness that refuses (404 unknown log, 403 another operator
key) or answers with a cosignature that does not verify under its configured key
shows in /v1/health and /v1/witnesses with the reason, and in the server log; a
witnesses.json that no longer parses is an error in the log and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ledger.checkpoint import verifier_key
from ledger.cosignature import Cosigner, count_cosigners, parse_cosigner_key
from ledger.home import Home
from ledger.keys import PrivateKey
from tests.api.support import Server
from tests.api.test_witness_service import (
    ORIGIN,
    WitnessServer,
    cli,
    ledger_home,  # noqa: F401 (fixture)
    make_witness,
    wait_cosigned,
)


def _until(
    http: httpx.Client, cond: Callable[[dict[str, Any]], bool], seconds: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = {w["name"]: w for w in http.get("/v1/witnesses").json()["witnesses"]}
        if cond(status):
            return status
        time.sleep(0.2)
    raise AssertionError(status)


def test_witnesses_json_is_reloaded_and_refusals_are_visible(
    tmp_path: Path,
    ledger_home: Home,  # noqa: F811
) -> None:
    home = str(ledger_home.path)
    good, good_key = make_witness(tmp_path, "good", ledger_home)
    # a witness that does not follow this log (404) and one that trusts another
    # operator key for this origin (403)
    cli("witness", "init", "--dir", str(tmp_path / "stranger"), "--name", "witness.test/stranger")
    other_op = verifier_key(ORIGIN, PrivateKey.generate().public_key)
    cli(
        "witness",
        "init",
        "--dir",
        str(tmp_path / "wrongkey"),
        "--name",
        "witness.test/wrongkey",
        "--log",
        other_op,
    )
    stranger, wrongkey = WitnessServer(tmp_path / "stranger"), WitnessServer(tmp_path / "wrongkey")
    witnesses = (good, stranger, wrongkey)
    for w in witnesses:
        w.start()
    try:
        with Server(ledger_home.path) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
            assert http.get("/v1/witnesses").json() == {"witnesses": []}
            # added while the server runs: asked from the next round
            cli("witness", "add", good.url, good_key, "--home", home)
            note = wait_cosigned(srv.url, 1)
            assert count_cosigners(note, [parse_cosigner_key(good_key)]).count == 1

            for w in (stranger, wrongkey):
                cli(
                    "witness",
                    "add",
                    w.url,
                    cli("witness", "key", "--dir", str(w.dir)).strip(),
                    "--home",
                    home,
                )
            # the good witness's URL under a key it does not sign with
            impostor = Cosigner("witness.test/good", PrivateKey.generate()).verifier.vkey
            cli("witness", "add", good.url, impostor, "--home", home)
            status = _until(
                http,
                lambda s: (
                    len(s) == 3
                    and all(
                        s[n]["last_error"]
                        for n in ("witness.test/stranger", "witness.test/wrongkey")
                    )
                ),
            )
            assert status["witness.test/stranger"]["reason"] == "refused"
            assert "HTTP 404" in status["witness.test/stranger"]["last_error"]
            assert status["witness.test/wrongkey"]["reason"] == "refused"
            assert "HTTP 403" in status["witness.test/wrongkey"]["last_error"]
            # two entries share the name witness.test/good: the honest key and the impostor
            by_key: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not by_key.get(impostor, {}).get("last_error"):
                time.sleep(0.2)
                by_key = {w["vkey"]: w for w in http.get("/v1/witnesses").json()["witnesses"]}
            assert len(by_key) == 4
            assert by_key[impostor]["reason"] == "bad_cosignature"
            assert by_key[impostor]["status"] == "failing"
            assert by_key[good_key]["status"] == "ok"

            health = http.get("/v1/health").json()
            assert health["status"] == "ok"
            failing = {w["name"]: w for w in health["witnesses"] if w["status"] == "failing"}
            assert "HTTP 403" in failing["witness.test/wrongkey"]["last_error"]
            assert "HTTP 404" in failing["witness.test/stranger"]["last_error"]

            # removed while the server runs: no longer asked nor reported
            for name in ("witness.test/stranger", "witness.test/wrongkey"):
                cli("witness", "remove", name, "--home", home)
            cli("witness", "remove", impostor, "--home", home)
            _until(http, lambda s: set(s) == {"witness.test/good"})

            # a broken file: an error in the log, the witnesses in use are kept
            (ledger_home.path / "witnesses.json").write_text("{not json", encoding="utf-8")
            deadline = time.monotonic() + 30
            while "cannot be read" not in srv.output() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert {w["name"] for w in http.get("/v1/witnesses").json()["witnesses"]} == {
                "witness.test/good"
            }
        log = srv.output()
        assert "HTTP 403" in log
        assert "HTTP 404" in log
        assert "bad cosignature" in log
        assert "witnesses.json changed but cannot be read" in log
        assert "Traceback" not in log
    finally:
        for w in witnesses:
            w.stop()
