"""Read from storage what verifying one lot needs (SPEC §6, and the bundle
contents of SPEC §7).

:func:`collect` asks the store's upstream walk
(:meth:`ledger.store.ReadTx.trace_entries`, one recursive query over the
``lot_refs`` index: a lot's creator is its ``output`` row; a ``transform``
creator's ``input`` rows are the upstream lots) for every statement that names
a traced lot (creation, draws, dispatches to any buyer, receipts, evidence,
imports: so double-spending by siblings is visible), then adds the ``party`` /
``key`` / ``revoke`` history of every party those statements name, and always
seq 0. Memory grows with the trace, never with the ledger.

The API's visibility rules use the same walk (:meth:`ledger.store.ReadTx.upstream`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.errors import NotFoundError

if TYPE_CHECKING:  # offline verification never loads the store
    from ledger.store import ReadTx, StoredEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Collected:
    """What :func:`collect` read for one subject lot.

    ``entries`` are sorted by seq. ``leaf_nodes`` holds the stored level-0
    Merkle node of each entry (``None`` when the row is missing) and
    ``missing_seqs`` the seqs the ``lot_refs`` index names but ``entries``
    lacks, both for the store-level INTEGRITY checks of
    :func:`provenance.verify.verify_lot`.
    """

    subject: str
    lots: set[str]
    entries: list[StoredEntry]
    leaf_nodes: dict[int, bytes | None] = field(default_factory=dict)
    missing_seqs: list[int] = field(default_factory=list)


def collect(r: ReadTx, lot: str) -> Collected:
    """Read the entries that verifying ``lot`` needs (see the module docstring).

    Raises :class:`ledger.errors.NotFoundError` when no statement names ``lot``.
    """
    if not r.names_lot(lot):
        raise NotFoundError(f"lot {lot!r} is not in the ledger", details={"lot": lot})
    lots = r.upstream_lots([lot])
    rows = r.trace_entries([lot])
    parties = {e.issuer for e in rows.entries}
    # Addressees of dispatches of traced lots, from the derived dispatch table
    # (which `ledger audit` re-derives): a tampered table can only leave a
    # party's keys out, which verification reports.
    parties |= r.upstream_addressees([lot])
    operator = r.operator()
    if operator is not None:
        parties.add(operator)
    have = {e.seq for e in rows.entries}
    wanted = {0, *r.party_history(parties)} - have
    if wanted:
        r.entries_with_nodes(wanted, rows)
    log.debug(
        "collected %d entries over %d lots for %s (%d parties)",
        len(rows.entries),
        len(lots),
        lot,
        len(parties),
    )
    return Collected(lot, lots, rows.entries, rows.leaf_nodes, rows.missing_seqs)
