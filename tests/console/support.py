"""The console tests' world: a real `custody serve` on a loopback port with a registered
farm, gin, importer, a rival importer and an auditor (their key files on disk, as
`custody keys generate` writes them), and Debian's headless Chromium driven by Playwright
(the launch of the report's browser test) that records every request and console message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ledger.home import Home
from ledger.keys import PrivateKey, b64encode, load_private_key
from tests.api.support import Server, Story, auth_message, new_home, now_stamp, submit_all

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "docs" / "console"
ORIGIN = "example.org/custody"
PARTIES = (
    ("farm", "Lubbock Family Cotton Farm", "US", "US-TX", ("supplier",)),
    ("gin", "Plains Cooperative Gin", "US", "US-TX", ("supplier",)),
    ("importer", "Prairie Apparel Inc.", "US", None, ("importer",)),
    ("rival", "Rival Imports LLC", "US", None, ("importer",)),
    ("cbp", "CBP Trade Office", "US", None, ("auditor",)),
)


@dataclass
class Site:
    """The running server, its home and the parties' key files."""

    server: Server
    home: Home
    keys: Path

    @property
    def url(self) -> str:
        return self.server.url

    def key(self, party: str) -> Path:
        return self.home.operator_key_path if party == "operator" else self.keys / f"{party}.key"

    def private_key_texts(self) -> list[str]:
        """Every rendering of every private key that must never be sent: the PEM body,
        the base64 of the PKCS#8 DER and of the raw 32-byte seed (standard and URL-safe)."""
        import base64

        out = []
        for party in [*(p[0] for p in PARTIES), "operator"]:
            path = self.key(party)
            pem = path.read_text()
            body = "".join(pem.strip().splitlines()[1:-1])
            seed = load_private_key(path).seed
            out += [body, body[:40], base64.b64encode(seed).decode().rstrip("=")]
            out.append(base64.urlsafe_b64encode(seed).decode().rstrip("="))
            out.append(seed.hex())
        return out


def start_site(tmp: Path) -> Site:
    home = new_home(Home(tmp / "home"), ORIGIN)
    keys = tmp / "keys"
    story = Story(home, keys)
    for pid, name, country, sub, roles in PARTIES:
        story.party(pid, name, country, roles=roles, subdivision=sub)
    server = Server(home.path).start()
    with httpx.Client(base_url=server.url) as http:
        submit_all(http, story.envelopes)
    return Site(server, home, keys)


@dataclass
class Recorder:
    """Every request the browser made (URL, method, body) and every console message."""

    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    pages: int = 0

    def attach(self, page: Any) -> None:
        self.pages += 1

        def on_request(request: Any) -> None:
            body = request.post_data_buffer or b""
            self.requests.append((request.method, request.url, body))

        def on_console(message: Any) -> None:
            if message.type in ("error", "warning"):
                self.console.append(f"{message.type}: {message.text} at {page.url}")

        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", lambda e: self.console.append(f"page error: {e} at {page.url}"))


def launch() -> Iterator[Any]:
    """One headless Chromium for a test module."""
    from playwright.sync_api import sync_playwright

    from tests.provenance.test_report_browser import CHROMIUM_ARGS, _chromium

    executable = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: Any, site: Site, party: str, recorder: Recorder) -> Any:
    """A fresh browser context signed in as ``party`` through the Key file input."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    recorder.attach(page)
    page.goto(site.url + "/")
    page.get_by_label("Key file").set_input_files(str(site.key(party)))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/home$"), timeout=15000)
    return page


VOLATILE = ".volatile:visible"
"""What differs from run to run (digests, key ids, times, the server's port): masked in
the screenshots, so that a re-run of the story gives the same pixels."""
NOISE = 0.0005
"""Share of pixels that may differ (font anti-aliasing) before a screenshot is rewritten."""

_COMPARE = """async ([a, b]) => {
  const load = (src) => new Promise((ok, fail) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = fail;
    img.src = src;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.width !== y.width || x.height !== y.height) return null;
  const pixels = (img) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, img.width, img.height).data;
  };
  const p = pixels(x), q = pixels(y);
  let diff = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (p[i] !== q[i] || p[i + 1] !== q[i + 1] || p[i + 2] !== q[i + 2] || p[i + 3] !== q[i + 3]) {
      diff++;
    }
  }
  return diff / (x.width * x.height);
}"""


def changed(page: Any, old: bytes, new: bytes) -> float | None:
    """The share of pixels that differ between two PNGs (None: not the same size),
    decoded and compared by the browser itself."""
    import base64

    blank = page.context.browser.new_page()  # a blank page of its own, no CSP
    try:
        urls = ["data:image/png;base64," + base64.b64encode(b).decode() for b in (old, new)]
        share = blank.evaluate(_COMPARE, urls)
    finally:
        blank.close()
    return None if share is None else float(share)


def shot(page: Any, name: str) -> None:
    """A screenshot for docs/console.md (made by the tests so they stay current).

    Deterministic (the page's viewport, no animation or caret, what varies between runs
    masked), and written only when it changed beyond noise or ``CUSTODY_SCREENSHOTS=1``,
    so a re-run of the tests leaves the tree clean."""
    import os

    png = page.screenshot(
        full_page=True,
        animations="disabled",
        caret="hide",
        mask=[page.locator(VOLATILE)],
        mask_color="#d9dde3",
    )
    path = SHOTS / f"{name}.png"
    if os.environ.get("CUSTODY_SCREENSHOTS") != "1" and path.is_file():
        share = changed(page, path.read_bytes(), png)
        if os.environ.get("CUSTODY_SCREENSHOTS_DEBUG"):
            print(f"screenshot {name}: {share}")
        if share is not None and share <= NOISE:
            return
    SHOTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)


OPEN: list[httpx.Client] = []
"""httpx clients the HTTP tests opened; closed after each test (``conftest.py``)."""


def http_sign_in(url: str, key: PrivateKey) -> tuple[httpx.Client, httpx.Response]:
    """The browser's sign-in steps, done by hand: challenge by kid, sign, session."""
    http = httpx.Client(base_url=url, headers={"Origin": url})
    OPEN.append(http)
    ch = http.post("/session/challenge", json={"kid": key.kid})
    if ch.status_code != 200:
        return http, ch
    body = ch.json()
    stamp = now_stamp()
    msg = auth_message(body["origin"], body["party"], key.kid, body["nonce"], stamp)
    r = http.post(
        "/session",
        json={
            "party": body["party"],
            "kid": key.kid,
            "nonce": body["nonce"],
            "timestamp": stamp,
            "signature": b64encode(key.sign(msg)),
        },
    )
    return http, r


def csrf_of(http: httpx.Client) -> str:
    page = http.get("/home").text
    m = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', page)
    assert m, page[:500]
    return m.group(1)
