"""What an offline verification verifies: the subject lot, and whether the verifier pinned it.

The manifest's ``subject`` is unsigned: anyone can relabel a failing bundle
with an upstream lot that passes. An auditor verifies an entry, so
:func:`pin_subject` takes the subject from what the verifier asks for:

* ``entry_number``: the lot of the signed ``import`` statement declaring that
  CBP entry among the proven leaves (with ``lot`` too, that lot's import);
  none, or several lots and no ``lot`` to choose, is a problem that stops the
  verification;
* ``lot`` alone: that lot;
* neither: the manifest's claim, reported as not pinned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import CustodyError
from ledger.leaf import decode_leaf
from ledger.statements import Import
from provenance.bundle.results import SubjectSource

__all__ = ["Pinned", "declared_lots", "pin_subject"]


@dataclass(frozen=True)
class Pinned:
    subject: str | None
    source: SubjectSource
    problem: str | None = None
    lots: tuple[str, ...] = ()


def declared_lots(leaves: Mapping[int, bytes], entry_number: str) -> set[str]:
    """The lots that signed ``import`` statements among ``leaves`` declare as ``entry_number``.

    Only proven leaves are passed here; one that does not decode is skipped
    (the rules report it).
    """
    lots: set[str] = set()
    for seq in sorted(leaves):
        try:
            st = decode_leaf(leaves[seq]).statement
        except (CustodyError, RecursionError):
            continue
        if isinstance(st, Import) and st.entry_number == entry_number:
            lots.add(st.lot)
    return lots


def pin_subject(
    leaves: Mapping[int, bytes], claimed: str, entry_number: str | None, lot: str | None
) -> Pinned:
    """The subject to verify (see the module docstring)."""
    if entry_number is None:
        return Pinned(lot or claimed, "manifest" if lot is None else "lot")
    lots = declared_lots(leaves, entry_number)
    if lot is not None and lot in lots:
        return Pinned(lot, "entry_number", lots=(lot,))
    if len(lots) == 1 and lot is None:
        return Pinned(lots.pop(), "entry_number", lots=tuple(lots))
    if lots:
        why = f"is declared for lot(s) {', '.join(sorted(lots))}" + (
            "" if lot is None else f", not {lot!r}"
        )
    else:
        why = "is declared by no signed import statement among the proven leaves"
    problem = f"CBP entry {entry_number!r} {why}: the bundle cannot be verified as that entry"
    return Pinned(lot, "entry_number", problem, tuple(sorted(lots)))
