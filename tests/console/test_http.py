"""The console over plain HTTP against a real `custody serve`: security headers, the
sign-in steps and their refusals, CSRF, the statement builder's field errors, the
refusals the forms rely on, visibility, the auditor endpoint, exports on PostgreSQL.

(The browser walks the same pages in ``test_story.py``.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.home import Home
from ledger.keys import PrivateKey, load_private_key
from tests.api.support import (
    ENTRY_NUMBER,
    SUBJECT,
    Server,
    cotton_story,
    new_home,
    submit_all,
)
from tests.console.support import OPEN, csrf_of, http_sign_in

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _key(world: dict[str, Any], party: str) -> PrivateKey:
    return load_private_key(world["keys"] / f"{party}.key")


def test_console_pages_have_a_strict_csp_and_no_inline_script(world: dict[str, Any]) -> None:
    url = world["server"].url
    http, r = http_sign_in(url, _key(world, "importer"))
    assert r.status_code == 200, r.text
    pages = ["/home", "/attest", "/lots/" + SUBJECT, "/bundles/verify", "/lots?q=" + ENTRY_NUMBER]
    for path in pages:
        resp = http.get(path, follow_redirects=True)
        assert resp.status_code == 200, (path, resp.text[:300])
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert not INLINE_SCRIPT.search(resp.text), path
        assert " style=" not in resp.text, path
        assert " on" + "click=" not in resp.text.lower()
    assert "content-security-policy" not in http.get("/v1/health").headers


def test_session_cookie_is_httponly_strict_and_sign_out_ends_it(world: dict[str, Any]) -> None:
    http, r = http_sign_in(world["server"].url, _key(world, "farm"))
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert r.json()["party"] == "farm"
    assert "token" not in r.json()
    assert "Signed in as" in http.get("/home").text
    token = csrf_of(http)
    assert http.post("/session/sign-out", json={}, headers={"X-CSRF-Token": token}).is_success
    # the old cookie no longer opens anything, even replayed
    replay = httpx.Client(base_url=world["server"].url, cookies=dict(http.cookies))
    OPEN.append(replay)
    assert replay.get("/home").status_code in (303, 307) or "Sign in" in replay.get("/home").text


def test_unknown_and_revoked_keys_are_told_plainly(world: dict[str, Any]) -> None:
    url = world["server"].url
    _, r = http_sign_in(url, PrivateKey.generate())
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.unknown_key"
    assert "not registered" in r.json()["error"]["message"]
    # the operator revokes the lab's key; the lab can no longer sign in
    story = world["story"]
    lab = _key(world, "lab")
    session, r = http_sign_in(url, lab)
    assert r.status_code == 200
    env = story.say(
        story.operator, "revoke", party="lab", public_key=lab.public_key_b64, reason="compromised"
    )
    with httpx.Client(base_url=url) as http:
        submit_all(http, [env])
    # the open session ends at once, and the page says why and where it was
    gone = session.get("/attest")
    assert gone.status_code == 303
    assert gone.headers["location"] == "/?m=revoked&next=%2Fattest"
    assert "has been revoked" in session.get("/?m=revoked").text
    _, r = http_sign_in(url, lab)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized.key_revoked"
    assert "revoked" in r.json()["error"]["message"]


def test_state_changes_need_the_csrf_token_and_this_origin(world: dict[str, Any]) -> None:
    url = world["server"].url
    http, _ = http_sign_in(url, _key(world, "farm"))
    form = {"type": "dispatch", "lot": "farm/seed-1", "quantity": "1", "unit": "kg", "to": "gin"}
    r = http.post("/attest/build", json=form)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden.csrf"
    token = csrf_of(http)
    r = http.post("/attest/build", json=form, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = http.post(
        "/attest/build", json=form, headers={"X-CSRF-Token": token, "Origin": "http://evil.test"}
    )
    assert r.status_code == 403
    r = http.post("/attest/build", json=form, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    assert "dispatch of 1 kg of lot farm/seed-1 to gin" in r.json()["plain"]
    r = http.post(
        "/exports",
        content=f"lot={SUBJECT}&csrf=bad",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {
                "type": "origin",
                "lot": "farm/x",
                "material": "cotton.seed",
                "quantity": "lots",
                "unit": "kg",
                "site_name": "F",
                "country": "US",
            },
            "quantity",
        ),
        (
            {
                "type": "origin",
                "lot": "farm/x",
                "material": "cotton.seed",
                "quantity": "5",
                "unit": "kg",
                "site_name": "F",
                "country": "USA",
            },
            "country",
        ),
        (
            {
                "type": "origin",
                "lot": "farm/x",
                "material": "cotton.seed",
                "quantity": "5",
                "unit": "bushel",
                "site_name": "F",
                "country": "US",
            },
            "unit",
        ),
        ({"type": "dispatch", "lot": "farm/seed-1", "quantity": "5", "unit": "kg", "to": ""}, "to"),
        (
            {
                "type": "transform",
                "process": "p",
                "site_name": "s",
                "country": "US",
                "in_lot_0": "farm/seed-1",
                "in_qty_0": "-3",
                "in_unit_0": "kg",
                "out_lot_0": "o",
                "out_material_0": "m",
                "out_qty_0": "1",
                "out_unit_0": "kg",
            },
            "in_qty_0",
        ),
        ({"type": "party", "party_id": "x"}, None),
    ],
    ids=[
        "quantity-not-a-number",
        "country-not-iso",
        "unknown-unit",
        "no-addressee",
        "negative-input",
        "party-by-a-supplier",
    ],
)
def test_the_builder_names_the_form_field(
    world: dict[str, Any], form: dict[str, str], field: str | None
) -> None:
    http, _ = http_sign_in(world["server"].url, _key(world, "farm"))
    r = http.post("/attest/build", json=form, headers={"X-CSRF-Token": csrf_of(http)})
    if field is None:
        assert r.status_code == 403
        return
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["details"]["form_field"] == field


def test_an_over_dispatch_is_refused_with_what_the_form_shows(world: dict[str, Any]) -> None:
    """The refusal carries the lot, what is held and what was drawn (the form words it)."""
    url = world["server"].url
    home: Home = world["home"]
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            lot, party = next(
                (lot, p)
                for (lot, p), qty in sorted(r.all_holdings().items())
                if qty > 0 and (world["keys"] / f"{p}.key").exists()
            )
    finally:
        ledger.store.close()
    key = _key(world, party)
    http, _ = http_sign_in(url, key)
    form = {
        "type": "dispatch",
        "lot": lot,
        "quantity": "999999999",
        "unit": "kg",
        "to": "importer" if party != "importer" else "farm",
    }
    built = http.post("/attest/build", json=form, headers={"X-CSRF-Token": csrf_of(http)}).json()
    import base64

    from ledger.envelope import sign_envelope

    env = sign_envelope(base64.b64decode(built["payload"]), [key])
    r = httpx.post(
        url + "/v1/entries", content=env.to_json(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "rejected.overdraw"
    assert err["details"]["lot"] == lot
    assert {"held", "drawn"} <= set(err["details"])


def test_other_parties_pages_are_refused_by_url(world: dict[str, Any]) -> None:
    url = world["server"].url
    rival, _ = http_sign_in(url, _key(world, "farm2"))
    assert rival.get("/lots/" + SUBJECT).status_code == 403
    assert "not visible to farm2" in rival.get("/lots/" + SUBJECT).text
    assert rival.get("/operator").status_code == 403
    digest = world["story"].marks["import"].payload
    from ledger.statements import statement_digest

    assert rival.get("/statements/" + statement_digest(digest)).status_code == 403
    anonymous = httpx.Client(base_url=url)
    OPEN.append(anonymous)
    assert anonymous.get("/lots/" + SUBJECT).status_code == 303
    importer, _ = http_sign_in(url, _key(world, "importer"))
    assert importer.get("/lots/" + SUBJECT).status_code == 200


def test_the_auditor_endpoint_refuses_clearly(world: dict[str, Any]) -> None:
    url = world["server"].url
    zipped = {"Content-Type": "application/zip", "Origin": url}
    r = httpx.post(url + "/bundles/verify", content=b"PK", headers=zipped)
    assert r.status_code == 400
    assert r.json()["error"]["details"]["form_field"] == "operator_key"
    r = httpx.post(
        url + "/bundles/verify", content=b"PK", headers={**zipped, "X-Operator-Key": "not a key"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["details"]["form_field"] == "operator_key"
    r = httpx.post(
        url + "/bundles/verify",
        content=b"x",
        headers={"Content-Type": "text/plain", "X-Operator-Key": "k"},
    )
    assert r.status_code == 415


def test_paths(tmp_path: Path) -> None:
    """Console URLs of lots keep their slashes and escape the rest."""
    from api.console.web import lot_path

    assert lot_path("gin/lint-1") == "/lots/gin/lint-1"
    assert lot_path("a b#c") == "/lots/a%20b%23c"


@pytest.mark.postgres
def test_exports_on_postgresql(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign in, export a bundle from the lot page and download it, on a PostgreSQL ledger."""
    from api.console.exports import ExportStore
    from api.tokens import TokenStore
    from ledger.store import Store

    monkeypatch.setenv("CUSTODY_DB_URL", pg_url)
    home = new_home(Home(tmp_path / "home"), "example.org/custody-pg")
    monkeypatch.delenv("CUSTODY_DB_URL")
    story = cotton_story(home, tmp_path / "keys")
    try:
        with Server(home.path, db_url=pg_url) as server:
            with httpx.Client(base_url=server.url) as plain:
                submit_all(plain, story.envelopes)
            http, r = http_sign_in(server.url, load_private_key(tmp_path / "keys" / "importer.key"))
            assert r.status_code == 200, r.text
            token = csrf_of(http)
            r = http.post(
                "/exports",
                content=f"lot={SUBJECT}&csrf={token}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 303, r.text
            page = http.get(r.headers["location"]).text
            link = re.search(r'href="(/exports/[0-9a-f]{32}\.zip)"', page)
            assert link, page
            zipped = http.get(link.group(1))
            assert zipped.status_code == 200
            assert zipped.content[:2] == b"PK"
    finally:
        store = Store(pg_url)
        ExportStore(store.engine, tmp_path).drop_schema()
        TokenStore(store.engine).drop_schema()
        store.close()
