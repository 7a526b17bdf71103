"""A small HTTP client for a remote custody server (``--server URL``).

It speaks the API of ``custody serve`` (see ``docs/api.md``) with httpx, and
turns the server's JSON errors back into :class:`ledger.errors.CustodyError`
so the CLI reports them exactly as it reports local ones.
"""

from __future__ import annotations

from typing import Any

import httpx

from ledger.envelope import Envelope
from ledger.errors import CustodyError, EnvelopeError, InputError, NotFoundError

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ServerError(CustodyError):
    code = "server"


def _raise_for(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    try:
        body = resp.json()["error"]
        code, message, details = body["code"], body["message"], body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        raise ServerError(f"server answered HTTP {resp.status_code}") from None
    cls: type[CustodyError] = NotFoundError if resp.status_code == 404 else InputError
    if resp.status_code >= 500:
        cls = ServerError
    raise cls(message, code=code, details=details)


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=TIMEOUT, headers=headers)

    def _get(self, path: str, **params: Any) -> httpx.Response:
        try:
            resp = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        except httpx.HTTPError as e:
            raise ServerError(f"cannot reach {self.http.base_url}: {e}") from e
        _raise_for(resp)
        return resp

    def submit(self, items: list[Envelope | EnvelopeError | object]) -> list[dict[str, Any]]:
        """Submit a batch; local parse errors are reported in place, in order."""
        results: list[dict[str, Any] | None] = [None] * len(items)
        batch: list[tuple[int, dict[str, Any]]] = []
        for i, item in enumerate(items):
            if isinstance(item, Envelope):
                batch.append((i, item.to_json_obj()))
            elif isinstance(item, CustodyError):
                results[i] = {"digest": None, "error": item.to_dict()}
        if batch:
            try:
                resp = self.http.post("/v1/entries/batch", json=[obj for _, obj in batch])
            except httpx.HTTPError as e:
                raise ServerError(f"cannot reach {self.http.base_url}: {e}") from e
            _raise_for(resp)
            for (i, _), res in zip(batch, resp.json()["results"], strict=True):
                results[i] = res
        return [r for r in results if r is not None]

    def checkpoint(self) -> str:
        return self._get("/v1/checkpoint").text

    def prove(self, seq: int, size: int | None) -> dict[str, Any]:
        data: dict[str, Any] = self._get("/v1/proofs/inclusion", seq=seq, size=size).json()
        return data

    def consistency(self, size_from: int, size_to: int | None) -> dict[str, Any]:
        params = {"from": size_from, "to": size_to}
        data: dict[str, Any] = self._get("/v1/proofs/consistency", **params).json()
        return data
