"""``GET /v1/lots/{lot}/epcis`` and ``GET /v1/epcis/events`` against a real server:
the export validates against GS1's schema, the query filters and pages, and both
follow the API's visibility rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from ledger.home import Home
from tests.api.support import SUBJECT, Server, cotton_story, login, new_home, submit_all

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[1] / "data" / "epcis" / "schema" / "epcis-json-schema.json"
    ).read_text()
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, dict]]:
    home = Home(tmp_path_factory.mktemp("epcis-api") / "home")
    new_home(home, origin="custody.epcis/ledger")
    story = cotton_story(home)
    with Server(home.path) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        submit_all(http, story.envelopes)
        headers = {r: login(http, r, story.actors[r].key) for r in ("importer", "farm2", "cbp")}
        yield http, headers


def _valid(document: dict) -> None:
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    assert [e.message for e in validator.iter_errors(document)] == []


def test_lot_export_follows_visibility(env: tuple[httpx.Client, dict]) -> None:
    http, headers = env
    resp = http.get(f"/v1/lots/{SUBJECT}/epcis", headers=headers["importer"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/ld+json")
    document = resp.json()
    _valid(document)
    events = document["epcisBody"]["eventList"]
    assert {e["bizStep"] for e in events} >= {"commissioning", "shipping", "receiving"}
    assert all(isinstance(e["custody:seq"], int) for e in events)
    assert http.get(f"/v1/lots/{SUBJECT}/epcis", headers=headers["farm2"]).status_code == 403
    assert http.get(f"/v1/lots/{SUBJECT}/epcis").status_code == 401


def test_event_query_filters_and_pages(env: tuple[httpx.Client, dict]) -> None:
    http, headers = env
    resp = http.get("/v1/epcis/events", params={"perPage": 3}, headers=headers["cbp"])
    assert resp.status_code == 200, resp.text
    document = resp.json()
    _valid(document)
    page = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(page) == 3
    link = re.match(r'<([^>]+)>; rel="next"', resp.headers["link"])
    assert link is not None
    seen = [e["custody:seq"] for e in page]
    url = link.group(1)
    while url:
        resp = http.get(url, headers=headers["cbp"])
        seen += [
            e["custody:seq"]
            for e in resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        match = re.match(r'<([^>]+)>; rel="next"', resp.headers.get("link", ""))
        url = match.group(1) if match else ""
    assert seen == sorted(set(seen))
    everything = http.get("/v1/epcis/events", params={"perPage": 1000}, headers=headers["cbp"])
    all_events = everything.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert seen == [e["custody:seq"] for e in all_events]
    shipped = http.get(
        "/v1/epcis/events",
        params={"EQ_bizStep": "shipping", "eventType": "ObjectEvent"},
        headers=headers["cbp"],
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert shipped
    assert {e["bizStep"] for e in shipped} == {"shipping"}
    transforms = http.get(
        "/v1/epcis/events", params={"eventType": "TransformationEvent"}, headers=headers["cbp"]
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert transforms
    assert {e["type"] for e in transforms} == {"TransformationEvent"}


def test_event_query_shows_only_visible_events(env: tuple[httpx.Client, dict]) -> None:
    http, headers = env
    mine = http.get("/v1/epcis/events", params={"perPage": 1000}, headers=headers["farm2"])
    events = mine.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    everything = http.get("/v1/epcis/events", params={"perPage": 1000}, headers=headers["cbp"])
    total = everything.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert 0 < len(events) < len(total)
    statements = http.get("/v1/statements", params={"limit": 1000}, headers=headers["farm2"])
    visible = {item["seq"] for item in statements.json()["items"]}
    assert {e["custody:seq"] for e in events} <= visible
    bad = http.get("/v1/epcis/events", params={"perPage": 0}, headers=headers["cbp"])
    assert bad.status_code == 422
