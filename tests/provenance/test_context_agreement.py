"""One verification context per home (issue 11): every entry point gives the same verdict.

The home has its own ``yields.json`` (a ginning range the chain's gin falls
outside of: a YIELD warning the shipped table does not give) and its own
``screening.json`` (listing the chain's spinner: a LISTED-ENTITY error the
shipped list does not give). ``custody bundle export`` (whose ``report.json``
is the verification at export), offline ``custody bundle verify`` given the
same data files, ``custody verify`` and the API's ``/v1/lots/{lot}/verify`` on
a real ``custody serve`` must agree on the verdict, the findings, the
composition and the data versions.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from provenance.screening import shipped_path
from provenance.yields import YIELDS_FILENAME
from tests.api.support import Server, login
from tests.provenance.bundle_support import ENTRY, SUBJECT, build_chain, finding_keys, run_cli
from tests.support import World

SHIPPED_YIELDS = Path(__file__).parents[2] / "provenance" / "data" / YIELDS_FILENAME


def _home_data(home: Path) -> None:
    yields = json.loads(SHIPPED_YIELDS.read_text())
    yields["version"] = "home-yields-7"
    gin = next(p for p in yields["processes"] if p["process"] == "cotton.ginning")
    gin["min"], gin["max"] = 0.10, 0.20
    (home / YIELDS_FILENAME).write_text(json.dumps(yields))
    screening = json.loads(shipped_path().read_text())
    screening["version"] = "home-screening-3"
    entities = screening["lists"][0]["entities"]
    listed = dict(entities[0])
    listed.update(name="Carolina Spinning Inc", aliases=[], country="US", subdivision=None)
    listed = {k: v for k, v in listed.items() if v is not None and not k.startswith("aliases_zh")}
    entities.append(listed)
    (home / "screening.json").write_text(json.dumps(screening))


def _essentials(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": doc["subject"],
        "verdict": doc["verdict"],
        "findings": finding_keys(doc),
        "composition": doc["composition"],
        "untraced_share": doc["untraced_share"],
        "screening_version": doc.get("screening_version"),
        "yields_version": doc.get("yields_version"),
    }


def test_cli_bundle_verify_and_api_agree_with_the_homes_own_data(tmp_path: Path):
    world = World(tmp_path / "home")
    build_chain(world, tmp_path, xinjiang=False, external=True)
    importer = world.parties["importer"]
    home = world.home.path
    world.close()
    _home_data(home)

    cli = json.loads(run_cli("verify", SUBJECT, "--home", str(home), "--json", cwd=tmp_path).stdout)
    assert cli["yields_version"] == "home-yields-7"
    assert cli["screening_version"].startswith("home-screening-3")
    rules = {f["rule"] for f in cli["findings"]}
    assert {"YIELD", "LISTED-ENTITY", "UNTRACED"} <= rules
    assert cli["verdict"] == "fail"

    out = tmp_path / "entry.zip"
    run_cli("bundle", "export", SUBJECT, "-o", str(out), "--entry-number", ENTRY,
            "--home", str(home), cwd=tmp_path, code=0)  # fmt: skip
    with zipfile.ZipFile(out) as zf:
        at_export = json.loads(zf.read("report.json"))
    offline = json.loads(
        run_cli(
            "bundle", "verify", str(out), "--operator-key", _verifier_key(home),
            "--entry-number", ENTRY, "--yields", str(home / YIELDS_FILENAME),
            "--screening", str(home / "screening.json"), "--json", cwd=tmp_path, code=1,
        ).stdout
    )  # fmt: skip
    assert not [f for f in offline["findings"] if f["rule"] == "INTEGRITY"]

    with Server(home) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        headers = login(http, "importer", importer.key)
        r = http.get(f"/v1/lots/{quote(SUBJECT, safe='')}/verify", headers=headers)
        assert r.status_code == 200, r.text
        api = r.json()

    expected = _essentials(cli)
    assert _essentials(api) == expected
    assert _essentials(at_export) == expected
    assert _essentials(offline) == expected


def _verifier_key(home: Path) -> str:
    proc = run_cli("ledger", "key", "--home", str(home), cwd=home, code=0)
    return proc.stdout.strip()
