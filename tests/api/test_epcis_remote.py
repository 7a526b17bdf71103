"""``custody epcis import --server``: events mapped and signed locally, submitted to a
real server; a second import appends nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.support import Server
from tests.cli.support import Cli

DOC = Path(__file__).resolve().parents[1] / "data" / "epcis" / "chains" / "cotton.jsonld"


def test_import_through_a_server(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.run("init", "--origin", "example.org/custody")
    for pid, gln in (("farm", "0614141000005"), ("gin", "0614141000012")):
        cli.keys(pid)
        cli.register(pid, pid.title(), "US", "--role", "supplier", "--gln", gln)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"parties": {"0614141000012": "gin"}}))
    with Server(cli.home) as srv:
        remote = ("--server", srv.url, "--json")

        def run(party: str, *extra: str, code: int = 0) -> list[dict]:
            proc = cli.run(
                "epcis", "import", str(DOC), "--key", f"{party}.key", "--party", party,
                *extra, *remote, home=False, code=code,
            )  # fmt: skip
            return json.loads(proc.stdout)

        farm = run("farm", "--mapping", str(mapping))
        assert [sorted(r) for r in farm[:2]] == [["digest", "event", "id", "seq"]] * 2
        assert [r.get("skipped") for r in farm[2:]] == ["performed by gin"] * 3
        gin = run("gin", code=1)
        assert "seq" in gin[2]
        assert "seq" in gin[3]
        assert gin[4]["error"]["code"] == "invalid_epcis.unsupported"
        again = run("farm", "--mapping", str(mapping))
        assert [(r["seq"], r.get("duplicate")) for r in again[:2]] == [
            (farm[0]["seq"], True),
            (farm[1]["seq"], True),
        ]
