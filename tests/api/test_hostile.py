"""Malformed and hostile requests: always a 4xx with the JSON error body, never a 500."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ledger.home import Home
from tests.api.support import JSON, Server, Story, cotton_story, login, new_home, submit_all


@dataclass
class Env:
    http: httpx.Client
    story: Story
    auth: dict[str, str]
    server: Server


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home = Home(tmp_path_factory.mktemp("hostile") / "home")
    new_home(home, origin="custody.hostile/ledger")
    story = cotton_story(home)
    with Server(home.path) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        submit_all(http, story.envelopes)
        auth = login(http, "cbp", story.actors["cbp"].key)
        yield Env(http, story, auth, srv)


def _error(r: httpx.Response, status: int, code_prefix: str) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("application/json")
    err: dict[str, Any] = r.json()["error"]
    assert set(err) == {"code", "message", "details"}
    assert err["code"].startswith(code_prefix), err
    assert "Traceback" not in r.text
    return err


def _envelope(env: Env) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(env.story.marks["farm-origin"].to_json())
    return out


BAD_SINGLE = [
    ("empty", b"", 400, "invalid_envelope"),
    ("not json", b"{nope", 400, "invalid_envelope.json"),
    ("a number", b"42", 400, "invalid_envelope.type"),
    ("a string", b'"envelope"', 400, "invalid_envelope.type"),
    ("null", b"null", 400, "invalid_envelope.type"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, 400, "invalid_envelope.json"),
    ("deep nesting, small", b"[" * 50_000, 400, "invalid_envelope.json"),
    ("huge integer", b'{"payload": ' + b"9" * 5000 + b"}", 400, "invalid_envelope"),
    ("NaN", b'{"payloadType": NaN}', 400, "invalid_envelope"),
    ("not utf-8", b'{"payload": "\xff\xfe"}', 400, "invalid_envelope"),
    ("missing fields", b"{}", 400, "invalid_envelope.missing"),
    ("bad base64", None, 400, "invalid_envelope.base64"),
    ("bad keyid", None, 400, "invalid_envelope.keyid"),
    ("no signatures", None, 400, "invalid_envelope.signatures"),
    ("payload not a statement", None, 422, "invalid_statement"),
    ("signature by nobody", None, 400, "bad_signature"),
]


def _mutate(env: Env, label: str) -> bytes:
    e = _envelope(env)
    if label == "extra field":
        e["extra"] = 1
    elif label == "bad base64":
        e["payload"] = "***"
    elif label == "bad keyid":
        e["signatures"][0]["keyid"] = "ZZ"
    elif label == "no signatures":
        e["signatures"] = []
    elif label == "payload not a statement":
        e["payload"] = "eyJhIjogMX0="  # {"a": 1}
    elif label == "signature by nobody":
        from datetime import UTC, datetime
        from decimal import Decimal

        from ledger.envelope import sign_envelope
        from ledger.keys import PrivateKey
        from ledger.statements import build_statement

        payload = build_statement(
            "origin",
            "unsigned-1",
            "farm",
            datetime.now(UTC),
            lot={"id": "farm/x-1", "material": "cotton.seed", "quantity": Decimal(1), "unit": "kg"},
            site={"name": "F", "country": "US"},
        )
        return sign_envelope(payload, [PrivateKey.generate()]).to_json().encode()
    return json.dumps(e).encode()


@pytest.mark.parametrize(
    ("label", "body", "status", "code"), BAD_SINGLE, ids=[b[0] for b in BAD_SINGLE]
)
def test_bad_single_submissions(
    env: Env, label: str, body: bytes | None, status: int, code: str
) -> None:
    data = _mutate(env, label) if body is None else body
    _error(env.http.post("/v1/entries", content=data, headers=JSON), status, code)


def test_unknown_envelope_fields_are_ignored_as_dsse_says(env: Env) -> None:
    """DSSE consumers ignore unrecognised fields (issue 10, item 8): the genuine
    envelope with an extra field is the same statement, already in the ledger."""
    r = env.http.post("/v1/entries", content=_mutate(env, "extra field"), headers=JSON)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["duplicate"] is True
    leaf = env.http.get(f"/v1/entries/{r.json()['seq']}", headers=env.auth).json()
    assert "extra" not in json.dumps(leaf)


def test_rejections_carry_the_digest_and_a_409(env: Env) -> None:
    farm = env.story.actors["farm"]
    from datetime import UTC, datetime
    from decimal import Decimal

    from ledger.envelope import sign_envelope
    from ledger.statements import build_statement

    payload = build_statement(
        "dispatch",
        "overdraw-1",
        "farm",
        datetime.now(UTC),
        lot="farm/seed-1",
        quantity=Decimal(1),
        unit="kg",
        to="gin",
    )
    r = env.http.post(
        "/v1/entries", content=sign_envelope(payload, [farm.key]).to_json(), headers=JSON
    )
    err = _error(r, 409, "rejected.")
    assert err["details"]["digest"].startswith("sha256:")


def test_unsupported_media_type(env: Env) -> None:
    r = env.http.post(
        "/v1/entries", content=json.dumps(_envelope(env)), headers={"Content-Type": "text/plain"}
    )
    _error(r, 415, "unsupported_media_type")
    r = env.http.post("/v1/entries/batch", content=b"x", headers={"Content-Type": "image/png"})
    _error(r, 415, "unsupported_media_type")


def test_oversize_body_by_content_length(env: Env) -> None:
    big = b"{" + b" " * (300 * 1024) + b"}"
    _error(env.http.post("/v1/entries", content=big, headers=JSON), 413, "too_large.body")
    _error(
        env.http.post("/v1/auth/challenge", content=b" " * (100 * 1024), headers=JSON),
        413,
        "too_large.body",
    )


def test_oversize_body_chunked(env: Env) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(400):
            yield b" " * 1024

    r = env.http.post("/v1/entries", content=chunks(), headers=JSON)
    _error(r, 413, "too_large.body")
    r = env.http.post("/v1/auth/token", content=chunks(), headers=JSON)
    _error(r, 413, "too_large.body")


def test_lying_content_length_does_not_hang_or_500(env: Env) -> None:
    host, port = "127.0.0.1", env.server.port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(
            b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: abc\r\n\r\n{}"
        )
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 4")


def test_batch_over_the_limit(env: Env) -> None:
    items = [_envelope(env)] * 1001
    r = env.http.post("/v1/entries/batch", json=items)
    err = _error(r, 413, "too_large.batch")
    assert err["details"] == {"limit": 1000, "count": 1001}
    lines = "\n".join(json.dumps(i) for i in items)
    r = env.http.post(
        "/v1/entries/batch", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    _error(r, 413, "too_large.batch")


def test_batch_reports_each_item(env: Env) -> None:
    good = _envelope(env)
    r = env.http.post("/v1/entries/batch", json=[good, 7, {"x": 1}, None, good])
    assert r.status_code == 200
    res = r.json()["results"]
    assert len(res) == 5
    assert res[0]["duplicate"] is True
    assert res[4]["duplicate"] is True
    assert [x["error"]["code"].split(".")[0] for x in res[1:4]] == ["invalid_envelope"] * 3
    lines = json.dumps(good) + "\n{broken\n\n" + json.dumps(good) + "\n"
    r = env.http.post(
        "/v1/entries/batch", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    assert [("error" in x) for x in r.json()["results"]] == [False, True, False]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"42", b'"x"', b"\xff", b"[" * 60_000],
    ids=["empty", "broken", "number", "string", "binary", "deep"],
)
def test_bad_batch_bodies(env: Env, body: bytes) -> None:
    r = env.http.post("/v1/entries/batch", content=body, headers=JSON)
    _error(r, 400, "invalid_envelope")


BAD_QUERIES = [
    ("/v1/proofs/inclusion?seq=abc", 422),
    ("/v1/proofs/inclusion?seq=-1", 422),
    ("/v1/proofs/inclusion?seq=1e3", 422),
    ("/v1/proofs/inclusion?seq=" + "9" * 40, 422),
    ("/v1/proofs/inclusion?seq=1&size=0", 422),
    ("/v1/proofs/inclusion?seq=5000", 404),
    ("/v1/proofs/inclusion?seq=3&size=2", 404),
    ("/v1/proofs/inclusion", 422),
    ("/v1/proofs/consistency?from=5&to=2", 404),
    ("/v1/proofs/consistency?from=x", 422),
    ("/v1/proofs/consistency?from=1&to=999999", 404),
    ("/v1/entries/abc", 422),
    ("/v1/entries/-5", 422),
    ("/v1/entries/" + "9" * 30, 422),
    ("/v1/entries/by-digest/sha256:xyz", 422),
    ("/v1/statements?limit=0", 422),
    ("/v1/statements?limit=100000", 422),
    ("/v1/statements?cursor=abc", 422),
    ("/v1/statements?type=bogus", 422),
    ("/v1/statements?issuer=NOT%20A%20PARTY", 422),
    ("/v1/statements?since=yesterday", 422),
    ("/v1/statements?since=2026-13-45T99:99:99Z", 422),
    ("/v1/statements?lot=%00", 422),
    ("/v1/lots/%00", 422),
    ("/v1/lots/a%20b/trace", 422),
    ("/v1/lots/" + "x" * 300, 422),
    ("/v1/lots/farm/seed-1/bundle?entry_number=%20bad", 422),
    ("/v1/lots/farm/seed-1/bundle?entry_number=NOPE-1", 400),
    ("/v1/nowhere", 404),
    ("/v2/checkpoint", 404),
]


@pytest.mark.parametrize(("path", "status"), BAD_QUERIES, ids=[q[0] for q in BAD_QUERIES])
def test_bad_parameters(env: Env, path: str, status: int) -> None:
    r = env.http.get(path, headers=env.auth)
    assert r.status_code == status, r.text[:300]
    err = r.json()["error"]
    assert err["code"]
    assert err["message"]


def test_wrong_method_is_405(env: Env) -> None:
    r = env.http.put("/v1/checkpoint")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


AUTH_BODIES = [
    ({"party": "farm"}, 422),
    ({"party": "farm", "kid": "z" * 64}, 422),
    ({"party": "Farm!", "kid": "0" * 64}, 422),
    ({"party": 7, "kid": "0" * 64}, 422),
    ({"party": "farm", "kid": "0" * 64, "extra": True}, 422),
    ([], 422),
]


@pytest.mark.parametrize(("body", "status"), AUTH_BODIES)
def test_bad_challenge_requests(env: Env, body: Any, status: int) -> None:
    r = env.http.post("/v1/auth/challenge", json=body)
    _error(r, status, "invalid_input")


def test_bad_token_requests(env: Env) -> None:
    r = env.http.post("/v1/auth/token", content=b"{not json", headers=JSON)
    _error(r, 400, "invalid_input.json")
    body = {
        "party": "farm",
        "kid": "0" * 64,
        "nonce": "0" * 64,
        "timestamp": "2026-02-30T10:00:00Z",
        "signature": "A" * 86 + "==",
    }
    _error(env.http.post("/v1/auth/token", json=body), 400, "invalid_input.timestamp")
    body["timestamp"] = "2026-02-03T10:00:00Z"
    _error(env.http.post("/v1/auth/token", json=body), 401, "unauthorized.challenge")
    body["signature"] = "short"
    _error(env.http.post("/v1/auth/token", json=body), 422, "invalid_input.request")


def test_rate_limits(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = Home(tmp_path_factory.mktemp("rate") / "home")
    new_home(home, origin="custody.rate/ledger")
    story = Story(home)
    story.party("farm", "Farm", "US")
    limits = {
        "CUSTODY_API_SUBMIT_RATE": "0.5",
        "CUSTODY_API_SUBMIT_BURST": "3",
        "CUSTODY_API_AUTH_RATE": "0.5",
        "CUSTODY_API_AUTH_BURST": "2",
    }
    with Server(home.path, limits=limits) as srv, httpx.Client(base_url=srv.url) as http:
        env = story.envelopes[0].to_json()
        codes = [http.post("/v1/entries", content=env, headers=JSON).status_code for _ in range(4)]
        assert codes[:3] == [201, 200, 200]
        r = http.post("/v1/entries", content=env, headers=JSON)
        err = _error(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1
        assert err["details"]["retry_after"] == int(r.headers["retry-after"])
        # a batch counts each envelope
        r = http.post("/v1/entries/batch", json=[json.loads(env)] * 3)
        _error(r, 429, "rate_limited")
        challenge = {"party": "farm", "kid": story.actors["farm"].key.kid}
        codes = [http.post("/v1/auth/challenge", json=challenge).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        # reads are not throttled by the submission bucket
        assert http.get("/v1/checkpoint").status_code == 200
