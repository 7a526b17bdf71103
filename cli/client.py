"""A small HTTP client for a remote custody server (``--server URL``).

It speaks the API of ``custody serve`` (see ``docs/api.md``) with httpx, and
turns the server's JSON errors back into :class:`ledger.errors.CustodyError`
so the CLI reports them exactly as it reports local ones.

Reading anything but checkpoints and proofs needs a login: :meth:`Client.login`
signs the server's challenge with the party's key file (the private key never
leaves this machine) and keeps the short-lived bearer token for the session.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ledger import strictjson
from ledger.envelope import Envelope
from ledger.errors import CustodyError, EnvelopeError, InputError, NotFoundError
from ledger.keys import PrivateKey, b64encode, load_private_key
from ledger.login import login_message

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ServerError(CustodyError):
    code = "server"


class AuthError(InputError):
    """The server refused the credentials (HTTP 401) or the access (HTTP 403)."""

    code = "unauthorized"


def _json(resp: httpx.Response) -> Any:
    """The server's JSON answer, read by the one strict reader (``ledger.strictjson``)."""
    try:
        return strictjson.loads(resp.content)
    except strictjson.JsonError as e:
        raise ServerError(
            f"server answered HTTP {resp.status_code} with a body that is not valid JSON ({e})",
            details={"reason": e.reason},
        ) from None


