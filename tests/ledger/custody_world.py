"""The small world every custody-rule test runs against, and helpers to build
statements that may be malformed (``raw``) and sign them (``signed``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.envelope import Envelope, sign_envelope
from ledger.keys import PrivateKey
from ledger.statements import encode_statement, format_time
from tests.support import Actor, World, q, site

_ids = itertools.count(1)


@dataclass
class Ctx:
    world: World
    farm: Actor
    gin: Actor
    spinner: Actor
    importer: Actor
    to_gin: str  # dispatch digest, received by the gin
    to_spinner: str  # dispatch digest, still in transit


def raw(
    actor: Actor,
    type: str,
    *,
    issuer: str | None = None,
    time: str | datetime | None = None,
    id: str | None = None,
    **body: Any,
) -> bytes:
    """A statement encoded without validation (so it may be malformed)."""
    when = time if isinstance(time, str) else format_time(time or actor.world.tick())
    doc = {
        "spec": "custody/1",
        "type": type,
        "id": id or f"case-{next(_ids)}",
        "issuer": issuer or actor.id,
        "time": when,
        **body,
    }
    return encode_statement(doc)


def signed(actor: Actor, payload: bytes, *keys: PrivateKey) -> Envelope:
    return sign_envelope(payload, list(keys) or [actor.key])


def origin_body(lot: str = "farm/seed-2", quantity: Any = None, unit: str = "kg") -> dict[str, Any]:
    return {
        "lot": {
            "id": lot,
            "material": "cotton.seed",
            "quantity": q(100) if quantity is None else quantity,
            "unit": unit,
        },
        "site": site("Lubbock farm", "US", "US-TX"),
    }


def transform_body(lot: str, quantity: Any, out: str) -> dict[str, Any]:
    return {
        "process": "cotton.ginning",
        "inputs": [{"lot": lot, "quantity": quantity, "unit": "kg"}],
        "outputs": [{"id": out, "material": "cotton.lint", "quantity": q(1), "unit": "kg"}],
        "site": site("Plains gin", "US", "US-TX"),
    }


def make_ctx(tmp_path: Path) -> Ctx:
    """A farm's seed lot, 5000 kg received by the gin, 2000 kg in transit to the spinner."""
    world = World(tmp_path / "home")
    farm = world.party("farm", "Lubbock Farm", subdivision="US-TX")
    gin = world.party("gin", "Plains Gin", subdivision="US-TX")
    spinner = world.party("spinner", "Carolina Spinning", subdivision="US-NC")
    importer = world.party("importer", "Acme Apparel", roles=("importer",))
    farm.submit("origin", id="origin/farm/seed-1", **origin_body("farm/seed-1", q(12000)))
    to_gin = farm.submit("dispatch", lot="farm/seed-1", quantity=q(5000), unit="kg", to="gin")
    gin.submit("receipt", dispatch=to_gin.digest, quantity=q(5000), unit="kg")
    to_spinner = farm.submit(
        "dispatch", lot="farm/seed-1", quantity=q(2000), unit="kg", to="spinner"
    )
    return Ctx(world, farm, gin, spinner, importer, str(to_gin.digest), str(to_spinner.digest))


def state_of(world: World) -> tuple[Any, ...]:
    """Everything a statement could change."""
    with world.ledger.store.read() as r:
        return (
            r.head(),
            sorted(r.all_lots(), key=lambda lot: lot.id),
            r.all_holdings(),
            r.dispatches_of(),
            sorted(r.all_keys(), key=lambda k: k.kid),
            r.parties(),
        )
