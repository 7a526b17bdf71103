"""A lot's upstream trace as one EPCIS 2.0 JSON-LD document (``custody epcis export``).

The statements of the trace (the store's upstream walk, :func:`provenance.collect.collect`)
become events in ledger order:

==============  =============================================================
statement       EPCIS event
==============  =============================================================
``origin``      ObjectEvent ADD, bizStep commissioning, the lot in quantityList
``dispatch``    ObjectEvent OBSERVE, bizStep shipping, disposition in_transit,
                source and destination parties
``receipt``     ObjectEvent OBSERVE, bizStep receiving, the dispatched lot
``transform``   TransformationEvent, inputs and outputs as quantity lists
==============  =============================================================

Parties with GLNs appear as GS1 Digital Links (``https://id.gs1.org/414/<gln>``
for their location, ``/417/`` for the party), others as
``urn:custody:party:<id>``; lots whose id is a GS1 key or Digital Link keep it,
others become ``urn:custody:lot:<id>``. Units are UN/ECE Rec. 20 codes. The
header's master data names every location (name, ``countryCode``, ``state``)
and every product class (its custody material). Each event carries, in the
custody extension namespace (``https://custody.dev/epcis/``, prefix
``custody``), the statement's ``digest`` and ``seq``, and what EPCIS has no
field for (the site, materials, process, declared masses, external inputs,
documents) so that importing the document again gives the same statements'
meaning. ``evidence`` and ``import`` statements have no EPCIS event and are
left out (the custody extension ``custody:omitted`` counts them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

from ledger.leaf import decode_leaf
from ledger.statements import (
    Dispatch,
    Origin,
    Party,
    Receipt,
    Retract,
    Site,
    Statement,
    Transform,
    format_time,
)
from ledger.units import Quantity, format_decimal, to_rec20
from provenance.collect import collect
from provenance.epcis.objects import CUSTODY_NS, LOT_URN, PARTY_URN
from provenance.epcis.transactions import transactions_of_documents

__all__ = ["EPCIS_CONTEXT", "export_lot", "export_statements"]

EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_CBV_MDA: Final = "urn:epcglobal:cbv:mda#"


def _number(value: Any) -> int | float:
    """A JSON number for an exact decimal (integers stay integers)."""
    text = format_decimal(value)
    return int(text) if "." not in text else float(text)


def lot_uri(lot: str) -> str:
    if lot.startswith(("urn:epc:", "https://", "http://")):
        return lot
    return LOT_URN + lot


def _event_id(statement: Statement) -> str:
    sid = statement.id
    if sid.startswith("epcis:sha-256:"):
        return f"ni:///sha-256;{sid[len('epcis:sha-256:') :]}?ver=CBV2.0"
    if ":" in sid and not sid.startswith("epcis:"):
        return sid
    return f"urn:custody:statement:{statement.issuer}:{sid}"


def _site(site: Site) -> dict[str, Any]:
    out: dict[str, Any] = {"name": site.name, "country": site.country}
    if site.subdivision:
        out["subdivision"] = site.subdivision
    if site.lat is not None:
        out["lat"] = _number(site.lat)
    if site.lon is not None:
        out["lon"] = _number(site.lon)
    return out


def _quantity(lot: str, quantity: Quantity) -> dict[str, Any]:
    return {
        "epcClass": lot_uri(lot),
        "quantity": _number(quantity.value),
        "uom": to_rec20(quantity.unit),
    }


class _Exporter:
    def __init__(self, statements: list[tuple[int, Statement]]) -> None:
        self.statements = statements
        self.parties: dict[str, Party] = {}
        self.dispatches: dict[str, Dispatch] = {}
        self.materials: dict[str, str] = {}
        for _, statement in statements:
            if isinstance(statement, Party):
                self.parties[statement.party.id] = statement
            elif isinstance(statement, Dispatch):
                self.dispatches[statement.digest] = statement
            elif isinstance(statement, Origin):
                self.materials[statement.lot.id] = statement.lot.material
            elif isinstance(statement, Transform):
                for output in statement.outputs:
                    self.materials[output.id] = output.material
        self.used_parties: set[str] = set()

    def _gln(self, party: str) -> str | None:
        registration = self.parties.get(party)
        if registration is None:
            return None
        info = registration.party
        return info.glns[0] if info.glns else info.identifiers.get("gln")

    def location(self, party: str) -> str:
        self.used_parties.add(party)
        gln = self._gln(party)
        return f"https://id.gs1.org/414/{gln}" if gln else PARTY_URN + party

    def party_uri(self, party: str) -> str:
        self.used_parties.add(party)
        gln = self._gln(party)
        return f"https://id.gs1.org/417/{gln}" if gln else PARTY_URN + party

    def base(self, statement: Statement, seq: int, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "eventTime": format_time(statement.time),
            "eventTimeZoneOffset": "+00:00",
            "eventID": _event_id(statement),
        }

    def extensions(self, event: dict[str, Any], statement: Statement, seq: int) -> None:
        event["custody:digest"] = statement.digest
        event["custody:seq"] = seq
        event["custody:issuer"] = statement.issuer

    def event(self, seq: int, statement: Statement) -> dict[str, Any] | None:
        if isinstance(statement, Origin):
            event = self.base(statement, seq, "ObjectEvent")
            event.update(
                quantityList=[_quantity(statement.lot.id, statement.lot.quantity)],
                action="ADD",
                bizStep="commissioning",
                bizLocation={"id": self.location(statement.issuer)},
            )
            event["custody:site"] = _site(statement.site)
            event["custody:material"] = statement.lot.material
        elif isinstance(statement, Dispatch):
            event = self.base(statement, seq, "ObjectEvent")
            event.update(
                quantityList=[_quantity(statement.lot, statement.quantity)],
                action="OBSERVE",
                bizStep="shipping",
                disposition="in_transit",
                bizLocation={"id": self.location(statement.issuer)},
                sourceList=[{"type": "owning_party", "source": self.party_uri(statement.issuer)}],
                destinationList=[
                    {"type": "owning_party", "destination": self.party_uri(statement.to)}
                ],
            )
            if statement.documents:
                event["bizTransactionList"] = transactions_of_documents(statement.documents)
                event["custody:documents"] = [
                    {"sha256": d.sha256, "kind": d.kind, "name": d.name}
                    for d in statement.documents
                ]
        elif isinstance(statement, Receipt):
            dispatch = self.dispatches.get(statement.dispatch)
            if dispatch is None:
                return None
            event = self.base(statement, seq, "ObjectEvent")
            event.update(
                quantityList=[_quantity(dispatch.lot, statement.quantity)],
                action="OBSERVE",
                bizStep="receiving",
                bizLocation={"id": self.location(statement.issuer)},
                sourceList=[{"type": "owning_party", "source": self.party_uri(dispatch.issuer)}],
                destinationList=[
                    {"type": "owning_party", "destination": self.party_uri(statement.issuer)}
                ],
            )
            event["custody:dispatch"] = statement.dispatch
        elif isinstance(statement, Transform):
            event = self.base(statement, seq, "TransformationEvent")
            if statement.inputs:
                event["inputQuantityList"] = [
                    _quantity(i.lot, i.quantity) for i in statement.inputs
                ]
            event["outputQuantityList"] = [_quantity(o.id, o.quantity) for o in statement.outputs]
            event["bizStep"] = "commissioning"
            event["bizLocation"] = {"id": self.location(statement.issuer)}
            event["custody:process"] = statement.process
            event["custody:site"] = _site(statement.site)
            masses = {i.lot: _number(i.mass_kg) for i in statement.inputs if i.mass_kg is not None}
            masses.update(
                {o.id: _number(o.mass_kg) for o in statement.outputs if o.mass_kg is not None}
            )
            if masses:
                event["custody:massKg"] = masses
            if statement.external_inputs:
                event["custody:externalInputs"] = [_external(x) for x in statement.external_inputs]
            if not statement.inputs:
                event["transformationID"] = f"urn:custody:transform:{statement.digest[7:]}"
        else:
            return None
        self.extensions(event, statement, seq)
        return event

    def master_data(self) -> dict[str, Any]:
        locations = []
        parties = []
        for party in sorted(self.used_parties):
            registration = self.parties.get(party)
            if registration is None:
                continue
            info = registration.party
            attributes = [
                {"id": _CBV_MDA + "name", "attribute": info.name},
                {"id": _CBV_MDA + "countryCode", "attribute": info.country},
            ]
            if info.subdivision:
                attributes.append({"id": _CBV_MDA + "state", "attribute": info.subdivision})
            locations.append({"id": self.location(party), "attributes": attributes})
            parties.append({"id": self.party_uri(party), "attributes": attributes[:2]})
        classes = [
            {
                "id": lot_uri(lot),
                "attributes": [{"id": CUSTODY_NS + "material", "attribute": material}],
            }
            for lot, material in sorted(self.materials.items())
        ]
        return {
            "vocabularyList": [
                {
                    "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                    "vocabularyElementList": locations,
                },
                {"type": "urn:epcglobal:epcis:vtype:Party", "vocabularyElementList": parties},
                {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": classes},
            ]
        }


def _external(item: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "material": item.material,
        "quantity": _number(item.quantity.value),
        "unit": item.quantity.unit,
        "country": item.country,
    }
    for name in ("supplier", "subdivision"):
        if getattr(item, name) is not None:
            out[name] = getattr(item, name)
    if item.mass_kg is not None:
        out["mass_kg"] = _number(item.mass_kg)
    return out


def _voided(ordered: list[tuple[int, Statement]]) -> dict[str, str]:
    """Digest of each voided statement → digest of the statement that voids it (a
    ``retract`` or a correction's ``replaces``): the first later one of its issuer,
    as verification counts them (:func:`provenance.retracted.retractions`)."""
    issuers: dict[str, str] = {}
    out: dict[str, str] = {}
    for _, statement in ordered:
        target = statement.retracts()
        if target is not None and target not in out and issuers.get(target) == statement.issuer:
            out[target] = statement.digest
        issuers[statement.digest] = statement.issuer
    return out


def _declaration(
    original: dict[str, Any], statement: Statement, seq: int, corrective: str | None
) -> dict[str, Any]:
    """The EPCIS error declaration of ``original`` that ``statement`` (at ``seq``) makes:
    the event repeated with an ``errorDeclaration`` (CBV reason ``incorrect_data``)."""
    event = {k: v for k, v in original.items() if not k.startswith("custody:")}
    declaration: dict[str, Any] = {
        "declarationTime": format_time(statement.time),
        "reason": "incorrect_data",
    }
    if corrective is not None:
        declaration["correctiveEventIDs"] = [corrective]
        event["custody:correctedBy"] = corrective  # the corrective event ``replaces`` it
    event["errorDeclaration"] = declaration
    if isinstance(statement, Retract):
        event["custody:reason"] = statement.reason
    event["custody:digest"] = statement.digest
    event["custody:seq"] = seq
    event["custody:issuer"] = statement.issuer
    return event


def export_statements(
    statements: Iterable[tuple[int, Statement]], *, created: datetime | None = None
) -> dict[str, Any]:
    """The EPCIS 2.0 document of ``(seq, statement)`` pairs in ledger order.

    A voided statement is exported as the event it is; the statement that voids
    it becomes, at its place, the error declaration of that event (followed by
    its own event when it is a correction), so that importing the document
    voids the same statements."""
    ordered = sorted(statements, key=lambda pair: pair[0])
    exporter = _Exporter(ordered)
    voided = _voided(ordered)
    voiders = {by: target for target, by in voided.items()}
    exported: dict[str, dict[str, Any]] = {}
    events = []
    omitted = 0
    for seq, statement in ordered:
        event = exporter.event(seq, statement)
        target = voiders.get(statement.digest)
        original = exported.get(target) if target is not None else None
        if original is not None:
            corrective = event["eventID"] if event is not None else None
            events.append(_declaration(original, statement, seq, corrective))
        if event is not None:
            events.append(event)
            exported[statement.digest] = event
        elif statement.type in ("evidence", "import"):
            omitted += 1
    moment = created or datetime.now(UTC)
    return {
        "@context": [EPCIS_CONTEXT, {"custody": CUSTODY_NS}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": format_time(moment.replace(microsecond=0)),
        "epcisHeader": {"epcisMasterData": exporter.master_data()},
        "epcisBody": {"eventList": events},
        "custody:omitted": omitted,
    }


def export_lot(store: Any, lot: str) -> dict[str, Any]:
    """The upstream trace of ``lot`` in ``store`` as an EPCIS 2.0 document."""
    with store.read() as r:
        collected = collect(r, lot)
    pairs = [
        (entry.seq, decode_leaf(entry.leaf, entry.seq).statement) for entry in collected.entries
    ]
    return export_statements(pairs)
