"""Deep, duplicate-key and NaN JSON bodies to every POST endpoint of a real server:
a 400 with a stable code from the one strict reader (``ledger.strictjson``), never a
500 or a traceback (issue 10, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.home import Home
from tests.api.support import JSON, Server, new_home

# under the smallest body limit (64 KiB, the login endpoints) and far over the
# interpreter's recursion limit; the envelope endpoints also get 100,000 levels
DEEP_BODIES = {
    "30000 arrays": b"[" * 30_000 + b"]" * 30_000,
    "10000 objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "unclosed 60000": b"[" * 60_000,
    "65 levels": b"[" * 65 + b"]" * 65,
}
CODES = {
    "/v1/entries": "invalid_envelope.json",
    "/v1/entries/batch": "invalid_envelope.json",
    "/v1/auth/challenge": "invalid_input.json",
    "/v1/auth/token": "invalid_input.json",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = new_home(Home(Path(tmp_path_factory.mktemp("deep")) / "home"), "custody.deep/ledger")
    with Server(home.path) as srv:
        yield srv
    assert "Traceback" not in srv.output(), srv.output()


def test_every_post_endpoint_is_covered(server: Server) -> None:
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    posts = {path for path, ops in spec["paths"].items() if "post" in ops}
    assert posts == set(CODES)


@pytest.mark.parametrize("path", sorted(CODES))
@pytest.mark.parametrize("label", sorted(DEEP_BODIES))
def test_deep_body_is_a_clean_400(server: Server, path: str, label: str) -> None:
    r = httpx.post(server.url + path, content=DEEP_BODIES[label], headers=JSON, timeout=60)
    assert r.status_code == 400, r.text[:300]
    err = r.json()["error"]
    assert err["code"] == CODES[path]
    reasons = {"depth", "syntax"} if label.startswith("unclosed") else {"depth"}
    assert err["details"]["reason"] in reasons, err


@pytest.mark.parametrize("path", ["/v1/entries", "/v1/entries/batch"])
def test_100000_levels_to_the_envelope_endpoints(server: Server, path: str) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    r = httpx.post(server.url + path, content=body, headers=JSON, timeout=60)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["code"] == "invalid_envelope.json"
    assert r.json()["error"]["details"]["reason"] == "depth"


@pytest.mark.parametrize("path", sorted(CODES))
def test_duplicate_keys_and_nan_are_refused(server: Server, path: str) -> None:
    for body, reason in (
        (b'{"party": "farm", "party": "gin", "kid": "' + b"0" * 64 + b'"}', "duplicate_key"),
        (b'{"party": "farm", "kid": NaN}', "constant"),
    ):
        r = httpx.post(server.url + path, content=body, headers=JSON, timeout=60)
        assert r.status_code == 400, r.text[:300]
        err = r.json()["error"]
        assert (err["code"], err["details"]["reason"]) == (CODES[path], reason)


def test_deep_lines_of_a_batch_fail_alone(server: Server) -> None:
    lines = b"\n".join([b"[" * 100_000 + b"]" * 100_000, b"{}", b'{"a":' * 70 + b"}" * 70])
    r = httpx.post(
        server.url + "/v1/entries/batch",
        content=lines,
        headers={"Content-Type": "application/x-ndjson"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:300]
    codes = [item["error"]["code"] for item in r.json()["results"]]
    assert codes == ["invalid_envelope.json", "invalid_envelope.missing", "invalid_envelope.json"]
