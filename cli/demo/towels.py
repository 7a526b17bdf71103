"""Demo chain 4: cotton towels paid to a third party, with an isotope test against them.

A Punjab farm → gin → towel mill (Pakistan) → US importer. Every hand-off has its
typed invoice, bill of lading and payment record, but the mill paid the gin's
invoice to a Hong Kong trading company instead of the gin (PAYMENT), and the
importer's laboratory finds the towels' stable-isotope profile inconsistent with
the Punjab origin the chain claims (LAB-TEST): the verdict is ``fail``.
"""

from __future__ import annotations

from decimal import Decimal

from cli.demo.story import Deal, Story, output_lot, site_of


def towels(s: Story) -> None:
    farm = s.party(
        "punjab-farm",
        "Punjab Cotton Growers",
        "PK",
        subdivision="PK-PB",
        address="Chak 45, Multan District",
    )
    gin = s.party(
        "multan-gin",
        "Multan Ginning Factory (Pvt) Ltd.",
        "PK",
        subdivision="PK-PB",
        address="Vehari Road, Multan",
    )
    mill = s.party(
        "indus-home",
        "Indus Home Textiles Ltd.",
        "PK",
        subdivision="PK-SD",
        address="Korangi Industrial Area, Karachi",
    )
    importer = s.party(
        "bath-depot",
        "Bath Depot Inc.",
        "US",
        roles=("importer",),
        subdivision="US-GA",
        address="Atlanta, GA 30303",
    )
    lab = s.party("agroisolab", "Agroisolab GmbH", "DE", roles=("lab",), address="Jülich")

    farm.origin(
        "punjab-farm/seed-2026-04",
        "cotton.seed",
        9000,
        site_of("Multan farm block 12", "PK", "PK-PB"),
    )
    farm.trade(
        "punjab-farm/seed-2026-04",
        9000,
        "kg",
        gin,
        Deal(
            "PCG-2026-031",
            "6300.00",
            "MLT-TRK-0031",
            "Multan farm block 12",
            "Multan ginning factory",
            "Multan Goods Transport",
            "PK",
            mode="road",
        ),
    )
    gin.make(
        "cotton.ginning",
        [("punjab-farm/seed-2026-04", 9000, "kg")],
        [output_lot("multan-gin/lint-2026-04", "cotton.lint", 3150)],
        site_of("Multan ginning factory", "PK", "PK-PB"),
    )
    # the mill pays the gin's invoice to a trading company in Hong Kong
    third_party = {"name": "Golden Bridge Trading Ltd.", "country": "HK"}
    gin.trade(
        "multan-gin/lint-2026-04",
        3150,
        "kg",
        mill,
        Deal(
            "MGF-2026-112",
            "5670.00",
            "PK-RAIL-88812",
            "Multan",
            "Karachi",
            "Pakistan Railways Freight",
            "PK",
            mode="rail",
            payee=third_party,
        ),
    )
    mill.make(
        "apparel.towel_weaving",
        [("multan-gin/lint-2026-04", 3150, "kg")],
        [output_lot("indus-home/towels-2026-11", "home.towel", 6000, "pcs", mass_kg=2700)],
        site_of("Korangi towel mill", "PK", "PK-SD"),
    )
    mill.trade(
        "indus-home/towels-2026-11",
        6000,
        "pcs",
        importer,
        Deal(
            "IHT-2026-077",
            "27000.00",
            "MSKU-2026-7741",
            "Karachi",
            "Savannah",
            "Maersk A/S",
            "DK",
            vessel="Maersk Karachi",
        ),
    )
    day = s.clock.date().isoformat()
    lab.document(
        ["indus-home/towels-2026-11"],
        "lab_test",
        "AGROISOLAB-2026-4410.txt",
        "Stable isotope ratio analysis of 8 towels: not consistent with the Punjab "
        "(Pakistan) cotton reference set; consistent with north-west China.\n",
        fields={
            "laboratory": "agroisolab",
            "accreditation": "D-PL-14153-01-00",
            "method": "stable_isotope",
            "sample": {
                "id": "AGL-4410",
                "collected_by": "agroisolab",
                "collected_on": day,
                "custody": [{"from": "bath-depot", "to": "agroisolab", "date": day}],
            },
            "origin_claimed": {"country": "PK", "subdivision": "PK-PB"},
            "result": "inconsistent",
            "date": day,
            "report_number": "AGL-2026-4410",
        },
    )
    importer.say(
        "import",
        lot="indus-home/towels-2026-11",
        quantity=Decimal(6000),
        unit="pcs",
        entry_number="NMR-2026004-8",
        hts="6302.60.0010",
        port="Savannah (1703)",
        country_of_origin="PK",
    )
