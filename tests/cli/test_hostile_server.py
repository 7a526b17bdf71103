"""A hostile or broken server behind ``--server``: the CLI reads its answers with the
one strict JSON reader, so deep, duplicate-key or NaN JSON is a clean ``server``
error (exit 1, one line or a ``--json`` error object), never a traceback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.support import Cli

BODIES = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "duplicate": b'{"seq": 0, "seq": 1, "size": 1, "proof": []}',
    "nan": b'{"seq": NaN}',
    "deep-error": b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


class Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        kind = self.server.kind  # type: ignore[attr-defined]
        body = BODIES[kind]
        self.send_response(500 if kind == "deep-error" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_bad_json_from_the_server_is_a_clean_error(
    tmp_path: Path, server: ThreadingHTTPServer, kind: str
) -> None:
    server.kind = kind  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{server.server_address[1]}"
    cli = Cli(tmp_path)
    proc = cli.run("ledger", "prove", "--seq", "0", "--server", url, "--json", code=1, home=False)
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["code"] == "server"
    proc = cli.run("ledger", "prove", "--seq", "0", "--server", url, code=1, home=False)
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr
