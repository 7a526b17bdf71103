"""Login with a party key: replays, forgeries, skew, expiry, revocation, logout."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ledger.envelope import sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey, b64encode
from ledger.statements import build_statement
from tests.api.support import (
    JSON,
    Server,
    Story,
    auth_message,
    cotton_story,
    login,
    new_home,
    now_stamp,
    submit_all,
    token_request,
)


@dataclass
class Env:
    http: httpx.Client
    story: Story
    home: Home


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home = Home(tmp_path_factory.mktemp("auth") / "home")
    new_home(home, origin="custody.auth/ledger")
    story = cotton_story(home)
    with Server(home.path) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        submit_all(http, story.envelopes)
        yield Env(http, story, home)


def _token(env: Env, body: dict[str, str]) -> httpx.Response:
    return env.http.post("/v1/auth/token", json=body)


def test_login_and_whoami(env: Env) -> None:
    auth = login(env.http, "cbp", env.story.actors["cbp"].key)
    me = env.http.get("/v1/auth/whoami", headers=auth).json()
    assert me["party"] == "cbp"
    assert me["roles"] == ["auditor"]
    assert me["sees_everything"]


def test_replayed_nonce_is_refused(env: Env) -> None:
    body = token_request(env.http, "farm", env.story.actors["farm"].key)
    assert _token(env, body).status_code == 200
    again = _token(env, body)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "unauthorized.challenge"


def _forged(env: Env, party: str, key: PrivateKey, **change: str) -> httpx.Response:
    body = token_request(env.http, party, key)
    body.update(change)
    return _token(env, body)


def test_signature_by_another_key_is_refused(env: Env) -> None:
    farm = env.story.actors["farm"]
    body = token_request(env.http, "farm", farm.key)
    stranger = PrivateKey.generate()
    ch_origin = env.http.get("/v1/version").json()["origin"]
    msg = auth_message(ch_origin, "farm", farm.key.kid, body["nonce"], body["timestamp"])
    body["signature"] = b64encode(stranger.sign(msg))
    r = _token(env, body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.invalid_credentials"


@pytest.mark.parametrize("origin", ["custody.other/ledger", ""], ids=["other ledger", "no origin"])
def test_signature_for_another_origin_is_refused(env: Env, origin: str) -> None:
    farm = env.story.actors["farm"]
    body = token_request(env.http, "farm", farm.key)
    msg = auth_message(origin, "farm", farm.key.kid, body["nonce"], body["timestamp"])
    body["signature"] = b64encode(farm.key.sign(msg))
    assert _token(env, body).status_code == 401


def test_key_of_another_party_is_refused(env: Env) -> None:
    # farm's key, claiming to be the importer
    r = _forged(env, "importer", env.story.actors["farm"].key)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.invalid_credentials"


def test_unknown_party_gets_a_challenge_but_no_token(env: Env) -> None:
    stranger = PrivateKey.generate()
    r = _forged(env, "nobody", stranger)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.invalid_credentials"


@pytest.mark.parametrize("minutes", [-10, 10], ids=["past", "future"])
def test_clock_skew_is_refused(env: Env, minutes: int) -> None:
    farm = env.story.actors["farm"]
    stamp = now_stamp(timedelta(minutes=minutes))
    body = token_request(env.http, "farm", farm.key, stamp=stamp)
    r = _token(env, body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.clock_skew"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense-token-that-was-never-issued",
        "Bearer x",
        "Bearer " + "a" * 5000,
        "Basic Zm9vOmJhcg==",
        "Bearer",
        "bearer abcdefghijklmnopqrstuvwxyz",
        "Bearer tok\u00e9n-with-latin1",
    ],
    ids=["unknown", "short", "long", "basic", "empty", "lowercase", "non-ascii"],
)
def test_bad_bearer_tokens_are_401(env: Env, header: str) -> None:
    r = env.http.get("/v1/statements", headers={"Authorization": header.encode("latin-1")})
    assert r.status_code == 401
    assert r.json()["error"]["code"].startswith("unauthorized")


def test_logout_revokes_the_token(env: Env) -> None:
    auth = login(env.http, "gin", env.story.actors["gin"].key)
    assert env.http.get("/v1/auth/whoami", headers=auth).status_code == 200
    assert env.http.delete("/v1/auth/token", headers=auth).status_code == 204
    r = env.http.get("/v1/auth/whoami", headers=auth)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.invalid_token"


def test_tokens_are_stored_only_as_hashes(env: Env) -> None:
    auth = login(env.http, "mill", env.story.actors["mill"].key)
    token = auth["Authorization"].split()[1]
    engine = create_engine(Home(env.home.path).db_url)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text("SELECT * FROM api_tokens"))]
    engine.dispose()
    flat = repr(rows)
    assert token not in flat
    assert hashlib.sha256(token.encode()).hexdigest() in flat


def test_revoked_key_loses_its_token_and_cannot_log_in(env: Env) -> None:
    mill2 = env.story.actors["mill2"]
    auth = login(env.http, "mill2", mill2.key)
    revoke = build_statement(
        "revoke",
        "revoke-mill2-1",
        "mill2",
        env.story.clock + timedelta(hours=1),
        party="mill2",
        public_key=b64encode(mill2.key.public_key),
        reason="compromised",
    )
    r = env.http.post(
        "/v1/entries", content=sign_envelope(revoke, [mill2.key]).to_json(), headers=JSON
    )
    assert r.status_code == 201, r.text
    r = env.http.get("/v1/auth/whoami", headers=auth)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.key_revoked"
    r = _token(env, token_request(env.http, "mill2", mill2.key))
    assert r.status_code == 401


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Story]]:
    home = Home(tmp_path_factory.mktemp("ttl") / "home")
    new_home(home, origin="custody.ttl/ledger")
    story = Story(home)
    story.party("farm", "Farm", "US")
    env = {"CUSTODY_API_TOKEN_TTL": "1", "CUSTODY_API_CHALLENGE_TTL": "1"}
    with Server(home.path, env=env) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        submit_all(http, story.envelopes)
        yield http, story


def test_expired_token_is_refused(short_lived: tuple[httpx.Client, Story]) -> None:
    http, story = short_lived
    auth = login(http, "farm", story.actors["farm"].key)
    time.sleep(1.3)
    r = http.get("/v1/auth/whoami", headers=auth)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.invalid_token"


def test_expired_challenge_is_refused(short_lived: tuple[httpx.Client, Story]) -> None:
    http, story = short_lived
    body = token_request(http, "farm", story.actors["farm"].key)
    time.sleep(1.3)
    r = http.post("/v1/auth/token", json=body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.challenge"


def test_origin_example_statement_is_valid(tmp_path: Path) -> None:
    """The helper statements above are well-formed (guards the fixtures)."""
    payload = build_statement(
        "origin",
        "o-1",
        "farm",
        "2026-03-01T10:00:00Z",
        lot={"id": "farm/x", "material": "cotton.seed", "quantity": Decimal(1), "unit": "kg"},
        site={"name": "F", "country": "US"},
    )
    assert payload.startswith(b"{")
