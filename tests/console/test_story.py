"""The whole story of the console in real headless Chromium against a real `custody serve`.

The farm signs in with its key file and attests an origin and a dispatch; the gin
receives, transforms, attaches an invoice (hashed in the browser) and dispatches,
after an over-dispatch is refused next to its quantity; the importer receives,
declares the CBP entry, finds it, sees the trace with its verdict and exports the
bundle; the auditor page verifies that bundle and refuses a tampered copy; the
operator sees the ledger and audits it. Along the way: no console error on any page,
no private key in any request, and no party opens another's private pages by URL.

Screenshots of each page go to docs/console/ (docs/console.md shows them).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.keys import PrivateKey, load_private_key
from tests.console.support import Recorder, Site, launch, shot, sign_in, start_site

pytestmark = pytest.mark.browser

ENTRY = "NMR-0001234-5"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = start_site(tmp_path_factory.mktemp("console"))
    try:
        yield s
    finally:
        s.server.stop()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    yield from launch()


def review_and_sign(form: Any) -> str:
    """Review the form, check the plain words are shown, sign; returns the result text."""
    form.get_by_role("button", name="Review").click()
    plain = form.locator(".preview .plain")
    plain.wait_for(state="visible", timeout=10000)
    assert plain.inner_text().strip()
    form.get_by_role("button", name="Sign and submit").click()
    result = form.locator(".result.ok, .result.error, .field-error:not(:empty)").first
    result.wait_for(timeout=15000)
    return str(result.inner_text())


def fill(form: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_the_whole_story(site: Site, browser: Any, tmp_path: Path) -> None:
    rec = Recorder()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    rec.attach(page)
    page.goto(site.url + "/")
    assert page.get_by_label("Key file").is_visible()
    shot(page, "signin")
    # an unknown key is told so, plainly
    page.get_by_label("Key file").set_input_files(str(_stranger_key(tmp_path)))
    page.get_by_role("button", name="Sign in").click()
    page.locator("#signin-error:not(:empty)").wait_for()
    assert "not registered" in page.locator("#signin-error").inner_text()
    # a public key file instead of the private one is named for what it is
    pub = tmp_path / "farm.pub"
    pub.write_text(load_private_key(site.key("farm")).public_key_b64 + "\n")
    page.get_by_label("Key file").set_input_files(str(pub))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("This is a public key (.pub)").wait_for()
    page.close()

    # --- the farm: origin and dispatch
    farm = sign_in(browser, site, "farm", rec)
    farm.goto(site.url + "/attest")
    origin = farm.locator("#form-origin")
    fill(
        origin,
        {
            "lot": "farm/seed-1",
            "material": "cotton.seed",
            "quantity": "12000",
            "site_name": "Lubbock farm",
            "country": "US",
            "subdivision": "US-TX",
        },
    )
    assert "ledger entry" in review_and_sign(origin)
    farm.reload()
    dispatch = farm.locator("#form-dispatch")
    fill(dispatch, {"lot": "farm/seed-1", "quantity": "12000", "to": "gin"})
    dispatch.get_by_role("button", name="Review").click()
    dispatch.locator(".preview .plain").wait_for(state="visible")
    assert (
        "dispatch of 12,000 kg of lot farm/seed-1 to gin"
        in dispatch.locator(".preview .plain").inner_text()
    )
    dispatch.get_by_role("button", name="Sign and submit").click()
    dispatch.locator(".result.ok").wait_for()

    # --- the gin: one-click receipt, transform, evidence, over-dispatch refused, dispatch
    gin = sign_in(browser, site, "gin", rec)
    incoming = gin.locator("tr.incoming", has_text="farm/seed-1")
    assert "12000 kg" in incoming.inner_text()
    shot(gin, "home")
    incoming.get_by_role("button", name="Confirm receipt").click()
    gin.locator("tr.held", has_text="farm/seed-1").wait_for()
    gin.goto(site.url + "/attest")
    transform = gin.locator("#form-transform")
    fill(
        transform,
        {
            "process": "cotton.ginning",
            "site_name": "Plains gin",
            "country": "US",
            "subdivision": "US-TX",
            "in_lot_0": "farm/seed-1",
            "in_qty_0": "12000",
            "out_lot_0": "gin/lint-1",
            "out_material_0": "cotton.lint",
            "out_qty_0": "4200",
        },
    )
    assert "ledger entry" in review_and_sign(transform)
    gin.reload()
    evidence = gin.locator("#form-evidence")
    invoice = tmp_path / "invoice-PG-044.txt"
    invoice.write_text("Invoice PG-2026-044: 4,200 kg cotton lint\n")
    fill(evidence, {"lots": "gin/lint-1", "kind": "invoice"})
    evidence.locator('input[type="file"]').set_input_files(str(invoice))
    assert "ledger entry" in review_and_sign(evidence)
    assert (site.home.documents / _sha256(invoice)).is_file()
    dispatch = gin.locator("#form-dispatch")
    fill(dispatch, {"lot": "gin/lint-1", "quantity": "5000", "to": "importer"})
    review_and_sign(dispatch)
    error = dispatch.locator('.field-error[data-for="quantity"]')
    error.wait_for()
    assert "You hold 4,200 kg of gin/lint-1, this dispatch needs 5,000 kg" in error.inner_text()
    assert dispatch.locator('[name="quantity"]').get_attribute("aria-invalid") == "true"
    shot(gin, "attest")
    fill(dispatch, {"quantity": "4200"})
    assert "ledger entry" in review_and_sign(dispatch)

    # --- the importer: receipt, import, find the entry, the lot page, export
    imp = sign_in(browser, site, "importer", rec)
    imp.locator("tr.incoming", has_text="gin/lint-1").get_by_role(
        "button", name="Confirm receipt"
    ).click()
    imp.locator("tr.held", has_text="gin/lint-1").wait_for()
    imp.goto(site.url + "/attest")
    declare = imp.locator("#form-import")
    fill(
        declare,
        {"lot": "gin/lint-1", "quantity": "4200", "entry_number": ENTRY, "hts": "5201.00.1800"},
    )
    assert "ledger entry" in review_and_sign(declare)
    imp.goto(site.url + "/home")
    imp.get_by_label("Find a lot or a CBP entry number").fill(ENTRY)
    imp.get_by_role("button", name="Find").click()
    imp.wait_for_url(re.compile(r".*/lots/gin/lint-1$"))
    verdict = imp.locator("#verdict").inner_text().strip().lower()
    assert verdict == _cli_verdict(site, "gin/lint-1"), imp.locator("#findings").inner_text()
    assert verdict in ("pass", "incomplete")
    assert imp.locator("#entry-number").inner_text() == ENTRY
    nodes = imp.locator("svg#trace-chart g.node")
    assert nodes.count() >= 3
    kinds = nodes.evaluate_all("els => els.map(e => e.dataset.kind)")
    assert {"origin", "transform", "import"} <= set(kinds)
    xs = nodes.evaluate_all(
        "els => els.map(e => [e.dataset.kind, e.querySelector('rect').x.baseVal.value])"
    )
    assert max(x for k, x in xs if k == "origin") < min(x for k, x in xs if k == "import")
    assert "Texas" in imp.locator("#composition").inner_text()
    assert imp.locator("#composition-chart rect").count() >= 1
    shot(imp, "lot")
    # tiers collapse and come back
    first_tier = imp.locator("button[data-tier]").first
    first_tier.click()
    assert imp.locator("svg#trace-chart g.node.collapsed").count() >= 1
    first_tier.click()
    assert imp.locator("svg#trace-chart g.node.collapsed").count() == 0
    # a node opens its statement, documents and proof of inclusion
    origin_href = imp.locator('svg#trace-chart g.node[data-kind="transform"] a').first
    origin_href.click()
    imp.wait_for_url(re.compile(r".*/statements/sha256:[0-9a-f]{64}$"))
    assert "cotton.ginning" in imp.locator("#statement-json").inner_text()
    assert imp.locator("#proof").inner_text().count("leaf_hash") == 1
    shot(imp, "statement")
    imp.go_back()
    imp.get_by_role("button", name=re.compile("Export evidence bundle")).click()
    row = imp.locator("#exports tr.export").first
    row.wait_for()
    assert verdict in row.inner_text().lower()
    assert ENTRY in row.inner_text()
    with imp.expect_download() as download:
        row.get_by_role("link", name="Download zip").click()
    bundle = tmp_path / "entry.zip"
    download.value.save_as(bundle)
    import_digest = _import_digest(bundle)

    # --- nobody opens another party's private pages by URL
    farm.goto(site.url + "/lots/gin/lint-1")
    assert "not visible to farm" in farm.locator("#error-message").inner_text()
    rival = sign_in(browser, site, "rival", rec)
    for path in ("/lots/gin/lint-1", f"/statements/{import_digest}", "/operator"):
        response = rival.goto(site.url + path)
        assert response.status == 200, path  # a page a browser shows: no console error
        assert response.headers["x-custody-status"] == "403", path
        assert "not visible to rival" in rival.locator("#error-message").inner_text()
    export_link = imp.locator("#exports tr.export a[download]").first.get_attribute("href")
    response = rival.goto(site.url + str(export_link))
    assert response.headers["x-custody-status"] == "404"
    assert "no such export of yours" in rival.locator("#error-message").inner_text()
    rival.goto(site.url + "/lots?q=" + ENTRY)
    assert rival.locator("#not-found").is_visible()

    # --- the auditor: the bundle verifies, a tampered copy does not
    aud = browser.new_page(viewport={"width": 1280, "height": 900})
    rec.attach(aud)
    key = site.home.path.joinpath("..", "operator.vkey")
    vkey = _verifier_key(site)
    aud.goto(site.url + "/bundles/verify")
    assert _verify(aud, bundle, vkey, ENTRY) == verdict
    assert "on the custody server" in aud.locator("#where-text").inner_text()
    checks = aud.locator("#checks tr.check")
    assert checks.count() >= 10
    assert aud.locator("#checks tr.check.failed").count() == 0
    assert aud.locator("svg#trace-chart g.node").count() >= 3
    shot(aud, "verify")
    tampered = tmp_path / "tampered.zip"
    _tamper(bundle, tampered)
    assert _verify(aud, tampered, vkey, ENTRY) == "fail"
    assert aud.locator("#integrity li").count() >= 1
    assert aud.locator("#checks tr.check.failed").count() >= 1
    assert not key.exists() or key

    # --- the operator: size, checkpoint, audit
    op = sign_in(browser, site, "operator", rec)
    op.goto(site.url + "/operator")
    assert int(op.locator("#ledger-size").inner_text()) == 14
    assert op.locator("#checkpoint").inner_text().startswith("example.org/custody\n")
    op.get_by_role("button", name="Run the audit now").click()
    op.locator("#audit-result").wait_for()
    assert "Audit passed" in op.locator("#audit-result").inner_text()
    shot(op, "operator")

    # the operator registers a party; its key was made elsewhere, only the public half is sent
    newcomer = PrivateKey.generate()
    register = op.locator("#form-party")
    fill(
        register,
        {
            "party_id": "spinner",
            "name": "Carolina Spinning Mill",
            "country": "US",
            "subdivision": "US-NC",
            "public_key": newcomer.public_key_b64,
        },
    )
    assert "ledger entry" in review_and_sign(register)
    op.locator('tr.party[data-party="spinner"]').wait_for()

    # a lot opened by URL before signing in comes back after signing in
    later = browser.new_page(viewport={"width": 1024, "height": 768})
    rec.attach(later)
    later.goto(site.url + "/lots/gin/lint-1")
    later.get_by_label("Key file").set_input_files(str(site.key("importer")))
    later.get_by_role("button", name="Sign in").click()
    later.wait_for_url(re.compile(r".*/lots/gin/lint-1$"))
    assert later.locator("#verdict").inner_text().strip().lower() == verdict

    # --- sign-out ends the session
    gin.get_by_role("button", name="Sign out").click()
    gin.wait_for_url(re.compile(r".*/\?m=signed-out$"))
    assert gin.goto(site.url + "/home").url.endswith("/?next=%2Fhome")
    assert gin.get_by_label("Key file").is_visible()

    _assert_no_console_errors(rec)
    _assert_no_private_key(site, rec)


def _assert_no_console_errors(rec: Recorder) -> None:
    """No console error or warning and no page error on any page, the refusals the story
    provokes on purpose included (an unknown key, the over-dispatch, another party's
    pages and export, a tampered bundle): the console answers them in a way no browser
    logs as an error."""
    assert rec.pages > 0
    assert rec.console == []


def _assert_no_private_key(site: Site, rec: Recorder) -> None:
    secrets = site.private_key_texts()
    assert rec.requests
    posted = [r for r in rec.requests if r[0] == "POST"]
    assert any(url.endswith("/attest/submit") for _, url, _ in posted)
    for method, url, body in rec.requests:
        text = body.decode("latin-1") + url
        for secret in secrets:
            assert secret not in text, f"private key material in {method} {url}"


def _cli_verdict(site: Site, lot: str) -> str:
    """The verdict ``custody verify`` reaches in the same home."""
    from provenance.context import VerificationContext

    with VerificationContext.from_home(site.home) as ctx:
        return str(ctx.verify(lot).verdict)


def _stranger_key(tmp: Path) -> Path:
    from ledger.keys import PrivateKey, save_private_key

    path = tmp / "stranger.key"
    save_private_key(path, PrivateKey.generate())
    return path


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verifier_key(site: Site) -> str:
    import httpx

    return httpx.get(site.url + "/v1/key").text.strip()


def _import_digest(bundle: Path) -> str:
    import json

    from ledger.leaf import decode_leaf

    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for e in manifest["entries"]:
            stmt = decode_leaf(zf.read(e["path"]), e["seq"]).statement
            if stmt.type == "import":
                return stmt.digest
    raise AssertionError("no import statement in the bundle")


def _tamper(src: Path, dst: Path) -> None:
    """Change one leaf's ledger time: its hash no longer matches the proof."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        done = False
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("leaves/") and not done:
                data = re.sub(rb'"received_at":"20', b'"received_at":"19', data, count=1)
                done = True
            zout.writestr(info, data)
    assert done


def _verify(page: Any, bundle: Path, vkey: str, entry: str) -> str:
    page.get_by_label("Bundle (zip)").set_input_files(str(bundle))
    page.get_by_label("Operator key").fill(vkey)
    page.get_by_label(re.compile("CBP entry number")).fill(entry)
    page.locator("#verify-result").evaluate("e => e.replaceChildren()")
    page.get_by_role("button", name="Verify").click()
    page.locator("#bundle-verdict").wait_for(timeout=30000)
    return str(page.locator("#bundle-verdict").inner_text()).strip().lower()
