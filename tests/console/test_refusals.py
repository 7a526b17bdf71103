"""Expected refusals over plain HTTP, as the console's own scripts and a browser see them:
typed 200 results for the scripts, refusal pages without an error status for a browser,
and the API's status codes for every other client (``docs/console.md``)."""

from __future__ import annotations

from typing import Any

import httpx

from ledger.home import Home
from ledger.keys import PrivateKey, load_private_key
from tests.api.support import SUBJECT
from tests.console.support import OPEN, csrf_of, http_sign_in


def _key(world: dict[str, Any], party: str) -> PrivateKey:
    return load_private_key(world["keys"] / f"{party}.key")


TYPED = {"X-Custody-Result": "typed"}
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def test_expected_refusals_are_typed_results_for_the_console_scripts(
    world: dict[str, Any],
) -> None:
    """The console's scripts ask for typed results: a refusal is a 200 with
    ``{"ok": false, "status", "error": {code, message, field, details}}`` (a browser logs no
    error); without asking, and under ``/v1``, the statuses are the API's."""
    url = world["server"].url
    stranger = PrivateKey.generate()
    http = httpx.Client(base_url=url, headers={"Origin": url})
    OPEN.append(http)
    r = http.post("/session/challenge", json={"kid": stranger.kid}, headers=TYPED)
    assert r.status_code == 200
    assert r.headers["x-custody-status"] == "401"
    body = r.json()
    assert body["ok"] is False
    assert body["status"] == 401
    assert body["error"]["code"] == "unauthorized.unknown_key"
    assert "not registered" in body["error"]["message"]
    assert http.post("/session/challenge", json={"kid": stranger.kid}).status_code == 401

    held, party = _held_lot(world)
    key = _key(world, party)
    session, _ = http_sign_in(url, key)
    csrf = {"X-CSRF-Token": csrf_of(session)}
    form = {
        "type": "origin",
        "lot": "x",
        "material": "cotton.seed",
        "quantity": "abc",
        "unit": "kg",
    }
    r = session.post("/attest/build", json=form, headers={**csrf, **TYPED})
    assert r.status_code == 200
    assert r.json()["ok"] is False
    assert r.json()["error"]["field"] == "quantity"

    form = {
        "type": "dispatch",
        "lot": held,
        "quantity": "999999999",
        "unit": "kg",
        "to": "importer" if party != "importer" else "farm",
    }
    built = session.post("/attest/build", json=form, headers=csrf).json()
    import base64

    from ledger.envelope import sign_envelope

    env = sign_envelope(base64.b64decode(built["payload"]), [key]).to_json()
    json_type = {"Content-Type": "application/json"}
    r = session.post("/attest/submit", content=env, headers={**csrf, **TYPED, **json_type})
    assert r.status_code == 200
    err = r.json()["error"]
    assert r.json()["status"] == 409
    assert err["code"] == "rejected.overdraw"
    assert err["details"]["lot"] == held
    assert {"held", "drawn"} <= set(err["details"])
    r = session.post("/attest/submit", content=env, headers={**csrf, **json_type})
    assert r.status_code == 409
    r = session.post("/attest/submit", content=env, headers={**TYPED, **json_type})
    assert r.json()["error"]["code"] == "forbidden.csrf"  # CSRF-protected like every form
    r = httpx.post(url + "/v1/entries", content=env, headers={**TYPED, **json_type})
    assert r.status_code == 409  # /v1 keeps its status codes

    zipped = {"Content-Type": "application/zip", "Origin": url, **TYPED}
    r = httpx.post(url + "/bundles/verify", content=b"PK", headers=zipped)
    assert r.status_code == 200
    assert r.json()["error"]["field"] == "operator_key"


def test_a_refused_page_is_shown_to_a_browser_without_an_error_status(
    world: dict[str, Any],
) -> None:
    """A browser opening another party's page gets the refusal page as a 200 (the real
    status in ``X-Custody-Status``); any other client gets the 403."""
    url = world["server"].url
    rival, _ = http_sign_in(url, _key(world, "farm2"))
    r = rival.get("/lots/" + SUBJECT, headers=NAVIGATE)
    assert r.status_code == 200
    assert r.headers["x-custody-status"] == "403"
    assert "not visible to farm2" in r.text
    r = rival.get("/exports/" + "0" * 32 + ".zip", headers=NAVIGATE)
    assert (r.status_code, r.headers["x-custody-status"]) == (200, "404")
    assert rival.get("/exports/" + "0" * 32 + ".zip").status_code == 404
    assert rival.get("/lots/" + SUBJECT).status_code == 403


def _held_lot(world: dict[str, Any]) -> tuple[str, str]:
    home: Home = world["home"]
    ledger = home.open(with_key=False)
    try:
        with ledger.store.read() as r:
            return next(
                (lot, p)
                for (lot, p), qty in sorted(r.all_holdings().items())
                if qty > 0 and (world["keys"] / f"{p}.key").exists()
            )
    finally:
        ledger.store.close()