def _raise_for(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    try:
        body = strictjson.loads(resp.content)["error"]
        code, message, details = body["code"], body["message"], body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        raise ServerError(f"server answered HTTP {resp.status_code}") from None
    cls: type[CustodyError] = InputError
    if resp.status_code == 404:
        cls = NotFoundError
    elif resp.status_code in (401, 403):
        cls = AuthError
    elif resp.status_code >= 500:
        cls = ServerError
    raise cls(message, code=code, details=details)


def lot_path(lot: str) -> str:
    """A lot id as a URL path (``/`` kept; ``.``/``..`` segments escaped so no
    client or proxy folds them away)."""
    parts = []
    for seg in lot.split("/"):
        parts.append(seg.replace(".", "%2E") if seg in (".", "..") else quote(seg, safe=":"))
    return "/".join(parts)


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=TIMEOUT, headers=headers)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            resp = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            raise ServerError(f"cannot reach {self.http.base_url}: {e}") from e
        _raise_for(resp)
        return resp

    def _get(self, path: str, **params: Any) -> httpx.Response:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    # ------------------------------------------------------------ auth

    def login(self, party: str, key: PrivateKey) -> dict[str, Any]:
        """Sign a challenge with ``key``; keep the bearer token for later calls."""
        ch = self._request("POST", "/v1/auth/challenge", json={"party": party, "kid": key.kid})
        challenge = _json(ch)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = login_message(challenge["origin"], party, key.kid, challenge["nonce"], stamp)
        resp = self._request(
            "POST",
            "/v1/auth/token",
            json={
                "party": party,
                "kid": key.kid,
                "nonce": challenge["nonce"],
                "timestamp": stamp,
                "signature": b64encode(key.sign(message)),
            },
        )
        token: dict[str, Any] = _json(resp)
        self.http.headers["Authorization"] = f"Bearer {token['token']}"
        return token

    def login_with_file(self, party: str | None, key_file: Path | None) -> None:
        """``--party`` / ``--key`` of a command: log in when a key is given."""
        if key_file is None:
            return
        if not party:
            raise InputError(
                "--key needs --party (the party the key belongs to)", code="invalid_input.party"
            )
        self.login(party, load_private_key(key_file))

    def logout(self) -> None:
        self._request("DELETE", "/v1/auth/token")
        self.http.headers.pop("Authorization", None)

    def whoami(self) -> dict[str, Any]:
        data: dict[str, Any] = _json(self._get("/v1/auth/whoami"))
        return data

    # ------------------------------------------------------------ submit

    def submit(self, items: list[Envelope | EnvelopeError | object]) -> list[dict[str, Any]]:
        """Submit a batch; local parse errors are reported in place, in order."""
        results: list[dict[str, Any] | None] = [None] * len(items)
        batch: list[tuple[int, dict[str, Any]]] = []
        for i, item in enumerate(items):
            if isinstance(item, Envelope):
                batch.append((i, item.to_json_obj()))
            elif isinstance(item, CustodyError):
                results[i] = {"digest": None, "error": item.to_dict()}
        for start in range(0, len(batch), 1000):
            part = batch[start : start + 1000]
            resp = self._request("POST", "/v1/entries/batch", json=[obj for _, obj in part])
            for (i, _), res in zip(part, _json(resp)["results"], strict=True):
                results[i] = res
        return [r for r in results if r is not None]

    def upload(self, sha256: str, data: bytes) -> dict[str, Any]:
        """``PUT /v1/documents/{sha256}``: ``{sha256, size, status, ...}`` (docs/api.md)."""
        resp = self._request(
            "PUT",
            f"/v1/documents/{sha256}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        result: dict[str, Any] = _json(resp)
        return result

    # ------------------------------------------------------------ log (public)

    def checkpoint(self) -> str:
        return self._get("/v1/checkpoint").text

    def verifier_key(self) -> str:
        return self._get("/v1/key").text.strip()

    def prove(self, seq: int, size: int | None) -> dict[str, Any]:
        data: dict[str, Any] = _json(self._get("/v1/proofs/inclusion", seq=seq, size=size))
        return data

    def consistency(self, size_from: int, size_to: int | None) -> dict[str, Any]:
        params = {"from": size_from, "to": size_to}
        data: dict[str, Any] = _json(self._get("/v1/proofs/consistency", **params))
        return data

    # ------------------------------------------------------------ reads (authenticated)

    def entry(self, seq: int) -> dict[str, Any]:
        data: dict[str, Any] = _json(self._get(f"/v1/entries/{seq}"))
        return data

    def lot(self, lot: str) -> dict[str, Any]:
        data: dict[str, Any] = _json(self._get(f"/v1/lots/{lot_path(lot)}/state"))
        return data

    def trace(self, lot: str) -> dict[str, Any]:
        data: dict[str, Any] = _json(self._get(f"/v1/lots/{lot_path(lot)}/trace"))
        return data

    def verify(self, lot: str, profile: str | None = None) -> dict[str, Any]:
        """The server's report of ``lot``, judged by a shipped document ``profile``."""
        data: dict[str, Any] = _json(self._get(f"/v1/lots/{lot_path(lot)}/verify", profile=profile))
        return data

    def bundle(
        self, lot: str, out: Path, entry_number: str | None = None, profile: str | None = None
    ) -> Path:
        """Download the evidence bundle of ``lot`` to ``out`` (written atomically), its
        report judged by a shipped document ``profile`` (the server's default when ``None``)."""
        wanted = {"entry_number": entry_number, "profile": profile}
        params = {k: v for k, v in wanted.items() if v is not None}
        url = f"/v1/lots/{lot_path(lot)}/bundle"
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=".bundle-", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                try:
                    with self.http.stream("GET", url, params=params) as resp:
                        if not resp.is_success:
                            resp.read()
                            _raise_for(resp)
                        for chunk in resp.iter_bytes():
                            f.write(chunk)
                except httpx.HTTPError as e:
                    raise ServerError(f"cannot reach {self.http.base_url}: {e}") from e
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        return out


# ---------------------------------------------------------------- for the commands


def remote(server: str, party: str | None, key_file: Path | None) -> Client:
    """A client for ``--server``, logged in when ``--key`` is given."""
    client = Client(server)
    try:
        client.login_with_file(party, key_file)
    except BaseException:
        client.close()
        raise
    return client


def server_profile(profile: str | None) -> str | None:
    """``profile`` as a server takes it: the name of a shipped document profile.
    A profile file is the caller's own and judges only local verification, so
    ``--profile FILE`` with ``--server`` is refused here, before the commands'
    login (the server refuses any other name itself)."""
    if profile is None:
        return None
    from provenance.rules.profile import profile_names

    names = profile_names()
    if profile not in names:
        raise InputError(
            f"--profile {profile!r}: with --server give a profile the server ships "
            f"({', '.join(names)}); a profile file judges only a local ledger",
            code="invalid_input.profile",
            details={"profile": profile, "known": names},
        )
    return profile


def remote_report(
    server: str, lot: str, party: str | None, key: Path | None, profile: str | None = None
) -> dict[str, Any]:
    """``custody verify --server``: the SPEC §10 report the server computed (with a shipped
    document ``profile`` when given)."""
    profile = server_profile(profile)  # refused before anything is asked of the server
    with remote(server, party, key) as c:
        return c.verify(lot, profile)


def remote_trace(server: str, lot: str, party: str | None, key: Path | None) -> dict[str, Any]:
    """``custody trace --server``: the trace document (``provenance.render.trace_json``)."""
    with remote(server, party, key) as c:
        return c.trace(lot)


def remote_bundle(
    server: str,
    lot: str,
    output: Path,
    entry_number: str | None,
    party: str | None,
    key: Path | None,
    profile: str | None = None,
) -> dict[str, Any]:
    """``custody bundle export --server``: download the bundle (its report judged by
    a shipped document ``profile`` when given), summarise it as
    ``BundleSummary.to_json()`` does (from the zip's manifest and report)."""
    from ledger.checkpoint import parse_checkpoint, split_note
    from provenance.bundle import UnsafeBundleError, read_zip

    profile = server_profile(profile)  # refused before anything is asked of the server
    with remote(server, party, key) as c:
        c.bundle(lot, output, entry_number, profile)
    try:
        members = read_zip(output)
        manifest = strictjson.loads(members["manifest.json"])
        report = strictjson.loads(members["report.json"]) if "report.json" in members else {}
        cp = parse_checkpoint(split_note(manifest["checkpoint"])[0])
    except (UnsafeBundleError, CustodyError, KeyError, TypeError, ValueError) as e:
        raise ServerError(
            f"the server sent a bundle that cannot be read ({e}); "
            f"check it with `custody bundle verify {output}`"
        ) from e
    return {
        "path": str(output),
        "subject": manifest.get("subject"),
        "entry_number": manifest.get("entry_number"),
        "checkpoint": {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()},
        "entries": len(manifest.get("entries") or []),
        "documents": len(manifest.get("documents") or []),
        "missing_documents": [d.get("sha256") for d in manifest.get("missing_documents") or []],
        "verdict": report.get("verdict"),
        "server": server,
    }
