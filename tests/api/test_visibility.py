"""Who sees what (SPEC §9), table-driven, against a real server.

Roles: ``farm`` (a supplier upstream of the importer's goods), ``farm2`` (a
supplier on another chain), ``importer``, ``cbp`` (an auditor) and anonymous.
``spinner2`` is the importer's competitor: it bought part of the same gin lot,
so its draw on that lot is part of the importer's provenance (double-spending
is checked), but its own business downstream is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ledger.home import Home
from ledger.statements import statement_digest
from tests.api.support import (
    JSON,
    SUBJECT,
    Server,
    Story,
    cotton_story,
    login,
    new_home,
    submit_all,
)

ROLES = ("farm", "farm2", "importer", "cbp", "anonymous")


@dataclass
class Env:
    http: httpx.Client
    story: Story
    seqs: dict[str, int]  # mark -> seq
    headers: dict[str, dict[str, str]]  # role -> auth headers
    size: int


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("visibility")
    home = Home(tmp / "home")
    new_home(home, origin="custody.visibility/ledger")
    story = cotton_story(home)
    with Server(home.path) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        results = submit_all(http, story.envelopes)
        by_digest = {r["digest"]: r["seq"] for r in results}
        seqs = {m: by_digest[statement_digest(e.payload)] for m, e in story.marks.items()}
        headers = {r: login(http, r, story.actors[r].key) for r in ROLES if r != "anonymous"}
        headers["anonymous"] = {}
        yield Env(http, story, seqs, headers, len(story.envelopes) + 1)


def _entry(mark: str) -> Callable[[Env], str]:
    return lambda e: f"/v1/entries/{e.seqs[mark]}"


def _by_digest(mark: str) -> Callable[[Env], str]:
    return lambda e: f"/v1/entries/by-digest/{statement_digest(e.story.marks[mark].payload)}"


def _fixed(path: str) -> Callable[[Env], str]:
    return lambda e: path


A, D, U, N = 200, 403, 401, 404  # allowed, denied, unauthenticated, not found
ALL = (A, A, A, A, A)
PRIVATE = (D, D, A, A, U)  # the importer's own business
MISSING = (D, D, D, N, U)  # the same 403 as for existing things

# label, path, expected status as: farm, farm2, importer, cbp, anonymous
MATRIX: list[tuple[str, Callable[[Env], str], tuple[int, ...]]] = [
    ("checkpoint", _fixed("/v1/checkpoint"), ALL),
    ("verifier key", _fixed("/v1/key"), ALL),
    ("inclusion proof", lambda e: f"/v1/proofs/inclusion?seq={e.seqs['import']}", ALL),
    ("consistency proof", _fixed("/v1/proofs/consistency?from=1"), ALL),
    ("health", _fixed("/v1/health"), ALL),
    ("version", _fixed("/v1/version"), ALL),
    ("whoami", _fixed("/v1/auth/whoami"), (A, A, A, A, U)),
    ("statements", _fixed("/v1/statements"), (A, A, A, A, U)),
    ("entry: farm's origin", _entry("farm-origin"), (A, D, A, A, U)),
    ("entry: gin draws farm's lot", _entry("ginning"), (A, D, A, A, U)),
    ("entry: the import", _entry("import"), PRIVATE),
    ("entry: the import by digest", _by_digest("import"), PRIVATE),
    ("entry: other chain's origin", _entry("farm2-origin"), (D, A, D, A, U)),
    ("entry: competitor's downstream", _entry("competitor-yarn"), (D, D, D, A, U)),
    ("entry: gin sells to competitor", _entry("lint-to-competitor"), (D, D, A, A, U)),
    ("entry: importer's registration", _entry("party/importer"), (D, D, A, A, U)),
    ("entry: missing seq", _fixed("/v1/entries/99999"), MISSING),
    ("entry: missing digest", _fixed("/v1/entries/by-digest/sha256:" + "ab" * 32), MISSING),
    ("lot state: farm's lot", _fixed("/v1/lots/farm/seed-1"), (A, D, A, A, U)),
    ("lot state: subject", _fixed(f"/v1/lots/{SUBJECT}"), PRIVATE),
    ("lot state: other chain", _fixed("/v1/lots/farm2/seed-7"), (D, A, D, A, U)),
    ("lot state: missing", _fixed("/v1/lots/nobody/nothing-1"), MISSING),
    ("trace: subject", _fixed(f"/v1/lots/{SUBJECT}/trace"), PRIVATE),
    ("trace: upstream lint", _fixed("/v1/lots/gin/lint-1/trace"), PRIVATE),
    ("trace: competitor's yarn", _fixed("/v1/lots/spinner2/yarn-9/trace"), (D, D, D, A, U)),
    ("trace: other chain", _fixed("/v1/lots/farm2/seed-7/trace"), (D, A, D, A, U)),
    ("trace: downstream of farm2", _fixed("/v1/lots/gin2/lint-7/trace"), (D, D, D, A, U)),
    ("trace: downstream of farm", _fixed("/v1/lots/gin/lint-1/trace"), PRIVATE),
    ("trace: missing", _fixed("/v1/lots/nobody/nothing-1/trace"), MISSING),
    ("verify: subject", _fixed(f"/v1/lots/{SUBJECT}/verify"), PRIVATE),
    ("verify: farm's own lot", _fixed("/v1/lots/farm/seed-1/verify"), (A, D, A, A, U)),
    ("verify: competitor's yarn", _fixed("/v1/lots/spinner2/yarn-9/verify"), (D, D, D, A, U)),
    ("verify: missing", _fixed("/v1/lots/nobody/nothing-1/verify"), MISSING),
    ("bundle: subject", _fixed(f"/v1/lots/{SUBJECT}/bundle"), PRIVATE),
    ("bundle: other chain", _fixed("/v1/lots/farm2/seed-7/bundle"), (D, A, D, A, U)),
    ("bundle: missing", _fixed("/v1/lots/nobody/nothing-1/bundle"), MISSING),
]

CASES = [
    pytest.param(label, path, role, expected[i], id=f"{label} as {role}")
    for label, path, expected in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("label", "path", "role", "status"), CASES)
def test_matrix(env: Env, label: str, path: Callable[[Env], str], role: str, status: int) -> None:
    r = env.http.get(path(env), headers=env.headers[role])
    assert r.status_code == status, f"{label} as {role}: {r.status_code} {r.text[:300]}"
    if status >= 400:
        err = r.json()["error"]
        expected = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
        assert err["code"].split(".")[0] == expected
        if status == 403:
            assert err["code"] == "forbidden.not_visible"
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")


def _normalised(body: dict[str, object]) -> str:
    return re.sub(r"(entry \d+|statement sha256:[0-9a-f]+|lot '[^']*')", "X", json.dumps(body))


@pytest.mark.parametrize(
    ("forbidden", "missing"),
    [
        ("/v1/entries/{import}", "/v1/entries/99999"),
        (f"/v1/lots/{SUBJECT}/verify", "/v1/lots/nobody/nothing-1/verify"),
        (f"/v1/lots/{SUBJECT}", "/v1/lots/nobody/nothing-1"),
    ],
    ids=["entry", "verify", "lot state"],
)
def test_denial_does_not_reveal_existence(env: Env, forbidden: str, missing: str) -> None:
    forbidden = forbidden.replace("{import}", str(env.seqs["import"]))
    a = env.http.get(forbidden, headers=env.headers["farm2"])
    b = env.http.get(missing, headers=env.headers["farm2"])
    assert a.status_code == b.status_code == 403
    assert _normalised(a.json()) == _normalised(b.json())
    assert set(a.headers) == set(b.headers)


def _listed(env: Env, role: str, **params: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        q = dict(params, limit="7")
        if cursor:
            q["cursor"] = cursor
        r = env.http.get("/v1/statements", params=q, headers=env.headers[role])
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_statement_listing_per_role(env: Env) -> None:
    seqs = {role: {int(str(i["seq"])) for i in _listed(env, role)} for role in ROLES[:4]}
    assert seqs["cbp"] == set(range(env.size))
    s = env.seqs
    assert s["import"] in seqs["importer"]
    assert s["farm-origin"] in seqs["importer"]
    assert s["farm-origin"] in seqs["farm"]
    assert s["import"] not in seqs["farm"]
    assert s["import"] not in seqs["farm2"]
    assert s["farm2-origin"] in seqs["farm2"]
    assert s["farm2-origin"] not in seqs["importer"]
    assert s["competitor-yarn"] not in seqs["importer"] | seqs["farm"] | seqs["farm2"]
    # everything a party lists, it may also read one by one
    for role in ("farm", "importer"):
        for seq in sorted(seqs[role])[:40]:
            r = env.http.get(f"/v1/entries/{seq}", headers=env.headers[role])
            assert r.status_code == 200, (role, seq)


def test_statement_filters(env: Env) -> None:
    dispatches = _listed(env, "cbp", type="dispatch")
    assert dispatches
    assert all(i["type"] == "dispatch" for i in dispatches)
    by_gin = _listed(env, "cbp", issuer="gin")
    assert by_gin
    assert all(i["issuer"] == "gin" for i in by_gin)
    on_lint = _listed(env, "importer", lot="gin/lint-1")
    assert {i["type"] for i in on_lint} >= {"transform", "dispatch", "receipt"}
    assert all(
        i["type"] == "receipt" or "gin/lint-1" in json.dumps(i["statement"]) for i in on_lint
    )
    assert _listed(env, "importer", issuer="farm2") == []
    everything = _listed(env, "cbp")
    cut = str(everything[5]["received_at"])
    later = _listed(env, "cbp", since=cut[:19] + "Z")
    assert later
    assert all(str(i["received_at"]) >= cut[:19] for i in later)
    earlier = _listed(env, "cbp", until=cut[:19] + "Z")
    assert len(earlier) + len(later) == len(everything)


def test_statements_keep_exact_numbers(env: Env) -> None:
    item = _listed(env, "farm", type="origin")[0]
    raw = env.http.get(f"/v1/entries/{item['seq']}", headers=env.headers["farm"]).json()
    import base64

    assert item["statement"] == json.loads(base64.b64decode(raw["envelope"]["payload"]))


def test_anyone_may_submit(env: Env) -> None:
    envelope = env.story.marks["farm-origin"]
    r = env.http.post("/v1/entries", content=envelope.to_json(), headers=JSON)
    assert r.status_code == 200
    assert r.json()["duplicate"] is True


def test_auditor_lists_in_ledger_order_without_gaps(env: Env, tmp_path: Path) -> None:
    items = _listed(env, "cbp")
    assert [i["seq"] for i in items] == list(range(env.size))
