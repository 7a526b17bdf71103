"""The ledger as the EPCIS mapping asks it: parties by GLN, dispatches in transit.

GLNs come from the signed ``party`` registrations (``party.glns`` and
``party.identifiers.gln``), read once per import; dispatches in transit are
looked up per receipt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.leaf import decode_leaf
from ledger.statements import Party
from ledger.units import BASE_UNITS, Quantity, dimension_of
from provenance.epcis.mapping import Place

if TYPE_CHECKING:
    from ledger.log import Ledger

__all__ = ["LedgerDirectory"]


class LedgerDirectory:
    """:class:`provenance.epcis.events.Directory` over a local ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.glns: dict[str, str] = {}
        self.places: dict[str, Place] = {}
        with ledger.store.read() as r:
            for record in r.parties():
                self.places[record.id] = Place(record.name, record.country, record.subdivision)
                statement = decode_leaf(r.entry(record.seq).leaf, record.seq).statement
                if isinstance(statement, Party):
                    info = statement.party
                    for gln in (*info.glns, info.identifiers.get("gln")):
                        if gln:
                            self.glns.setdefault(gln, info.id)

    def party_of_gln(self, gln: str) -> str | None:
        return self.glns.get(gln)

    def has_party(self, party: str) -> bool:
        return party in self.places

    def place_of(self, party: str) -> Place | None:
        return self.places.get(party)

    def dispatch_for(self, party: str, lot: str) -> tuple[str, Quantity] | None:
        with self.ledger.store.read() as r:
            record = r.lot(lot)
            for dispatch in r.dispatches_of(lot=lot, party=party):
                if dispatch.to == party and dispatch.received is None and record is not None:
                    unit = BASE_UNITS[dimension_of(record.unit)]
                    return dispatch.digest, Quantity(dispatch.quantity, unit)
        return None

    def existing(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(issuer, id) → (seq, digest) of the statements already appended."""
        with self.ledger.store.read() as r:
            return r.by_issuer_ids(keys)
