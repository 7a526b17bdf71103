"""Demo chain 2: laundered polysilicon in solar modules.

Quartz → metallurgical silicon → polysilicon → wafer → cell → solar module, where
the polysilicon refiner's outputs weigh more than its inputs and an untraced input
comes from a supplier whose name is a variant of a listed entity, located in CN-XJ.
"""

from __future__ import annotations

from decimal import Decimal

from cli.demo.story import Story, output_lot, site_of


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

    mine.origin("nordic-quartz/quartz-2026-11", "quartz", 10000, site_of("Drag quarry", "NO"))
    mine.ship("nordic-quartz/quartz-2026-11", 10000, "kg", smelter)
    smelter.make(
        "silicon.smelting",
        [("nordic-quartz/quartz-2026-11", 10000, "kg")],
        [output_lot("fjord-silicon/mgsi-2026-11", "silicon.metallurgical", 3800)],
        site_of("Bremanger smelter", "NO"),
    )
    smelter.ship("fjord-silicon/mgsi-2026-11", 3800, "kg", refiner)
    # the laundering step: 3,800 kg traced + 2,000 kg from a listed entity in CN-XJ
    # become 6,600 kg of "Malaysian" polysilicon
    refiner.make(
        "polysilicon.refining",
        [("fjord-silicon/mgsi-2026-11", 3800, "kg")],
        [output_lot("apex-poly/poly-2026-11", "polysilicon", 6600)],
        site_of("Kuching refinery", "MY"),
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
        [output_lot("sunwafer/wafers-2026-12", "wafer.silicon", 3600)],
        site_of("Bac Giang wafer fab", "VN"),
    )
    wafers.ship("sunwafer/wafers-2026-12", 3600, "kg", cells)
    cells.make(
        "cell.manufacturing",
        [("sunwafer/wafers-2026-12", 3600, "kg")],
        [output_lot("brightcell/cells-2026-01", "cell.solar", 3500)],
        site_of("Chonburi cell line", "TH"),
    )
    cells.ship("brightcell/cells-2026-01", 3500, "kg", assembler)
    assembler.make(
        "module.assembly",
        [("brightcell/cells-2026-01", 3500, "kg")],
        [output_lot("assembler/modules-2026-03", "module.solar", 1000, "pcs", mass_kg=20000)],
        site_of("Houston module plant", "US", "US-TX"),
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
