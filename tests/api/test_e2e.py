"""End to end through a real `custody serve` on a loopback port: register parties,
submit a realistic chain from every party's own key, trace and verify as the
importer, export the bundle over HTTP and verify it offline."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from ledger import merkle
from ledger.checkpoint import open_checkpoint, parse_verifier_key
from ledger.home import Home
from ledger.statements import statement_digest
from provenance.bundle import verify_bundle
from tests.api.support import (
    CUSTODY,
    ENTRY_NUMBER,
    JSON,
    SUBJECT,
    Server,
    cotton_story,
    login,
)


@pytest.fixture(autouse=True)
def custody_only_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The story carries no trade documents: server, CLI and bundle verification are
    compared under the ``custody-only`` document profile (the profiles are tested in
    tests/provenance/test_evidence_rules.py)."""
    monkeypatch.setenv("CUSTODY_PROFILE", "custody-only")


def run_cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(CUSTODY), *args]
    if home is not None:
        cmd += ["--home", str(home)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")  # the tests run apart, longest first
def initialised_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("e2e") / "home"
    done = run_cli("init", "--origin", "custody.e2e/ledger", home=home)
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def initialised(initialised_once: Path, tmp_path: Path) -> Home:
    """Each test's own copy of a ledger made by ``custody init``."""
    shutil.copytree(initialised_once, tmp_path / "home")
    return Home(tmp_path / "home")


def test_chain_submitted_over_http_traces_verifies_and_bundles(
    initialised: Home, tmp_path: Path
) -> None:
    story = cotton_story(initialised, keys_dir=tmp_path / "keys")
    parties = [e for e in story.envelopes if json.loads(e.payload)["type"] == "party"]
    rest = story.envelopes[len(parties) :]
    assert story.envelopes[: len(parties)] == parties
    half = len(rest) // 2
    with Server(initialised.path) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        # 1. the operator registers the parties, one request each
        seqs = []
        for env in parties:
            r = http.post("/v1/entries", content=env.to_json(), headers=JSON)
            assert r.status_code == 201, r.text
            assert r.headers["location"] == f"/v1/entries/{r.json()['seq']}"
            seqs.append(r.json()["seq"])
        # 2. the chain: half as a JSON array, half as JSON lines
        r = http.post("/v1/entries/batch", json=[json.loads(e.to_json()) for e in rest[:half]])
        assert r.status_code == 200, r.text
        first = r.json()["results"]
        ndjson = "\n".join(e.to_json() for e in rest[half:]) + "\n"
        r = http.post(
            "/v1/entries/batch",
            content=ndjson,
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text
        results = first + r.json()["results"]
        assert all("error" not in x for x in results), results
        seqs += [x["seq"] for x in results]
        assert seqs == list(range(1, len(story.envelopes) + 1))
        assert [x["digest"] for x in results] == [statement_digest(e.payload) for e in rest]

        # 3. resubmitting is idempotent (200, same seq), over the CLI client too
        env = story.marks["import"]
        again = http.post("/v1/entries", content=env.to_json(), headers=JSON)
        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        env_file = tmp_path / "import.json"
        env_file.write_text(env.to_json())
        done = run_cli("submit", str(env_file), "--server", srv.url, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["seq"] == again.json()["seq"]

        # 4. the log is public: checkpoint signed by the operator, proofs verify
        note = http.get("/v1/checkpoint").text
        vkey = http.get("/v1/key").text.strip()
        assert vkey == run_cli("ledger", "key", home=initialised.path).stdout.strip()
        cp = open_checkpoint(note, parse_verifier_key(vkey))
        assert cp.size == len(story.envelopes) + 1
        seq = again.json()["seq"]
        proof = http.get("/v1/proofs/inclusion", params={"seq": seq}).json()
        merkle.verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            seq,
            cp.size,
            [bytes.fromhex(h) for h in proof["proof"]],
            cp.root,
        )
        done = run_cli("ledger", "checkpoint", "--server", srv.url)
        assert done.returncode == 0
        assert done.stdout == note

        # 5. the importer logs in with its own key, traces and verifies its goods
        importer = story.actors["importer"]
        auth = login(http, "importer", importer.key)
        assert http.get("/v1/auth/whoami", headers=auth).json()["party"] == "importer"
        trace = http.get(f"/v1/lots/{SUBJECT}/trace", headers=auth)
        assert trace.status_code == 200, trace.text
        traced = json.dumps(trace.json())
        for lot in ("farm/seed-1", "gin/lint-1", "spinner/yarn-1", "mill/fabric-1"):
            assert lot in traced
        report = http.get(f"/v1/lots/{SUBJECT}/verify", headers=auth).json()
        assert report["subject"] == SUBJECT
        assert report["verdict"] == "pass", report["findings"]
        assert {(c["country"], c["subdivision"]) for c in report["composition"]} == {
            ("US", "US-TX")
        }

        # ... and the CLI does the same through the server with the importer's key file
        key_file = str(tmp_path / "keys" / "importer.key")
        remote = ["--server", srv.url, "--party", "importer", "--key", key_file]
        done = run_cli("verify", SUBJECT, *remote, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["verdict"] == "pass"
        done = run_cli("trace", SUBJECT, *remote)
        assert done.returncode == 0, done.stderr
        assert "farm/seed-1" in done.stdout
        done = run_cli("verify", SUBJECT, "--server", srv.url, "--json")  # no login
        assert done.returncode == 1
        assert json.loads(done.stdout)["error"]["code"] == "unauthorized.missing_token"
        farm_key = str(tmp_path / "keys" / "farm.key")
        done = run_cli("verify", SUBJECT, "--server", srv.url, "--party", "farm", "--key", farm_key)
        assert done.returncode == 1
        assert "forbidden.not_visible" in done.stderr
        done = run_cli(
            "bundle",
            "export",
            SUBJECT,
            "-o",
            str(tmp_path / "cli.zip"),
            "--entry-number",
            ENTRY_NUMBER,
            *remote,
            "--json",
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["verdict"] == "pass"
        assert verify_bundle(tmp_path / "cli.zip", operator_key=vkey).verdict == "pass"

        # 6. ... exports the bundle for the CBP entry, streamed as a zip
        r = http.get(
            f"/v1/lots/{SUBJECT}/bundle",
            params={"entry_number": ENTRY_NUMBER},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        bundle = tmp_path / "bundle.zip"
        bundle.write_bytes(r.content)

    # 7. ... which verifies offline, trusting only the operator's key
    result = verify_bundle(bundle, operator_key=vkey)
    assert result.pinned
    assert result.verdict == "pass", [f.message for f in result.findings]
    assert result.entry_number == ENTRY_NUMBER
    done = run_cli("bundle", "verify", str(bundle), "--operator-key", vkey, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["verdict"] == "pass"


def test_cli_client_logs_in_and_downloads(initialised: Home, tmp_path: Path) -> None:
    """The CLI's HTTP client (cli/client.py) against the real server."""
    from cli.client import Client, remote_bundle, remote_report
    from ledger.errors import InputError, NotFoundError
    from provenance.bundle import read_zip

    story = cotton_story(initialised, keys_dir=tmp_path / "keys")
    with Server(initialised.path) as srv, Client(srv.url) as c:
        results = c.submit(list(story.envelopes))
        assert all("seq" in x for x in results)
        assert c.prove(1, None)["seq"] == 1
        assert c.consistency(1, None)["from"] == 1
        c.login("importer", story.actors["importer"].key)
        assert c.whoami()["party"] == "importer"
        assert c.verify(SUBJECT)["verdict"] == "pass"
        assert c.lot("farm/seed-1")["creator"] == "farm"
        out = c.bundle(SUBJECT, tmp_path / "out" / "b.zip", entry_number=ENTRY_NUMBER)
        assert verify_bundle(out, operator_key=c.verifier_key()).verdict == "pass"
        with pytest.raises(NotFoundError):
            c.prove(10_000, None)
        c.logout()
        with pytest.raises(Exception, match="Bearer"):
            c.whoami()
        # what `custody bundle export --server` will call
        summary = remote_bundle(
            srv.url,
            SUBJECT,
            tmp_path / "remote.zip",
            ENTRY_NUMBER,
            "importer",
            tmp_path / "keys" / "importer.key",
        )
        assert summary["verdict"] == "pass"
        assert summary["entry_number"] == ENTRY_NUMBER
        assert summary["entries"] > 20
        assert summary["checkpoint"]["origin"] == "custody.e2e/ledger"
        # --profile reaches the server: the story has no trade documents, so the
        # cbp-uflpa profile does not pass it where the server's custody-only does
        key_args = ("importer", tmp_path / "keys" / "importer.key")
        uflpa = tmp_path / "uflpa.zip"
        judged = remote_bundle(srv.url, SUBJECT, uflpa, None, *key_args, "cbp-uflpa")
        assert judged["verdict"] != "pass"
        manifest = json.loads(read_zip(uflpa)["manifest.json"])
        assert manifest["profile"] == "cbp-uflpa"
        assert json.loads(read_zip(tmp_path / "remote.zip")["manifest.json"])["profile"] == (
            "custody-only"
        )
        # a profile file is the caller's own: refused before anything is downloaded
        own = tmp_path / "own-profile.json"
        own.write_text("{}")
        for call in (
            lambda: remote_bundle(
                srv.url, SUBJECT, own.with_suffix(".zip"), None, *key_args, str(own)
            ),
            lambda: remote_report(srv.url, SUBJECT, *key_args, str(own)),
        ):
            with pytest.raises(InputError, match="with --server") as refused:
                call()
            assert refused.value.code == "invalid_input.profile"
        assert not own.with_suffix(".zip").exists()
    done = run_cli(
        "bundle", "export", SUBJECT, "-o", str(tmp_path / "cli.zip"),
        "--server", "http://127.0.0.1:9", "--profile", str(own),
    )  # fmt: skip
    assert done.returncode == 1
    assert "with --server give a profile the server ships" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cli.zip").exists()


def test_docs_login_example_runs(initialised: Home, tmp_path: Path) -> None:
    """The Python login example of docs/api.md works as written (URL and key path aside)."""
    import contextlib
    import io
    import os
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    story = cotton_story(initialised, keys_dir=tmp_path / "keys")
    with Server(initialised.path) as srv, httpx.Client(base_url=srv.url) as http:
        r = http.post("/v1/entries/batch", json=[json.loads(e.to_json()) for e in story.envelopes])
        assert all("seq" in x for x in r.json()["results"])
        code = example.replace("http://127.0.0.1:8000", srv.url)
        printed = io.StringIO()
        cwd = os.getcwd()
        namespace: dict[str, object] = {}
        os.chdir(tmp_path / "keys")
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, "docs/api.md", "exec"), namespace)
        finally:
            os.chdir(cwd)
            client = namespace.get("http")
            if isinstance(client, httpx.Client):
                client.close()
    assert printed.getvalue().strip() == "pass"
