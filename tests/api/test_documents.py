"""Document upload and download over HTTP (docs/api.md, "Documents"), against a
real server: size limit, digest mismatch, uploads for statements the uploader
cannot see, expiry of pending uploads, download permissions per role, and the
server's bundles carrying uploaded documents."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from ledger.home import Home
from ledger.statements import statement_digest
from ledger.store import drop_all
from tests.api.story import Story
from tests.api.support import CUSTODY, JSON, TEST_LIMITS, Server, login, new_home, submit_all

LIMIT = 4096
TTL = 2
X = b"Commercial invoice CI-1: 1000 kg seed cotton, USD 1,200.00\n"
Y = b"a lab report about a lot the uploader cannot see\n"
NOBODY = b"bytes no statement names\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc(data: bytes, name: str) -> dict[str, object]:
    return {"sha256": sha(data), "name": name, "media_type": "text/plain", "size": len(data)}


@dataclass
class Env:
    http: httpx.Client
    story: Story
    home: Home
    headers: dict[str, dict[str, str]]
    url: str

    def put(self, role: str, data: bytes, digest: str | None = None) -> httpx.Response:
        return self.http.put(
            f"/v1/documents/{digest or sha(data)}", content=data, headers=self.headers[role]
        )

    def get(self, role: str, data: bytes) -> httpx.Response:
        return self.http.get(f"/v1/documents/{sha(data)}", headers=self.headers[role])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db_url = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    if db_url:
        drop_all(db_url)
    tmp = tmp_path_factory.mktemp("documents")
    home = Home(tmp / "home")
    if db_url:
        os.environ["CUSTODY_DB_URL"] = db_url
    try:
        new_home(home, origin="custody.documents/ledger")
    finally:
        if db_url:
            del os.environ["CUSTODY_DB_URL"]
    s = Story(home, keys_dir=tmp / "keys")
    farm = s.party("farm", "Lubbock Farm", "US", subdivision="US-TX")
    imp = s.party("imp", "Prairie Apparel", "US", roles=("importer",))
    s.party("other", "Unrelated Mill", "US")
    s.party("cbp", "U.S. Customs and Border Protection", "US", roles=("auditor",))
    lot = {"id": "farm/seed-1", "material": "cotton.seed", "quantity": Decimal(1000), "unit": "kg"}
    s.say(farm, "origin", lot=lot, site={"name": "Farm", "country": "US"})
    s.ship(farm, "farm/seed-1", 1000, "kg", imp)
    s.say(farm, "evidence", lots=["farm/seed-1"], kind="invoice", document=doc(X, "ci-1.txt"))
    s.say(farm, "evidence", lots=["farm/seed-1"], kind="lab_report", document=doc(Y, "lab.txt"))
    limits = {
        **TEST_LIMITS,
        "CUSTODY_API_MAX_DOCUMENT_BYTES": str(LIMIT),
        "CUSTODY_API_UPLOAD_TTL": str(TTL),
    }
    with (
        Server(home.path, db_url=db_url, limits=limits) as srv,
        httpx.Client(base_url=srv.url, timeout=60) as http,
    ):
        submit_all(http, s.envelopes)
        headers = {p: login(http, p, s.actors[p].key) for p in ("farm", "imp", "other", "cbp")}
        headers["anonymous"] = {}
        yield Env(http, s, home, headers, srv.url)
    if db_url:
        drop_all(db_url)


def test_upload_named_by_a_visible_statement_is_stored(env: Env) -> None:
    r = env.put("farm", X)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "stored"
    assert body["size"] == len(X)
    assert len(body["statements"]) == 1
    assert (env.home.documents / sha(X)).read_bytes() == X
    again = env.put("farm", X)  # idempotent
    assert again.status_code == 201


def test_digest_mismatch_and_bad_digest(env: Env) -> None:
    r = env.put("farm", X, digest=sha(Y))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_input.digest_mismatch"
    assert not (env.home.documents / sha(Y)).exists()
    r = env.http.put("/v1/documents/NOT-A-DIGEST", content=X, headers=env.headers["farm"])
    assert r.status_code == 422


def test_size_limit_is_413(env: Env) -> None:
    big = b"x" * (LIMIT + 1)
    r = env.put("farm", big)
    assert r.status_code == 413
    assert r.json()["error"]["details"]["limit_bytes"] == LIMIT
    assert env.put("anonymous", X).status_code == 401


def test_upload_for_a_statement_the_uploader_cannot_see_expires(env: Env) -> None:
    r = env.put("other", Y)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    assert not (env.home.documents / sha(Y)).exists()
    r = env.put("other", NOBODY)
    assert r.status_code == 202
    pending = env.home.path / "uploads" / "other"
    assert (pending / sha(Y)).exists()
    time.sleep(TTL + 0.5)
    # swept on access: any documents request drops what expired
    assert env.get("other", Y).status_code == 403
    assert not (pending / sha(Y)).exists()
    assert not (pending / sha(NOBODY)).exists()
    assert not (env.home.documents / sha(Y)).exists()
    # the importer can see the lab report's statement, but nobody uploaded the bytes
    r = env.get("imp", Y)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found.document"


def test_download_permissions_per_role(env: Env) -> None:
    assert env.put("farm", X).status_code == 201
    for role in ("farm", "imp", "cbp"):
        r = env.get(role, X)
        assert r.status_code == 200, (role, r.text)
        assert r.content == X
        assert 'filename="ci-1.txt"' in r.headers["content-disposition"]
    r = env.get("other", X)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden.not_visible"
    assert env.get("farm", NOBODY).status_code == 403  # the same answer as for X
    assert env.get("anonymous", X).status_code == 401


def test_upload_first_then_the_statement(env: Env) -> None:
    z = b"packing list PL-7\n"
    r = env.put("imp", z)
    assert r.status_code == 202
    imp = env.story.actors["imp"]
    env.story.envelopes.clear()
    env.story.say(imp, "evidence", lots=["farm/seed-1"], kind="packing_list", document=doc(z, "pl"))
    (result,) = submit_all(env.http, env.story.envelopes)
    assert result["digest"] == statement_digest(env.story.envelopes[0].payload)
    r = env.get("imp", z)  # promoted on access
    assert r.status_code == 200
    assert r.content == z
    assert not (env.home.path / "uploads" / "imp" / sha(z)).exists()


def test_server_bundles_carry_uploaded_documents(env: Env) -> None:
    assert env.put("farm", X).status_code == 201
    r = env.http.get("/v1/lots/farm/seed-1/bundle", headers=env.headers["imp"])
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.read(f"documents/{sha(X)}") == X


def test_attest_evidence_with_server_uploads_the_file(env: Env, tmp_path: Path) -> None:
    cert = tmp_path / "phyto.txt"
    data = b"phytosanitary certificate PC-3\n"
    cert.write_bytes(data)
    keys = env.home.path.parent / "keys"
    proc = subprocess.run(
        [
            CUSTODY, "attest", "evidence", "--server", env.url, "--key", str(keys / "farm.key"),
            "--issuer", "farm", "--lots", "farm/seed-1", "--kind", "certificate",
            "--file", str(cert), "--json",
        ],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["document"]["status"] == "stored"
    assert result["document"]["sha256"] == sha(data)
    r = env.get("imp", data)
    assert r.status_code == 200
    assert r.content == data
    # without --issuer there is no party to log in as: a clear error, exit 1
    bad = subprocess.run(
        [
            CUSTODY, "attest", "evidence", "--server", env.url, "--key", str(keys / "farm.key"),
            "--lots", "farm/seed-1", "--kind", "certificate", "--file", str(cert),
        ],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")},
    )  # fmt: skip
    assert bad.returncode == 1
    assert "--issuer" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_retractions_go_through_the_normal_submit_path(env: Env) -> None:
    farm = env.story.actors["farm"]
    statements = env.http.get(
        "/v1/statements", params={"type": "evidence", "issuer": "farm"}, headers=env.headers["cbp"]
    ).json()["items"]
    lab = next(s for s in statements if s["statement"]["kind"] == "lab_report")
    origin = env.http.get(
        "/v1/statements", params={"type": "origin"}, headers=env.headers["cbp"]
    ).json()["items"][0]
    env.story.envelopes.clear()
    env.story.say(farm, "retract", statement=origin["digest"], reason="typo")
    env.story.say(farm, "retract", statement=lab["digest"], reason="wrong sample")
    used, void = env.story.envelopes
    r = env.http.post("/v1/entries", content=used.to_json(), headers=JSON)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "rejected.consumed"
    r = env.http.post("/v1/entries", content=void.to_json(), headers=JSON)
    assert r.status_code == 201, r.text
    report = env.http.get("/v1/lots/farm/seed-1/verify", headers=env.headers["imp"]).json()
    assert [x["digest"] for x in report["retracted"]] == [lab["digest"]]
    listed = env.http.get(
        "/v1/statements", params={"type": "retract"}, headers=env.headers["farm"]
    ).json()["items"]
    assert [x["statement"]["reason"] for x in listed] == ["wrong sample"]
