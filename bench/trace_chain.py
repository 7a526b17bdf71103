"""The generator of ``bench/trace.py`` (and ``bench/bundle.py``): a realistic ledger of
cotton T-shirt supply trees (farm origin → ginning → spinning → knitting → dyeing →
cut-and-sew → importer), with fan-in at every tier, partial dispatches and lab
evidence, signed up front and appended in batches (see ``bench/trace.py``).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey
from ledger.statements import (
    encode_statement,
    format_time,
    statement_digest,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MILLI = Decimal("0.001")
BATCH = 5000

# (pool, process, output material, yield)
TIERS: list[tuple[str, str | None, str, Decimal]] = [
    ("farm", None, "cotton.seed", Decimal(1)),
    ("gin", "cotton.ginning", "cotton.lint", Decimal("0.36")),
    ("spin", "yarn.spinning", "yarn.cotton", Decimal("0.86")),
    ("knit", "fabric.knitting", "fabric.cotton.greige", Decimal("0.96")),
    ("dye", "fabric.dyeing", "fabric.cotton", Decimal("0.90")),
    ("sew", "apparel.cut_and_sew", "apparel.tshirt", Decimal("0.80")),
]
POOLS = {"farm": 300, "gin": 30, "spin": 20, "knit": 20, "dye": 15, "sew": 15, "imp": 5, "lab": 2}
COUNTRIES: dict[str, list[tuple[str, str | None]]] = {
    "farm": [("US", "US-TX"), ("IN", "IN-GJ"), ("US", "US-GA"), ("AU", None)],
    "gin": [("US", "US-TX"), ("IN", "IN-GJ")],
    "spin": [("IN", "IN-TN"), ("VN", None)],
    "knit": [("VN", None), ("BD", None)],
    "dye": [("VN", None), ("BD", None)],
    "sew": [("VN", None), ("BD", None), ("KH", None)],
    "imp": [("US", None)],
    "lab": [("DE", None)],
}
TARGET_FANIN = (8, 2, 4, 4, 5)  # sew←dye, dye←knit, knit←spin, spin←gin, gin←farm
FILLER_FANIN = (2, 2, 2, 2, 3)


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@dataclass
class Generator:
    """Signs the statements of supply trees, in dependency order, one second apart."""

    rng: random.Random
    keys: dict[str, PrivateKey]
    sites: dict[str, tuple[str, str | None]]
    pending: list[Envelope] = field(default_factory=list)
    n: int = 0
    clock: datetime = T0

    def stmt(self, issuer: str, stype: str, /, **body: Any) -> str:
        self.n += 1
        self.clock += timedelta(seconds=1)
        doc = {
            "spec": "custody/1",
            "type": stype,
            "id": f"{stype}-{self.n}",
            "issuer": issuer,
            "time": format_time(self.clock),
            **body,
        }
        payload = encode_statement(doc)
        self.pending.append(sign_envelope(payload, [self.keys[issuer]]))
        return statement_digest(payload)

    def site(self, party: str) -> dict[str, str]:
        country, sub = self.sites[party]
        out = {"name": f"{party} site", "country": country}
        if sub:
            out["subdivision"] = sub
        return out

    def pick(self, pool: str, avoid: str | None = None) -> str:
        while True:
            party = f"{pool}-{self.rng.randrange(POOLS[pool]):04d}"
            if party != avoid:
                return party

    def lot(self, tier: int, fanin: tuple[int, ...], owner: str) -> tuple[str, Decimal]:
        """Create a lot at ``tier`` owned by ``owner``; return it and its mass (kg)."""
        _, process, material, ratio = TIERS[tier]
        lot_id = f"{owner}/{material}-{self.n + 1}"
        if process is None:
            kg = Decimal(self.rng.randrange(5000, 12000))
            self.stmt(
                owner,
                "origin",
                lot={"id": lot_id, "material": material, "quantity": kg, "unit": "kg"},
                site=self.site(owner),
            )
            return lot_id, kg
        inputs: list[dict[str, Any]] = []
        total = Decimal(0)
        for _ in range(fanin[len(fanin) - tier]):
            supplier = self.pick(TIERS[tier - 1][0])
            src, kg = self.lot(tier - 1, fanin, supplier)
            main = (kg * Decimal(self.rng.choice(("0.7", "0.75", "0.8", "0.85")))).quantize(MILLI)
            d = self.stmt(supplier, "dispatch", lot=src, quantity=main, unit="kg", to=owner)
            self.stmt(owner, "receipt", dispatch=d, quantity=main, unit="kg")
            self.sibling(tier, src, kg - main, supplier, owner)
            inputs.append({"lot": src, "quantity": main, "unit": "kg"})
            total += main
        out_kg = (total * ratio).quantize(MILLI)
        output: dict[str, Any] = {"id": lot_id, "material": material}
        if material == "apparel.tshirt":
            output.update(quantity=int(out_kg / Decimal("0.18")), unit="pcs", mass_kg=out_kg)
        else:
            output.update(quantity=out_kg, unit="kg")
        assert process is not None
        self.stmt(
            owner,
            "transform",
            process=process,
            inputs=inputs,
            outputs=[output],
            site=self.site(owner),
        )
        if tier == 1 and self.rng.random() < 0.1:
            self.stmt(
                self.pick("lab"),
                "evidence",
                lots=[lot_id],
                kind="isotope_test",
                document={
                    "sha256": f"{self.n:064x}",
                    "name": f"isotope-{self.n}.pdf",
                    "media_type": "application/pdf",
                    "size": 1000,
                },
            )
        return lot_id, out_kg

    def sibling(self, tier: int, lot: str, kg: Decimal, supplier: str, owner: str) -> None:
        """The rest of a lot goes to another buyer, who transforms it (off the target's path)."""
        buyer = self.pick(TIERS[tier][0], avoid=owner)
        d = self.stmt(supplier, "dispatch", lot=lot, quantity=kg, unit="kg", to=buyer)
        self.stmt(buyer, "receipt", dispatch=d, quantity=kg, unit="kg")
        _, process, material, ratio = TIERS[tier]
        assert process is not None
        out_kg = (kg * ratio).quantize(MILLI)
        self.stmt(
            buyer,
            "transform",
            process=process,
            inputs=[{"lot": lot, "quantity": kg, "unit": "kg"}],
            outputs=[
                {
                    "id": f"{buyer}/{material}-{self.n + 1}",
                    "material": material,
                    "quantity": out_kg
                    if material != "apparel.tshirt"
                    else int(out_kg / Decimal("0.18")),
                    "unit": "kg" if material != "apparel.tshirt" else "pcs",
                    **({"mass_kg": out_kg} if material == "apparel.tshirt" else {}),
                }
            ],
            site=self.site(buyer),
        )

    def good(self, fanin: tuple[int, ...], entry: int) -> str:
        """A finished good: the T-shirt tree, dispatched to an importer and imported."""
        sewer = self.pick("sew")
        tee, kg = self.lot(len(TIERS) - 1, fanin, sewer)
        pcs = int(kg / Decimal("0.18"))
        importer = self.pick("imp")
        d = self.stmt(sewer, "dispatch", lot=tee, quantity=pcs, unit="pcs", to=importer)
        self.stmt(importer, "receipt", dispatch=d, quantity=pcs, unit="pcs")
        self.stmt(
            importer,
            "import",
            lot=tee,
            quantity=pcs,
            unit="pcs",
            entry_number=f"BNC-{entry:07d}-1",
        )
        return tee


class Bench:
    def __init__(self, home: Path, seed: int) -> None:
        self.home = Home(home)
        self.ledger, _ = self.home.init(origin="custody.bench/ledger", time=T0)
        self.ledger.verifier = lambda items: [True] * len(items)  # generator's own signatures
        operator = self.home.operator_key()
        rng = random.Random(seed)
        self.gen = Generator(rng, {"operator": operator}, {})
        self.size = 1
        self.entries = 0
        self._register(operator)

    def _register(self, operator: PrivateKey) -> None:
        for pool, count in POOLS.items():
            for i in range(count):
                pid = f"{pool}-{i:04d}"
                key = PrivateKey.generate()
                self.gen.keys[pid] = key
                self.gen.sites[pid] = self.gen.rng.choice(COUNTRIES[pool])
                country, sub = self.gen.sites[pid]
                info: dict[str, Any] = {
                    "id": pid,
                    "name": f"{pool.title()} {i} Company",
                    "country": country,
                    "roles": ["lab"] if pool == "lab" else ["supplier"],
                }
                if pool == "imp":
                    info["roles"] = ["importer"]
                if sub:
                    info["subdivision"] = sub
                self.gen.stmt("operator", "party", party=info, keys=[key.public_key_b64])
        self.flush()

    def flush(self) -> None:
        pending, self.gen.pending = self.gen.pending, []
        for i in range(0, len(pending), BATCH):
            results = self.ledger.submit(pending[i : i + BATCH])
            bad = [r for r in results if r.error is not None]
            if bad:
                raise SystemExit(f"generator statement rejected: {bad[0].error}")
            self.size += len(results)

    def fill(self, target_size: int, label: str) -> None:
        start = time.perf_counter()
        while self.size < target_size:
            self.entries += 1
            self.gen.good(FILLER_FANIN, self.entries)
            if len(self.gen.pending) >= BATCH:
                self.flush()
                rate = (self.size) / max(time.perf_counter() - start, 1e-9)
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r{label}: {self.size}/{target_size} ({rate:,.0f}/s)")
        self.flush()
        if sys.stderr.isatty():
            sys.stderr.write("\n")

    def target(self) -> str:
        self.entries += 1
        tee = self.gen.good(TARGET_FANIN, self.entries)
        self.flush()
        return tee
