"""Demo chains 1 and 3: clean cotton T-shirts, and partly traced cotton/polyester hoodies.

Clean cotton: a Texas farm → gin → spinner (Vietnam) → knitting and dyeing mill
(Vietnam) → garment factory (Cambodia) → exporter (Cambodia) → US importer, with
partial dispatches to two buyers, invoices, bills of lading, payment records and an
isotope test by a lab. The blend's polyester comes from an unnamed spinner outside
the ledger.
"""

from __future__ import annotations

from decimal import Decimal

from cli.demo.story import Story, invoice_text, output_lot, site_of


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
        site_of("Lubbock County field 7", "US", "US-TX"),
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
        [output_lot("plains-gin/lint-2026-001", "cotton.lint", 7000)],
        site_of("Plains Cooperative Gin", "US", "US-TX"),
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
        invoice_text(
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
        [output_lot("saigon-spinning/yarn-30s-2026-09", "yarn.cotton", 3500)],
        site_of("Binh Duong spinning mill", "VN"),
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
        [output_lot("mekong-knit/greige-2026-031", "fabric.cotton.greige", 3350)],
        site_of("Nhon Trach knitting", "VN"),
    )
    mill.make(
        "fabric.dyeing",
        [("mekong-knit/greige-2026-031", 3350, "kg")],
        [output_lot("mekong-knit/jersey-2026-031", "fabric.cotton", 3200)],
        site_of("Nhon Trach dye house", "VN"),
    )
    mill.ship("mekong-knit/jersey-2026-031", 3200, "kg", factory)
    factory.make(
        "apparel.cut_and_sew",
        [("mekong-knit/jersey-2026-031", 3200, "kg")],
        [
            output_lot(
                "angkor-garments/tshirts-2026-07", "apparel.tshirt", 16000, "pcs", mass_kg=2560
            )
        ],
        site_of("Phnom Penh SEZ factory", "KH"),
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
        invoice_text(
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
        [output_lot("blendco/yarn-cvc-2026-02", "yarn.blend", 3500)],
        site_of("Savar blended yarn mill", "BD"),
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
        [output_lot("blendco/fleece-2026-02", "fabric.blend", 3300)],
        site_of("Savar knitting", "BD"),
    )
    blend.make(
        "apparel.cut_and_sew",
        [("blendco/fleece-2026-02", 3300, "kg")],
        [output_lot("blendco/hoodies-2026-05", "apparel.hoodie", 5500, "pcs", mass_kg=2640)],
        site_of("Savar garment unit", "BD"),
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
