"""What export and offline verification share without loading each other's dependencies.

:func:`batch` (the garbage collector paused for one export or verification, the one
of :mod:`provenance.verify`) and
:func:`require_import` (an entry number must be declared by a signed ``import``)
live here so that :mod:`provenance.bundle.verify` does not import
:mod:`provenance.bundle.export`, which loads the report renderer and the ledger's
graph queries that offline verification does not need.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.errors import InputError
from ledger.statements import Import, Statement
from provenance.verify import batch

__all__ = ["batch", "require_import"]


def require_import(statements: Mapping[int, Statement], lot: str, entry_number: str) -> None:
    """Raise InputError unless an ``import`` statement declares ``lot`` as ``entry_number``."""
    for stmt in statements.values():
        if isinstance(stmt, Import) and stmt.lot == lot and stmt.entry_number == entry_number:
            return
    declared = sorted(
        {s.entry_number for s in statements.values() if isinstance(s, Import) and s.lot == lot}
    )
    hint = f" (it is declared as {', '.join(declared)})" if declared else ""
    raise InputError(
        f"no import statement declares lot {lot!r} as CBP entry {entry_number!r}{hint}",
        code="invalid_input.entry_number",
        details={"lot": lot, "entry_number": entry_number, "declared": declared},
    )
