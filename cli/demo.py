"""The demo story (``custody demo``): three realistic supply chains in a fresh home.

1. Clean cotton T-shirts: a Texas farm → gin → spinner (Vietnam) → knitting and
   dyeing mill (Vietnam) → garment factory (Cambodia) → exporter (Cambodia) →
   US importer, with partial dispatches to two buyers, invoices, bills of
   lading, payment records and an isotope test by a lab.
2. Laundered polysilicon: quartz → metallurgical silicon → polysilicon → wafer
   → cell → solar module, where the polysilicon refiner's outputs weigh more
   than its inputs and an untraced input comes from a supplier whose name is a
   variant of a listed entity, located in CN-XJ.
3. Partly traced apparel: a cotton/polyester blend whose polyester comes from
   an unnamed spinner outside the ledger.

Every party has its own Ed25519 key (written to ``<out>/keys``); every
statement is signed by its issuer and appended through the same pipeline as
``custody submit``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.envelope import sign_envelope
from ledger.home import Home
from ledger.keys import PrivateKey, save_private_key, save_public_key
from ledger.log import Ledger, SubmitResult
from ledger.statements import build_statement

START = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    subject: str  # the imported lot
    entry_number: str
    expect: str  # expected verdict


SCENARIOS = (
    Scenario(
        "cotton",
        "Clean cotton T-shirts",
        "angkor-garments/tshirts-2026-07",
        "NMR-2026001-4",
        "pass",
    ),
    Scenario(
        "polysilicon",
        "Laundered polysilicon (solar modules)",
        "assembler/modules-2026-03",
        "NMR-2026002-2",
        "fail",
    ),
    Scenario(
        "blend",
        "Partly traced apparel (cotton/polyester)",
        "blendco/hoodies-2026-05",
        "NMR-2026003-0",
        "incomplete",
    ),
)


@dataclass
class Party:
    story: Story
    id: str
    key: PrivateKey
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def say(self, type_: str, **body: Any) -> SubmitResult:
        """Sign and append one statement; raise if the ledger rejects it."""
        self.story.clock += timedelta(hours=7)
        sid = f"{type_}-{next(self._ids):03d}"
        payload = build_statement(type_, sid, self.id, self.story.clock, **body)
        (res,) = self.story.ledger.submit([sign_envelope(payload, [self.key])])
        if res.error is not None:
            raise res.error
        self.story.count += 1
        return res

    def origin(self, lot: str, material: str, kg: int, site: dict[str, Any]) -> None:
        self.say(
            "origin",
            lot={"id": lot, "material": material, "quantity": Decimal(kg), "unit": "kg"},
            site=site,
        )

    def ship(
        self,
        lot: str,
        qty: int | Decimal,
        unit: str,
        to: Party,
        documents: list[dict[str, str]] | None = None,
    ) -> None:
        """Dispatch, and the addressee's receipt of the full quantity."""
        body: dict[str, Any] = {"lot": lot, "quantity": Decimal(qty), "unit": unit, "to": to.id}
        if documents:
            body["documents"] = documents
        d = self.say("dispatch", **body)
        assert d.digest is not None
        to.say("receipt", dispatch=d.digest, quantity=Decimal(qty), unit=unit)

    def make(
        self,
        process: str,
        inputs: list[tuple[str, int, str]],
        outputs: list[dict[str, Any]],
        site: dict[str, Any],
        external: list[dict[str, Any]] | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "process": process,
            "inputs": [{"lot": lot, "quantity": Decimal(q), "unit": u} for lot, q, u in inputs],
            "outputs": outputs,
            "site": site,
        }
        if external:
            body["external_inputs"] = external
        self.say("transform", **body)

    def document(
        self, lots: list[str], kind: str, name: str, text: str, claims: dict[str, Any] | None = None
    ) -> dict[str, str]:
        """Write a document file, store it in the home, and bind it to lots."""
        path = self.story.docs_dir / name
        path.write_text(text, encoding="utf-8")
        sha, size = self.story.home.store_document(path)
        body: dict[str, Any] = {
            "lots": lots,
            "kind": kind,
            "document": {"sha256": sha, "name": name, "media_type": "text/plain", "size": size},
        }
        if claims:
            body["claims"] = claims
        self.say("evidence", **body)
        return {"sha256": sha, "kind": kind, "name": name}

    def attach(self, kind: str, name: str, text: str) -> dict[str, str]:
        """A document carried by a dispatch (bill of lading), stored but not a statement."""
        path = self.story.docs_dir / name
        path.write_text(text, encoding="utf-8")
        sha, _ = self.story.home.store_document(path)
        return {"sha256": sha, "kind": kind, "name": name}


