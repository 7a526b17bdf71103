"""Helpers for tests: a ledger in a temporary home and parties that sign real statements."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey
from ledger.log import SubmitResult
from ledger.statements import build_statement, encode_statement, format_time

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Actor:
    world: World
    id: str
    key: PrivateKey
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def payload(
        self,
        type: str,
        *,
        id: str | None = None,
        time: datetime | None = None,
        validate: bool = True,
        **body: Any,
    ) -> bytes:
        sid = id or f"{type}-{next(self._n)}"
        t = time or self.world.tick()
        if validate:
            return build_statement(type, sid, self.id, t, **body)
        doc = {
            "spec": "custody/1",
            "type": type,
            "id": sid,
            "issuer": self.id,
            "time": format_time(t),
            **body,
        }
        return encode_statement(doc)

    def envelope(
        self, type: str, *, signers: list[PrivateKey] | None = None, **kw: Any
    ) -> Envelope:
        return sign_envelope(self.payload(type, **kw), signers or [self.key])

    def submit(
        self, type: str, *, signers: list[PrivateKey] | None = None, **kw: Any
    ) -> SubmitResult:
        (res,) = self.world.ledger.submit([self.envelope(type, signers=signers, **kw)])
        if res.error is not None:
            raise res.error
        return res

    def attempt(
        self, type: str, *, signers: list[PrivateKey] | None = None, **kw: Any
    ) -> SubmitResult:
        """Submit and return the result, rejected or not."""
        (res,) = self.world.ledger.submit([self.envelope(type, signers=signers, **kw)])
        return res


class World:
    """An initialised ledger with an operator that registers parties."""

    def __init__(self, path: Path, *, db_url: str | None = None) -> None:
        import os

        if db_url:
            os.environ["CUSTODY_DB_URL"] = db_url
        try:
            self.home = Home(path)
            self._clock = T0
            self.ledger, _ = self.home.init(origin="custody.test/ledger", time=T0)
        finally:
            if db_url:
                del os.environ["CUSTODY_DB_URL"]
        self.operator = Actor(self, "operator", self.home.operator_key())
        self.parties: dict[str, Actor] = {}

    def close(self) -> None:
        self.ledger.store.close()

    def tick(self, minutes: int = 10) -> datetime:
        self._clock += timedelta(minutes=minutes)
        return self._clock

    def party(
        self,
        pid: str,
        name: str | None = None,
        country: str = "US",
        *,
        roles: tuple[str, ...] = ("supplier",),
        subdivision: str | None = None,
        address: str | None = None,
    ) -> Actor:
        key = PrivateKey.generate()
        info: dict[str, Any] = {
            "id": pid,
            "name": name or pid.title(),
            "country": country,
            "roles": list(roles),
        }
        if subdivision:
            info["subdivision"] = subdivision
        if address:
            info["address"] = address
        self.operator.submit("party", id=f"party/{pid}", party=info, keys=[key.public_key_b64])
        actor = Actor(self, pid, key)
        self.parties[pid] = actor
        return actor


def q(value: str | int) -> Decimal:
    return Decimal(str(value))


def site(name: str = "Site", country: str = "US", subdivision: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"name": name, "country": country}
    if subdivision:
        s["subdivision"] = subdivision
    return s
