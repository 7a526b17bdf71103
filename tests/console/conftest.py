"""Fixtures of the console's HTTP tests: a real `custody serve` over the cotton story of
the API tests (``tests/api/story.py``), with every party's key file on disk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.home import Home
from tests.api.support import Server, cotton_story, new_home, submit_all
from tests.console.support import OPEN


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("console-http")
    home = new_home(Home(tmp / "home"), "example.org/custody")
    story = cotton_story(home, tmp / "keys")
    server = Server(home.path).start()
    with httpx.Client(base_url=server.url) as http:
        submit_all(http, story.envelopes)
    try:
        yield {"server": server, "home": home, "keys": tmp / "keys", "story": story, "tmp": tmp}
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()