class Story:
    def __init__(self, home: Home, ledger: Ledger, keys_dir: Path, docs_dir: Path) -> None:
        self.home = home
        self.ledger = ledger
        self.keys_dir = keys_dir
        self.docs_dir = docs_dir
        self.operator = Party(self, "operator", home.operator_key())
        self.clock = START
        self.count = 0
        keys_dir.mkdir(parents=True, exist_ok=True)
        docs_dir.mkdir(parents=True, exist_ok=True)

    def party(
        self,
        pid: str,
        name: str,
        country: str,
        *,
        roles: tuple[str, ...] = ("supplier",),
        subdivision: str | None = None,
        address: str | None = None,
    ) -> Party:
        key = PrivateKey.generate()
        save_private_key(self.keys_dir / f"{pid}.key", key)
        save_public_key(self.keys_dir / f"{pid}.pub", key.public_key)
        info: dict[str, Any] = {"id": pid, "name": name, "country": country, "roles": list(roles)}
        if subdivision:
            info["subdivision"] = subdivision
        if address:
            info["address"] = address
        self.operator.say("party", party=info, keys=[key.public_key_b64])
        return Party(self, pid, key)


def _site(name: str, country: str, subdivision: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"name": name, "country": country}
    if subdivision:
        s["subdivision"] = subdivision
    return s


def _out(
    lot: str, material: str, qty: int, unit: str = "kg", mass_kg: int | None = None
) -> dict[str, Any]:
    o: dict[str, Any] = {"id": lot, "material": material, "quantity": Decimal(qty), "unit": unit}
    if mass_kg is not None:
        o["mass_kg"] = Decimal(mass_kg)
    return o


def _invoice(no: str, seller: str, buyer: str, goods: str, amount: str) -> str:
    return (
        f"COMMERCIAL INVOICE {no}\nSeller: {seller}\nBuyer: {buyer}\n"
        f"Goods: {goods}\nAmount: {amount}\nTerms: FOB\n"
    )


