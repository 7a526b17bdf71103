"""``custody epcis import --server``: the import's questions asked over HTTP.

The events are mapped and signed on this computer (the server never signs for
a party) and the statements submitted in batches of 1,000 through
``POST /v1/entries/batch``. The questions the mapping asks are answered from
``GET /v1/statements`` as the key's party sees it: parties by GLN from the
``party`` registrations it may see (its own at least), its own statements (a
second import appends nothing), and the dispatches of a lot addressed to it
that none of its receipts names yet. A location whose GLN is not one of those
parties' is taken as another party's, and its event is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger import strictjson
from ledger.units import Quantity
from provenance.epcis.mapping import Place

if TYPE_CHECKING:
    from cli.client import Client
    from ledger.envelope import Envelope

PAGE = 1000


class RemoteDirectory:
    """:class:`provenance.epcis.importer.ImportDirectory` over a custody server."""

    partial = True  # other parties' GLNs may be unknown here: their events are skipped

    def __init__(self, client: Client, party: str) -> None:
        self.client = client
        self.party = party
        self.glns: dict[str, str] = {}
        self.places: dict[str, Place] = {}
        self._mine: dict[str, tuple[int, str]] | None = None
        for item in self._statements(type="party"):
            info = item["statement"]["party"]
            self.places[info["id"]] = Place(info["name"], info["country"], info.get("subdivision"))
            for gln in (*info.get("glns", ()), info.get("identifiers", {}).get("gln")):
                if gln:
                    self.glns.setdefault(gln, info["id"])

    def _statements(self, **filters: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {**filters, "limit": PAGE, "cursor": cursor}
            resp = self.client._get("/v1/statements", **params)
            page = strictjson.loads(resp.content, decimals=True)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def party_of_gln(self, gln: str) -> str | None:
        return self.glns.get(gln)

    def has_party(self, party: str) -> bool:
        return True  # the server checks the parties a statement names

    def place_of(self, party: str) -> Place | None:
        return self.places.get(party)

    def dispatch_for(self, party: str, lot: str) -> tuple[str, Quantity] | None:
        received = {
            item["statement"]["dispatch"]
            for item in self._statements(type="receipt", lot=lot, issuer=party)
        }
        for item in self._statements(type="dispatch", lot=lot):
            statement = item["statement"]
            if statement["to"] == party and item["digest"] not in received:
                amount = Decimal(str(statement["quantity"]))
                return item["digest"], Quantity(amount, statement["unit"])
        return None

    def existing(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        if self._mine is None:
            self._mine = {
                item["id"]: (int(item["seq"]), item["digest"])
                for item in self._statements(issuer=self.party)
            }
        mine = self._mine
        return {key: mine[key[1]] for key in keys if key[0] == self.party and key[1] in mine}


def remote_append(client: Client) -> Any:
    """Batches appended through the server, one request each, results in order."""

    def append(batches: Iterator[list[Envelope]]) -> Iterator[list[dict[str, Any]]]:
        for batch in batches:
            yield client.submit(list(batch)) if batch else []

    return append
