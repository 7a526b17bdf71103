"""Demo chains 1 and 3: clean cotton T-shirts, and partly traced cotton/polyester hoodies.

Clean cotton: a Texas farm → gin → spinner (Vietnam) → knitting and dyeing mill
(Vietnam) → garment factory (Cambodia) → exporter (Cambodia) → US importer, with
partial dispatches to two buyers, invoices, bills of lading, payment records and an
isotope test by a lab. The blend's polyester comes from an unnamed spinner outside
the ledger.
"""

from __future__ import annotations

from decimal import Decimal

from cli.demo.story import Deal, Story, output_lot, site_of


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
    farm.trade(
        "lubbock-farm/seed-cotton-2026-001",
        20000,
        "kg",
        gin,
        Deal(
            "LF-2026-0007",
            "30000.00",
            "LF-0001",
            "Lubbock County field 7",
            "Plains Cooperative Gin, Lubbock",
            "Lubbock Cotton Haulers LLC",
            "US",
            mode="road",
        ),
    )
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
        fields={
            "site": site_of("Plains Cooperative Gin", "US", "US-TX"),
            "capacity_per_day": {"quantity": Decimal(60000), "unit": "kg"},
            "period": {"start": "2026-02-01", "end": "2026-02-28"},
            "output": {"quantity": Decimal(7000), "unit": "kg"},
        },
    )
    # partial dispatches to two buyers
    gin.trade(
        "plains-gin/lint-2026-001",
        4000,
        "kg",
        spinner,
        Deal(
            "PG-2026-044",
            "8800.00",
            "MAEU-2026-1187",
            "Houston",
            "Cat Lai",
            "Maersk A/S",
            "DK",
            vessel="Maersk Kensington",
            containers=("CSQU3054383",),
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
    spinner.trade(
        "saigon-spinning/yarn-30s-2026-09",
        3500,
        "kg",
        mill,
        Deal(
            "SCS-2026-118",
            "14000.00",
            "VN-TRK-5512",
            "Di An, Binh Duong",
            "Nhon Trach, Dong Nai",
            "Saigon Trucking Co., Ltd.",
            "VN",
            mode="road",
        ),
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
    mill.trade(
        "mekong-knit/jersey-2026-031",
        3200,
        "kg",
        factory,
        Deal(
            "MK-2026-090",
            "22400.00",
            "HLCU-2026-3321",
            "Cat Lai",
            "Phnom Penh Autonomous Port",
            "Hapag-Lloyd AG",
            "DE",
            vessel="Mekong Star",
        ),
    )
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
    factory.trade(
        "angkor-garments/tshirts-2026-07",
        16000,
        "pcs",
        exporter,
        Deal(
            "AG-2026-071",
            "38400.00",
            "KH-TRK-0716",
            "Phnom Penh SEZ",
            "Sihanoukville",
            "Phnom Penh Logistics Co., Ltd.",
            "KH",
            mode="road",
        ),
    )
    exporter.trade(
        "angkor-garments/tshirts-2026-07",
        16000,
        "pcs",
        importer,
        Deal(
            "TST-2026-310",
            "41600.00",
            "ONEY-2026-5521",
            "Sihanoukville",
            "Long Beach",
            "Ocean Network Express Pte. Ltd.",
            "SG",
            vessel="ONE Harmony",
        ),
    )
    lab.document(
        ["angkor-garments/tshirts-2026-07"],
        "lab_test",
        "ORITAIN-2026-7781.txt",
        "Stable isotope ratio analysis of 12 garments: consistent with the US "
        "(Texas High Plains) cotton reference set.\n",
        fields={
            "laboratory": "isotope-lab",
            "accreditation": "IANZ-1287",
            "method": "stable_isotope",
            "sample": {
                "id": "OR-7781",
                "collected_by": "isotope-lab",
                "collected_on": s.clock.date().isoformat(),
                "custody": [
                    {"from": "importer", "to": "isotope-lab", "date": s.clock.date().isoformat()}
                ],
            },
            "origin_claimed": {"country": "US", "subdivision": "US-TX"},
            "result": "consistent",
            "date": s.clock.date().isoformat(),
            "report_number": "ORITAIN-2026-7781",
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