def cotton_and_blend(s: Story) -> None:
    """Scenarios 1 and 3 share the gin, whose lint goes to two buyers."""
    farm = s.party(
        "lubbock-farm",
        "Lubbock Family Cotton Farm LLC",
        "US",
        subdivision="US-TX",
        address="County Road 1440, Lubbock, TX 79407",
    )
    gin = s.party(
        "plains-gin",
        "Plains Cooperative Gin",
        "US",
        subdivision="US-TX",
        address="2200 E 50th St, Lubbock, TX 79404",
    )
    spinner = s.party(
        "saigon-spinning",
        "Saigon Cotton Spinning JSC",
        "VN",
        address="Lot C2, Tan Dong Hiep B IP, Di An, Binh Duong",
    )
    mill = s.party(
        "mekong-knit",
        "Mekong Knitting & Dyeing Co., Ltd.",
        "VN",
        address="Nhon Trach 3 IP, Dong Nai",
    )
    factory = s.party(
        "angkor-garments",
        "Angkor Garment Manufacturing Co., Ltd.",
        "KH",
        address="Phnom Penh SEZ, National Road 4, Phnom Penh",
    )
    exporter = s.party(
        "exporter",
        "Tonle Sap Trading Co., Ltd.",
        "KH",
        address="No. 12 Preah Norodom Blvd, Phnom Penh",
    )
    importer = s.party(
        "importer",
        "Prairie Apparel Inc.",
        "US",
        roles=("importer",),
        subdivision="US-IL",
        address="401 N Michigan Ave, Chicago, IL 60611",
    )
    lab = s.party(
        "isotope-lab",
        "Oritain Traceability Lab",
        "NZ",
        roles=("lab",),
        address="Dunedin, New Zealand",
    )
    blend = s.party(
        "blendco",
        "Delta Blend Spinning Ltd.",
        "BD",
        roles=("supplier", "importer"),
        address="Dhaka EPZ, Savar, Dhaka",
    )

    farm.origin(
        "lubbock-farm/seed-cotton-2026-001",
        "cotton.seed",
        20000,
        _site("Lubbock County field 7", "US", "US-TX"),
    )
    bol = farm.attach(
        "bill_of_lading",
        "BOL-LF-0001.txt",
        "TRUCK BILL OF LADING LF-0001\n20,000 kg seed cotton, modules 1-12\n",
    )
    farm.ship("lubbock-farm/seed-cotton-2026-001", 20000, "kg", gin, [bol])
    gin.make(
        "cotton.ginning",
        [("lubbock-farm/seed-cotton-2026-001", 20000, "kg")],
        [_out("plains-gin/lint-2026-001", "cotton.lint", 7000)],
        _site("Plains Cooperative Gin", "US", "US-TX"),
    )
    gin.document(
        ["plains-gin/lint-2026-001"],
        "production_record",
        "GIN-TURNOUT-2026-001.txt",
        "Gin turnout report: 20,000 kg seed cotton -> 7,000 kg lint (35%)\n",
    )
    # partial dispatches to two buyers
    bol1 = gin.attach(
        "bill_of_lading",
        "BOL-MAEU-2026-1187.txt",
        "OCEAN BILL OF LADING MAEU-2026-1187\nHouston -> Cat Lai\n4,000 kg lint\n",
    )
    gin.ship("plains-gin/lint-2026-001", 4000, "kg", spinner, [bol1])
    gin.document(
        ["plains-gin/lint-2026-001"],
        "invoice",
        "INV-PG-2026-044.txt",
        _invoice(
            "PG-2026-044",
            "Plains Cooperative Gin",
            "Saigon Cotton Spinning JSC",
            "4,000 kg upland cotton lint",
            "USD 8,800.00",
        ),
    )
    bol2 = gin.attach(
        "bill_of_lading",
        "BOL-MAEU-2026-1203.txt",
        "OCEAN BILL OF LADING MAEU-2026-1203\nHouston -> Chattogram\n3,000 kg lint\n",
    )
    gin.ship("plains-gin/lint-2026-001", 3000, "kg", blend, [bol2])

    # scenario 1: spinner -> mill -> factory -> exporter -> importer
    spinner.make(
        "yarn.spinning",
        [("plains-gin/lint-2026-001", 4000, "kg")],
        [_out("saigon-spinning/yarn-30s-2026-09", "yarn.cotton", 3500)],
        _site("Binh Duong spinning mill", "VN"),
    )
    spinner.ship("saigon-spinning/yarn-30s-2026-09", 3500, "kg", mill)
    spinner.document(
        ["saigon-spinning/yarn-30s-2026-09"],
        "payment_record",
        "PAY-PG-2026-044.txt",
        "Wire transfer USD 8,800.00 to Plains Cooperative Gin\n",
    )
    mill.make(
        "fabric.knitting",
        [("saigon-spinning/yarn-30s-2026-09", 3500, "kg")],
        [_out("mekong-knit/greige-2026-031", "fabric.cotton.greige", 3350)],
        _site("Nhon Trach knitting", "VN"),
    )
    mill.make(
        "fabric.dyeing",
        [("mekong-knit/greige-2026-031", 3350, "kg")],
        [_out("mekong-knit/jersey-2026-031", "fabric.cotton", 3200)],
        _site("Nhon Trach dye house", "VN"),
    )
    mill.ship("mekong-knit/jersey-2026-031", 3200, "kg", factory)
    factory.make(
        "apparel.cut_and_sew",
        [("mekong-knit/jersey-2026-031", 3200, "kg")],
        [_out("angkor-garments/tshirts-2026-07", "apparel.tshirt", 16000, "pcs", mass_kg=2560)],
        _site("Phnom Penh SEZ factory", "KH"),
    )
    factory.ship("angkor-garments/tshirts-2026-07", 16000, "pcs", exporter)
    bol3 = exporter.attach(
        "bill_of_lading",
        "BOL-ONEY-2026-5521.txt",
        "OCEAN BILL OF LADING ONEY-2026-5521\nSihanoukville -> Long Beach\n"
        "16,000 pcs cotton T-shirts, 2,560 kg\n",
    )
    exporter.ship("angkor-garments/tshirts-2026-07", 16000, "pcs", importer, [bol3])
    importer.document(
        ["angkor-garments/tshirts-2026-07"],
        "invoice",
        "INV-TST-2026-310.txt",
        _invoice(
            "TST-2026-310",
            "Tonle Sap Trading Co., Ltd.",
            "Prairie Apparel Inc.",
            "16,000 pcs 100% cotton T-shirts",
            "USD 41,600.00",
        ),
    )
    importer.document(
        ["angkor-garments/tshirts-2026-07"],
        "payment_record",
        "PAY-TST-2026-310.txt",
        "Wire transfer USD 41,600.00 to Tonle Sap Trading Co., Ltd.\n",
    )
    lab.document(
        ["angkor-garments/tshirts-2026-07"],
        "isotope_test",
        "ORITAIN-2026-7781.txt",
        "Stable isotope ratio analysis of 12 garments: consistent with the US "
        "(Texas High Plains) cotton reference set.\n",
        claims={
            "method": "stable isotope ratio analysis",
            "samples": 12,
            "result": "consistent with US-TX origin",
        },
    )
    importer.say(
        "import",
        lot="angkor-garments/tshirts-2026-07",
        quantity=Decimal(16000),
        unit="pcs",
        entry_number="NMR-2026001-4",
        hts="6109.10.0012",
        port="Long Beach (2704)",
        country_of_origin="KH",
    )

    # scenario 3: the blend spinner mixes polyester from outside the ledger
    blend.make(
        "yarn.spinning",
        [("plains-gin/lint-2026-001", 3000, "kg")],
        [_out("blendco/yarn-cvc-2026-02", "yarn.blend", 3500)],
        _site("Savar blended yarn mill", "BD"),
        external=[
            {
                "material": "fiber.polyester",
                "quantity": Decimal(1000),
                "unit": "kg",
                "country": "BD",
            }
        ],
    )
    blend.make(
        "fabric.knitting",
        [("blendco/yarn-cvc-2026-02", 3500, "kg")],
        [_out("blendco/fleece-2026-02", "fabric.blend", 3300)],
        _site("Savar knitting", "BD"),
    )
    blend.make(
        "apparel.cut_and_sew",
        [("blendco/fleece-2026-02", 3300, "kg")],
        [_out("blendco/hoodies-2026-05", "apparel.hoodie", 5500, "pcs", mass_kg=2640)],
        _site("Savar garment unit", "BD"),
    )
    blend.say(
        "import",
        lot="blendco/hoodies-2026-05",
        quantity=Decimal(5500),
        unit="pcs",
        entry_number="NMR-2026003-0",
        hts="6110.30.3053",
        port="New York (1001)",
        country_of_origin="BD",
    )


