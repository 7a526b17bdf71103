"""The verify endpoint's document profile (``?profile=``): the default CBP profile,
a shipped profile by name, and refusals (unknown names, anything like a path)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Limits, Settings
from ledger.home import Home
from tests.api.support import SUBJECT, cotton_story


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, Any]:
    home = Home(tmp_path_factory.mktemp("profiles") / "home")
    ledger, _ = home.init(origin="custody.profiles/ledger")
    story = cotton_story(home)
    for res in ledger.submit(story.envelopes):
        assert res.error is None, res.error
    ledger.store.close()
    app = create_app(Settings(home=home.path, limits=Limits(submit_rate=0, auth_rate=0)))
    token, _ = app.state.services.tokens.issue("importer", story.actors["importer"].key.kid, 600)
    return app, {"Authorization": f"Bearer {token}"}


def verify(client: tuple[FastAPI, Any], query: str = "") -> httpx.Response:
    app, headers = client

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
            return await c.get(f"/v1/lots/{SUBJECT}/verify{query}", headers=headers)

    return asyncio.run(get())


def test_default_profile_asks_for_the_documents(client: tuple[FastAPI, Any]):
    r = verify(client)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["verdict"], doc["profile"]) == ("incomplete", "cbp-uflpa")
    assert {f["rule"] for f in doc["findings"] if f["severity"] == "gap"} == {"EVIDENCE"}
    assert {row["kind"] for row in doc["documents"]["rows"]} == {"handoff", "transform"}


def test_custody_only_by_name(client: tuple[FastAPI, Any]):
    doc = verify(client, "?profile=custody-only").json()
    assert (doc["verdict"], doc["profile"]) == ("pass", "custody-only")


@pytest.mark.parametrize(
    ("query", "status"), [("?profile=nope", 400), ("?profile=../../etc/passwd", 422)]
)
def test_unknown_profiles_and_paths_are_refused(
    client: tuple[FastAPI, Any], query: str, status: int
):
    r = verify(client, query)
    assert r.status_code == status, r.text
