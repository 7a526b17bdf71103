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
4. Cotton towels from Pakistan whose every hand-off is documented, but whose gin
   was paid through a third party and whose isotope test contradicts the claimed
   origin.

Every hand-off of the clean chain carries a typed commercial invoice, transport
document and payment record, so it passes under the default ``cbp-uflpa``
document profile.

Every party has its own Ed25519 key (written to ``<out>/keys``); every
statement is signed by its issuer and appended through the same pipeline as
``custody submit``.

* :mod:`~cli.demo.story`: the scenarios and their expected verdicts, parties, helpers;
* :mod:`~cli.demo.apparel`: chains 1 and 3; :mod:`~cli.demo.solar`: chain 2;
  :mod:`~cli.demo.towels`: chain 4;
* ``cli/demo_cmds.py``: the ``custody demo`` command that runs them.
"""

from __future__ import annotations

from collections.abc import Callable

from cli.demo.apparel import cotton_and_blend
from cli.demo.solar import polysilicon
from cli.demo.story import SCENARIOS, START, Party, Scenario, Story
from cli.demo.towels import towels

__all__ = ["SCENARIOS", "START", "STEPS", "Party", "Scenario", "Story"]

STEPS: tuple[tuple[str, Callable[[Story], None]], ...] = (
    ("cotton T-shirts and blended hoodies", cotton_and_blend),
    ("solar modules", polysilicon),
    ("cotton towels", towels),
)
