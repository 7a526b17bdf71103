"""The statements of ``bench/ingest.py``: registered parties and pre-signed envelopes,
either origins only (``--mix origin``) or a realistic mix of custody events
(``--mix realistic``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger.envelope import Envelope, sign_envelope
from ledger.keys import PrivateKey
from ledger.log import Ledger
from ledger.statements import build_statement, statement_digest

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{label}: {done}/{total}")
        sys.stderr.flush()
        if done >= total:
            sys.stderr.write("\n")


class Parties:
    def __init__(self, ledger: Ledger, operator: PrivateKey, counts: dict[str, int]) -> None:
        self.keys: dict[str, PrivateKey] = {}
        envs = []
        for prefix, n in counts.items():
            for i in range(n):
                pid = f"{prefix}{i}"
                k = PrivateKey.generate()
                self.keys[pid] = k
                payload = build_statement(
                    "party",
                    f"party/{pid}",
                    "operator",
                    T0,
                    party={
                        "id": pid,
                        "name": f"{prefix.title()} {i}",
                        "country": "US",
                        "roles": ["supplier"],
                    },
                    keys=[k.public_key_b64],
                )
                envs.append(sign_envelope(payload, [operator]))
        for r in ledger.submit(envs):
            assert r.error is None, r.error


def origin_mix(parties: Parties, n: int) -> Iterator[Envelope]:
    for i in range(n):
        yield origin_one(parties.keys, i)


def origin_one(keys: dict[str, PrivateKey], i: int) -> Envelope:
    """Statement ``i`` of :func:`origin_mix`."""
    farms = [p for p in keys if p.startswith("farm")]
    pid = farms[i % len(farms)]
    payload = build_statement(
        "origin",
        f"o/{i}",
        pid,
        T0 + timedelta(seconds=i),
        lot={
            "id": f"{pid}/lot-{i}",
            "material": "cotton.seed",
            "quantity": Decimal(1000),
            "unit": "kg",
        },
        site={"name": "Field", "country": "US", "subdivision": "US-TX"},
    )
    return sign_envelope(payload, [keys[pid]])


def realistic_mix(parties: Parties, n: int) -> Iterator[Envelope]:
    """Units of 12 statements: 3 origins, 3 dispatches and receipts to a gin, a
    transform of 3 inputs into 2 outputs, a partial dispatch and its receipt
    (``n`` is rounded up to whole units; the caller keeps the first ``n``)."""
    roles = Roles(parties.keys)
    for u in range(-(-n // UNIT)):
        yield from realistic_unit(parties.keys, roles, u)


UNIT = 12  # statements in a unit of the realistic mix


class Roles:
    """The party ids of the mix by role, in registration order."""

    def __init__(self, keys: dict[str, PrivateKey]) -> None:
        self.farms = [p for p in keys if p.startswith("farm")]
        self.gins = [p for p in keys if p.startswith("gin")]
        self.spinners = [p for p in keys if p.startswith("spin")]


def realistic_unit(keys: dict[str, PrivateKey], roles: Roles, u: int) -> Iterator[Envelope]:
    """Unit ``u`` of :func:`realistic_mix` (its statements depend on ``u`` alone, so
    units can be signed anywhere, in any order)."""
    farms, k = roles.farms, keys
    t = T0 + timedelta(seconds=UNIT * u)

    def sign(type_: str, sid: str, issuer: str, **body: Any) -> Envelope:
        nonlocal t
        t += timedelta(seconds=1)
        return sign_envelope(build_statement(type_, sid, issuer, t, **body), [k[issuer]])

    gin = roles.gins[u % len(roles.gins)]
    spin = roles.spinners[u % len(roles.spinners)]
    lots = []
    for j in range(3):
        farm = farms[(3 * u + j) % len(farms)]
        lot = f"{farm}/u{u}-{j}"
        lots.append(lot)
        yield sign(
            "origin",
            f"o/{lot}",
            farm,
            lot={
                "id": lot,
                "material": "cotton.seed",
                "quantity": Decimal(12000),
                "unit": "kg",
            },
            site={"name": "Field", "country": "US", "subdivision": "US-TX"},
        )
        d = sign("dispatch", f"d/{lot}", farm, lot=lot, quantity=Decimal(12000), unit="kg", to=gin)
        yield d
        yield sign(
            "receipt",
            f"r/{lot}",
            gin,
            dispatch=statement_digest(d.payload),
            quantity=Decimal(12000),
            unit="kg",
        )
    yield sign(
        "transform",
        f"t/{gin}/u{u}",
        gin,
        process="cotton.ginning",
        inputs=[{"lot": lot, "quantity": Decimal(12000), "unit": "kg"} for lot in lots],
        outputs=[
            {
                "id": f"{gin}/lint-{u}",
                "material": "cotton.lint",
                "quantity": Decimal(13000),
                "unit": "kg",
            },
            {
                "id": f"{gin}/seed-{u}",
                "material": "cotton.seed.ginned",
                "quantity": Decimal(20000),
                "unit": "kg",
            },
        ],
        site={"name": "Gin", "country": "US", "subdivision": "US-TX"},
    )
    d = sign(
        "dispatch",
        f"d/{gin}/lint-{u}",
        gin,
        lot=f"{gin}/lint-{u}",
        quantity=Decimal(6500),
        unit="kg",
        to=spin,
    )
    yield d
    yield sign(
        "receipt",
        f"r/{gin}/lint-{u}",
        spin,
        dispatch=statement_digest(d.payload),
        quantity=Decimal(6500),
        unit="kg",
    )


_KEYS: dict[bytes, PrivateKey] = {}  # a signing worker's keys, by seed


def sign_range(
    mix: str, seeds: dict[str, bytes], start: int, stop: int
) -> list[tuple[bytes, tuple[tuple[str, bytes], ...]]]:
    """Statements ``start`` to ``stop`` of the mix (origin statements, or units of the
    realistic mix when ``mix == "realistic"``), signed, as (payload, ((keyid, sig), ...)):
    the work of one batch on a signing worker process (see ``bench/scale.py``)."""
    keys = {
        pid: _KEYS.get(seed) or _KEYS.setdefault(seed, PrivateKey(seed))
        for pid, seed in seeds.items()
    }
    if mix == "realistic":
        roles = Roles(keys)
        envs = [e for u in range(start, stop) for e in realistic_unit(keys, roles, u)]
    else:
        envs = [origin_one(keys, i) for i in range(start, stop)]
    return [(e.payload, tuple((s.keyid, s.sig) for s in e.signatures)) for e in envs]