def polysilicon(s: Story) -> None:
    mine = s.party("nordic-quartz", "Nordic Quartz AS", "NO", address="Drag, Tysfjord")
    smelter = s.party("fjord-silicon", "Fjord Silicon Smelter AS", "NO", address="Bremanger")
    refiner = s.party("apex-poly", "Apex Polysilicon Sdn. Bhd.", "MY", address="Kuching, Sarawak")
    wafers = s.party(
        "sunwafer", "SunWafer Technology Co., Ltd.", "VN", address="Bac Giang Province"
    )
    cells = s.party("brightcell", "BrightCell Solar Co., Ltd.", "TH", address="Chonburi")
    assembler = s.party(
        "assembler",
        "Gulf Coast Solar Modules LLC",
        "US",
        roles=("supplier", "importer"),
        subdivision="US-TX",
        address="Houston, TX 77032",
    )

    mine.origin("nordic-quartz/quartz-2026-11", "quartz", 10000, _site("Drag quarry", "NO"))
    mine.ship("nordic-quartz/quartz-2026-11", 10000, "kg", smelter)
    smelter.make(
        "silicon.smelting",
        [("nordic-quartz/quartz-2026-11", 10000, "kg")],
        [_out("fjord-silicon/mgsi-2026-11", "silicon.metallurgical", 3800)],
        _site("Bremanger smelter", "NO"),
    )
    smelter.ship("fjord-silicon/mgsi-2026-11", 3800, "kg", refiner)
    # the laundering step: 3,800 kg traced + 2,000 kg from a listed entity in CN-XJ
    # become 6,600 kg of "Malaysian" polysilicon
    refiner.make(
        "polysilicon.refining",
        [("fjord-silicon/mgsi-2026-11", 3800, "kg")],
        [_out("apex-poly/poly-2026-11", "polysilicon", 6600)],
        _site("Kuching refinery", "MY"),
        external=[
            {
                "material": "polysilicon",
                "quantity": Decimal(2000),
                "unit": "kg",
                "supplier": "Hoshine Silicon Industry (Shan Shan) Company Ltd",
                "country": "CN",
                "subdivision": "CN-XJ",
            }
        ],
    )
    refiner.ship("apex-poly/poly-2026-11", 6600, "kg", wafers)
    wafers.make(
        "wafer.production",
        [("apex-poly/poly-2026-11", 6600, "kg")],
        [_out("sunwafer/wafers-2026-12", "wafer.silicon", 3600)],
        _site("Bac Giang wafer fab", "VN"),
    )
    wafers.ship("sunwafer/wafers-2026-12", 3600, "kg", cells)
    cells.make(
        "cell.manufacturing",
        [("sunwafer/wafers-2026-12", 3600, "kg")],
        [_out("brightcell/cells-2026-01", "cell.solar", 3500)],
        _site("Chonburi cell line", "TH"),
    )
    cells.ship("brightcell/cells-2026-01", 3500, "kg", assembler)
    assembler.make(
        "module.assembly",
        [("brightcell/cells-2026-01", 3500, "kg")],
        [_out("assembler/modules-2026-03", "module.solar", 1000, "pcs", mass_kg=20000)],
        _site("Houston module plant", "US", "US-TX"),
        external=[
            {
                "material": "glass.solar",
                "quantity": Decimal(14000),
                "unit": "kg",
                "supplier": "Gulf Float Glass LLC",
                "country": "US",
                "subdivision": "US-TX",
            },
            {
                "material": "aluminium.frame",
                "quantity": Decimal(3000),
                "unit": "kg",
                "supplier": "Lone Star Extrusions Inc",
                "country": "US",
                "subdivision": "US-TX",
            },
        ],
    )
    assembler.say(
        "import",
        lot="assembler/modules-2026-03",
        quantity=Decimal(1000),
        unit="pcs",
        entry_number="NMR-2026002-2",
        hts="8541.43.0010",
        port="Houston (5301)",
        country_of_origin="TH",
    )


STEPS: tuple[tuple[str, Callable[[Story], None]], ...] = (
    ("cotton T-shirts and blended hoodies", cotton_and_blend),
    ("solar modules", polysilicon),
)
