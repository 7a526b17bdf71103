"""``custody serve`` runs uvicorn on the C HTTP parser and uvloop (pinned dependencies),
and on the pure-Python ones where those are missing."""

from __future__ import annotations

import pytest

from cli import server_cmds


def test_serve_uses_httptools_and_uvloop() -> None:
    assert server_cmds.fast_io() == ("httptools", "uvloop")


def test_serve_falls_back_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_cmds, "find_spec", lambda name: None)
    assert server_cmds.fast_io() == ("h11", "asyncio")
