"""``POST /v1/entries`` served without FastAPI's routing (``api.ingestfront``) answers
exactly as the route does: the same status, body and headers for acceptances,
duplicates and every refusal, and the body limit still comes first."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from tests.support import World, q, site


def _answer(resp: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in resp.headers.items() if k != "date")
    return resp.status_code, resp.content, headers


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_front_answers_exactly_as_the_route(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.ingestfront import IngestFront
    from api.settings import Limits, Settings

    world = World(tmp_path / "home")
    farm = world.party("farm")
    stranger = world.party("stranger")
    world.close()

    @functools.cache
    def origin(n: int, signer: Any = None) -> bytes:  # once: the clock moves on
        return (
            farm.envelope(
                "origin",
                id=f"o/{n}",
                signers=[signer] if signer is not None else None,
                lot={"id": f"lot-{n}", "material": "cotton.seed", "quantity": q(100), "unit": "kg"},
                site=site(),
            )
            .to_json()
            .encode()
        )

    settings = Settings(home=tmp_path / "home", limits=Limits(submit_rate=0, auth_rate=0))
    fast = create_app(settings)
    plain = create_app(settings)  # the same ledger, through the FastAPI route
    assert any(m.cls is IngestFront for m in fast.user_middleware)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not IngestFront]
    json = {"content-type": "application/json"}
    with TestClient(fast) as a, TestClient(plain) as b:
        first = a.post("/v1/entries", content=origin(1), headers=json)
        assert first.status_code == 201
        assert first.headers["location"] == f"/v1/entries/{first.json()['seq']}"
        again_fast = a.post("/v1/entries", content=origin(1), headers=json)
        again_plain = b.post("/v1/entries", content=origin(1), headers=json)
        assert again_fast.status_code == 200
        assert _answer(again_fast) == _answer(again_plain)

        second = b.post("/v1/entries", content=origin(2), headers=json)
        third = a.post("/v1/entries", content=origin(3), headers=json)
        assert (second.status_code, third.status_code) == (201, 201)
        assert third.json()["seq"] == second.json()["seq"] + 1
        assert sorted(third.headers) == sorted(second.headers)

        big = b"[" + b" " * (2 << 20) + b"]"
        refusals: list[tuple[bytes, dict[str, str]]] = [
            (b"{not json", json),
            (b"", json),
            (b"   ", json),
            (b"[]", json),
            (b'{"payload": 1}', json),
            (b"\xff\xfe", json),
            (origin(4), {"content-type": "text/plain"}),
            (origin(5), {"content-type": "application/json; charset=utf-8", "x": "y"}),
            (origin(6, signer=stranger.key), json),  # signed by someone else: refused
            (big, json),  # over the body limit
        ]
        for body, headers in refusals:
            got = a.post("/v1/entries", content=body, headers=headers)
            want = b.post("/v1/entries", content=body, headers=headers)
            if body == origin(5):  # accepted by the first, a duplicate for the second
                assert (got.status_code, want.status_code) == (201, 200)
                continue
            assert _answer(got) == _answer(want), body[:40]
            assert got.status_code >= 400
        assert a.post("/v1/entries", content=big, headers=json).json()["error"]["code"] == (
            "too_large.body"
        )
        for method, path in (
            ("GET", "/v1/entries"),
            ("PUT", "/v1/entries"),
            ("POST", "/v1/entries/"),
        ):
            got, want = a.request(method, path), b.request(method, path)
            assert (got.status_code, got.content) == (want.status_code, want.content)
