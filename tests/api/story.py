"""A realistic cotton supply chain signed by each party's own key, for the API
tests: farm to importer, in ledger order (submitting is the caller's job)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import Envelope, sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey, save_private_key
from ledger.statements import build_statement, statement_digest


@dataclass
class Actor:
    id: str
    key: PrivateKey
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def _site(name: str, country: str, subdivision: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"name": name, "country": country}
    if subdivision:
        s["subdivision"] = subdivision
    return s


def _out(lot: str, material: str, qty: int, unit: str = "kg", mass: int | None = None) -> Any:
    o: dict[str, Any] = {"id": lot, "material": material, "quantity": Decimal(qty), "unit": unit}
    if mass is not None:
        o["mass_kg"] = Decimal(mass)
    return o


class Story:
    """Builds signed envelopes in ledger order; submitting them is the caller's job.

    ``marks`` names the envelopes the tests look up (``"import"``, ...).
    """

    def __init__(self, home: Home, keys_dir: Path | None = None) -> None:
        self.home = home
        self.operator = Actor("operator", home.operator_key())
        self.clock = datetime.now(UTC) - timedelta(days=60)
        self.envelopes: list[Envelope] = []
        self.marks: dict[str, Envelope] = {}
        self.actors: dict[str, Actor] = {}
        self.keys_dir = keys_dir

    def say(self, actor: Actor, type_: str, mark: str | None = None, **body: Any) -> Envelope:
        self.clock += timedelta(hours=3)
        sid = f"{type_}-{next(actor._n):03d}"
        env = sign_envelope(build_statement(type_, sid, actor.id, self.clock, **body), [actor.key])
        self.envelopes.append(env)
        if mark:
            self.marks[mark] = env
        return env

    def party(
        self,
        pid: str,
        name: str,
        country: str,
        *,
        roles: tuple[str, ...] = ("supplier",),
        subdivision: str | None = None,
    ) -> Actor:
        key = PrivateKey.generate()
        if self.keys_dir is not None:
            self.keys_dir.mkdir(parents=True, exist_ok=True)
            save_private_key(self.keys_dir / f"{pid}.key", key)
        info: dict[str, Any] = {"id": pid, "name": name, "country": country, "roles": list(roles)}
        if subdivision:
            info["subdivision"] = subdivision
        self.say(self.operator, "party", mark=f"party/{pid}", party=info, keys=[key.public_key_b64])
        actor = Actor(pid, key)
        self.actors[pid] = actor
        return actor

    def ship(
        self, sender: Actor, lot: str, qty: int, unit: str, to: Actor, mark: str | None = None
    ) -> None:
        d = self.say(
            sender, "dispatch", mark=mark, lot=lot, quantity=Decimal(qty), unit=unit, to=to.id
        )
        self.say(
            to, "receipt", dispatch=statement_digest(d.payload), quantity=Decimal(qty), unit=unit
        )

    def make(
        self,
        actor: Actor,
        process: str,
        inputs: list[tuple[str, int, str]],
        outputs: list[Any],
        site: dict[str, Any],
        mark: str | None = None,
    ) -> None:
        self.say(
            actor,
            "transform",
            mark=mark,
            process=process,
            inputs=[{"lot": lot, "quantity": Decimal(q), "unit": u} for lot, q, u in inputs],
            outputs=outputs,
            site=site,
        )

    def document(self, actor: Actor, lots: list[str], kind: str, name: str, text: str) -> None:
        path = self.home.path / f"upload-{name}"
        path.write_text(text, encoding="utf-8")
        sha, size = self.home.store_document(path)
        path.unlink()
        self.say(
            actor,
            "evidence",
            lots=lots,
            kind=kind,
            document={"sha256": sha, "name": name, "media_type": "text/plain", "size": size},
        )


SUBJECT = "factory/tshirts-1"
ENTRY_NUMBER = "NMR-2026001-4"


def cotton_story(home: Home, keys_dir: Path | None = None) -> Story:
    """A US cotton chain to a US importer, a competitor buying part of the same
    gin lot, an unrelated chain, an auditor and a lab.

    Roles the visibility tests use: ``farm`` (supplier upstream of the
    importer), ``farm2`` (supplier on another chain), ``importer``, ``cbp``
    (auditor); ``spinner2`` is the importer's competitor.
    """
    s = Story(home, keys_dir)
    farm = s.party("farm", "Lubbock Family Cotton Farm LLC", "US", subdivision="US-TX")
    gin = s.party("gin", "Plains Cooperative Gin", "US", subdivision="US-TX")
    spinner = s.party("spinner", "Saigon Cotton Spinning JSC", "VN")
    mill = s.party("mill", "Mekong Knitting Co., Ltd.", "VN")
    factory = s.party("factory", "Angkor Garment Manufacturing Co., Ltd.", "KH")
    importer = s.party("importer", "Prairie Apparel Inc.", "US", roles=("importer",))
    spinner2 = s.party("spinner2", "Delta Blend Spinning Ltd.", "BD")
    mill2 = s.party("mill2", "Dhaka Knit Ltd.", "BD")
    farm2 = s.party("farm2", "Georgia Cotton Growers", "US", subdivision="US-GA")
    gin2 = s.party("gin2", "Peach State Gin", "US", subdivision="US-GA")
    s.party("cbp", "U.S. Customs and Border Protection", "US", roles=("auditor",))
    lab = s.party("lab", "Isotope Traceability Lab", "NZ", roles=("lab",))

    s.say(
        farm,
        "origin",
        mark="farm-origin",
        lot={
            "id": "farm/seed-1",
            "material": "cotton.seed",
            "quantity": Decimal(20000),
            "unit": "kg",
        },
        site=_site("Lubbock County field 7", "US", "US-TX"),
    )
    s.ship(farm, "farm/seed-1", 20000, "kg", gin)
    s.make(
        gin,
        "cotton.ginning",
        [("farm/seed-1", 20000, "kg")],
        [_out("gin/lint-1", "cotton.lint", 7000)],
        _site("Plains Cooperative Gin", "US", "US-TX"),
        mark="ginning",
    )
    s.ship(gin, "gin/lint-1", 4000, "kg", spinner)
    s.ship(gin, "gin/lint-1", 3000, "kg", spinner2, mark="lint-to-competitor")
    s.make(
        spinner,
        "yarn.spinning",
        [("gin/lint-1", 4000, "kg")],
        [_out("spinner/yarn-1", "yarn.cotton", 3500)],
        _site("Binh Duong spinning mill", "VN"),
    )
    s.ship(spinner, "spinner/yarn-1", 3500, "kg", mill)
    s.make(
        mill,
        "fabric.knitting",
        [("spinner/yarn-1", 3500, "kg")],
        [_out("mill/fabric-1", "fabric.cotton", 3300)],
        _site("Nhon Trach knitting", "VN"),
    )
    s.ship(mill, "mill/fabric-1", 3300, "kg", factory)
    s.make(
        factory,
        "apparel.cut_and_sew",
        [("mill/fabric-1", 3300, "kg")],
        [_out(SUBJECT, "apparel.tshirt", 16000, "pcs", mass=2600)],
        _site("Phnom Penh SEZ factory", "KH"),
    )
    s.ship(factory, SUBJECT, 16000, "pcs", importer)
    s.document(
        lab,
        [SUBJECT],
        "isotope_test",
        "ISO-2026-7781.txt",
        "Stable isotope analysis of 12 garments: consistent with US-TX cotton.\n",
    )
    s.say(
        importer,
        "import",
        mark="import",
        lot=SUBJECT,
        quantity=Decimal(16000),
        unit="pcs",
        entry_number=ENTRY_NUMBER,
        hts="6109.10.0012",
        port="Long Beach (2704)",
        country_of_origin="KH",
    )
    # the competitor's own business with its share of the gin's lint
    s.make(
        spinner2,
        "yarn.spinning",
        [("gin/lint-1", 3000, "kg")],
        [_out("spinner2/yarn-9", "yarn.cotton", 2600)],
        _site("Savar yarn mill", "BD"),
    )
    s.ship(spinner2, "spinner2/yarn-9", 2600, "kg", mill2, mark="competitor-yarn")
    # an unrelated chain
    s.say(
        farm2,
        "origin",
        mark="farm2-origin",
        lot={
            "id": "farm2/seed-7",
            "material": "cotton.seed",
            "quantity": Decimal(10000),
            "unit": "kg",
        },
        site=_site("Tift County field 2", "US", "US-GA"),
    )
    s.ship(farm2, "farm2/seed-7", 10000, "kg", gin2)
    s.make(
        gin2,
        "cotton.ginning",
        [("farm2/seed-7", 10000, "kg")],
        [_out("gin2/lint-7", "cotton.lint", 3500)],
        _site("Peach State Gin", "US", "US-GA"),
    )
    return s
