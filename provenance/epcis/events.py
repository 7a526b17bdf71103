"""One EPCIS 2.0 event → one custody statement, or a skip, or an :class:`EpcisError`.

The mapping table (mirrored in ``docs/epcis.md``):

=====================================================  =====================
EPCIS event                                            custody statement
=====================================================  =====================
ObjectEvent ADD, bizStep commissioning (or none)       ``origin``
ObjectEvent, bizStep shipping / departing + destination ``dispatch``
ObjectEvent, bizStep receiving / arriving              ``receipt``
TransformationEvent                                    ``transform``
anything else (AggregationEvent, TransactionEvent,     rejected, naming the
AssociationEvent, other bizSteps, errorDeclaration)    construct
=====================================================  =====================

Who performed an event is read from its location: ``bizLocation``, else
``readPoint``, else the source (shipping) or destination (receiving) parties
and locations; an SGLN or PGLN names the party registered with that GLN, and
``urn:custody:party:<id>`` (custody's own exports) names the party directly.
An event another party performed is skipped.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from ledger.epcis.errors import EpcisError
from ledger.epcis.gs1 import gln_of_location
from ledger.epcis.hashid import format_time
from provenance.epcis.declarations import map_declaration
from provenance.epcis.mapping import MappingFile, MasterData
from provenance.epcis.objects import (
    PARTY_URN,
    EventObject,
    custody_ext,
    gtin_of,
    objects_of,
    statement_id_for,
    step_word,
)
from provenance.epcis.outcomes import Directory, Existing, Mapped, Skipped
from provenance.epcis.transactions import documents_of_transactions

__all__ = [
    "Directory",
    "EventMapper",
    "Existing",
    "Mapped",
    "Skipped",
]

_MATERIAL = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_SHIP: Final = frozenset({"shipping", "departing"})
_RECEIVE: Final = frozenset({"receiving", "arriving"})
RECENT_CHUNKS: Final = 8  # more than the import's chunks in flight


class EventMapper:
    """Maps the events of one document for one party (the key's)."""

    def __init__(
        self, party: str, directory: Directory, master: MasterData, mapping: MappingFile
    ) -> None:
        self.party = party
        self.directory = directory
        self.master = master
        self.mapping = mapping
        self.claimed: set[str] = set()  # dispatch digests received earlier in this run
        # statement id → digest of what this run built, for the last chunks (those
        # that may not be in the ledger yet; earlier ones are found there)
        self._parties: dict[str, str | None] = {}  # location URI → party
        self.corrections: dict[str, str] = {}  # corrective statement id → digest replaced
        self.recent: deque[dict[str, str]] = deque(maxlen=RECENT_CHUNKS)
        self.settle: Callable[[], None] | None = None  # finishes the chunks being built

    # -- who and where ---------------------------------------------------------

    def party_at(self, uri: str) -> str | None:
        """The party at a location or party URI (registrations do not change during
        an import, so each URI is resolved once)."""
        if uri in self._parties:
            return self._parties[uri]
        party = self._resolve(uri)
        if len(self._parties) < 10_000:
            self._parties[uri] = party
        return party

    def _resolve(self, uri: str) -> str | None:
        if uri.startswith(PARTY_URN):
            party = uri[len(PARTY_URN) :]
            return party if self.directory.has_party(party) else None
        gln = gln_of_location(uri)
        if gln is None:
            return None
        return self.directory.party_of_gln(gln) or self.mapping.parties.get(gln)

    def _candidates(self, event: Mapping[str, Any], side: str | None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name in ("bizLocation", "readPoint"):
            place = event.get(name)
            if isinstance(place, dict) and isinstance(place.get("id"), str):
                out.append((f"{name}.id", place["id"]))
        if side is not None:
            key = "source" if side == "sourceList" else "destination"
            for i, item in enumerate(event.get(side) or []):
                if isinstance(item, dict) and isinstance(item.get(key), str):
                    out.append((f"{side}[{i}].{key}", item[key]))
        return out

    def performer(self, event: Mapping[str, Any], index: int, side: str | None) -> str:
        candidates = self._candidates(event, side)
        if not candidates:
            raise EpcisError(
                f"event {index}: bizLocation: custody needs a location (an SGLN) to know "
                "which party performed the event",
                code="bad_event",
                event=index,
                field="bizLocation",
            )
        for _, uri in candidates:
            party = self.party_at(uri)
            if party is not None:
                return party
        path, uri = candidates[0]
        gln = gln_of_location(uri)
        if gln is not None and getattr(self.directory, "partial", False):
            return f"another party (GLN {gln})"
        what = f"GLN {gln}" if gln else repr(uri)
        raise EpcisError(
            f"event {index}: {path}: {what} belongs to no registered party",
            code="unknown_gln",
            event=index,
            field=path,
        )

    def site(self, event: Mapping[str, Any], index: int) -> dict[str, Any]:
        given = custody_ext(event, "site")
        if isinstance(given, dict):
            return given
        for name in ("bizLocation", "readPoint"):
            place = event.get(name)
            uri = place.get("id") if isinstance(place, dict) else None
            if isinstance(uri, str):
                found = self.master.places.get(uri) or self.mapping.places.get(uri)
                gln = gln_of_location(uri)
                if found is None and gln is not None:
                    found = self.mapping.places.get(gln)
                if found is not None:
                    return found.to_json()
        registered = self.directory.place_of(self.party)
        if registered is None:  # pragma: no cover - the key's party is registered
            raise EpcisError(
                f"event {index}: bizLocation: no master data for the site",
                code="unmapped",
                event=index,
                field="bizLocation",
            )
        return registered.to_json()

    def material(self, obj: EventObject, event: Mapping[str, Any], index: int) -> str:
        given = custody_ext(event, "material")
        if isinstance(given, dict):
            given = given.get(obj.uri) or given.get(obj.lot)
        if isinstance(given, str):
            return given
        material = self.master.materials.get(obj.uri) or self.mapping.materials.get(obj.uri)
        gtin = gtin_of(obj.uri)
        if material is None and gtin is not None:
            material = self.mapping.materials.get(gtin) or f"gtin.{gtin}"
        if material is None or _MATERIAL.fullmatch(material) is None:
            raise EpcisError(
                f"event {index}: {obj.path}: no material for {obj.uri!r}: give it in the "
                "master data or the mapping file (materials)",
                code="unmapped",
                event=index,
                field=obj.path,
            )
        return material

    # -- the mapping -----------------------------------------------------------

    def map(
        self,
        event: Mapping[str, Any],
        index: int,
        event_ref: str,
        known: Mapping[str, tuple[int, str]] | None = None,
    ) -> Mapped | Skipped | Existing:
        """Map one event; ``known``: statement id → (seq, digest) of the party's
        statements already appended (a second import finds them)."""
        kind = str(event.get("type", event.get("isA", "")))
        step = step_word(event.get("bizStep"))
        if kind == "ObjectEvent" and step in _SHIP:
            side: str | None = "sourceList"
        elif kind == "ObjectEvent" and step in _RECEIVE:
            side = "destinationList"
        else:
            side = None
        performer = self.performer(event, index, side)
        if performer != self.party:
            return Skipped(f"performed by {performer}")
        sid = statement_id_for(event_ref)
        if "errorDeclaration" in event:
            return map_declaration(
                self.party,
                self.recent,
                self.corrections,
                event,
                index,
                sid,
                known or {},
                self.settle,
            )
        if known is not None and sid in known:
            return Existing(*known[sid])
        outcome = self._statement(event, index, sid, kind, step, side)
        replaces = self.corrections.pop(sid, None)
        if replaces is not None:
            outcome.body["replaces"] = replaces
        return outcome

    def _statement(
        self,
        event: Mapping[str, Any],
        index: int,
        sid: str,
        kind: str,
        step: str,
        side: str | None,
    ) -> Mapped:
        if "eventTime" not in event:
            raise EpcisError(
                f"event {index}: eventTime is required",
                code="bad_event",
                event=index,
                field="eventTime",
            )
        time = format_time(str(event["eventTime"]))
        if kind == "TransformationEvent":
            return self._transform(event, index, sid, time)
        if kind != "ObjectEvent":
            raise EpcisError(
                f"event {index}: type: custody has no statement for an {kind or 'untyped event'}",
                code="unsupported",
                event=index,
                field="type",
            )
        objects = objects_of(event, "epcList", "quantityList", index)
        if len(objects) != 1:
            raise EpcisError(
                f"event {index}: epcList/quantityList: a custody statement is about one lot, "
                f"this event names {len(objects)}",
                code="unsupported",
                event=index,
                field="quantityList" if "quantityList" in event else "epcList",
            )
        (obj,) = objects
        action = str(event.get("action", ""))
        if side == "sourceList":
            return self._dispatch(event, index, sid, time, obj)
        if side == "destinationList":
            return self._receipt(index, sid, time, obj)
        if action == "ADD" and step in ("commissioning", ""):
            body = {
                "lot": {
                    "id": obj.lot,
                    "material": self.material(obj, event, index),
                    "quantity": obj.quantity.value,
                    "unit": obj.quantity.unit,
                },
                "site": self.site(event, index),
            }
            return Mapped("origin", sid, self.party, time, body)
        raise EpcisError(
            f"event {index}: bizStep: {step or 'no bizStep'} with action {action} has no "
            "custody statement (custody maps commissioning, shipping, receiving, transforming)",
            code="unsupported",
            event=index,
            field="bizStep",
        )

    def _dispatch(
        self, event: Mapping[str, Any], index: int, sid: str, time: str, obj: EventObject
    ) -> Mapped:
        to = None
        for i, item in enumerate(event.get("destinationList") or []):
            if isinstance(item, dict) and isinstance(item.get("destination"), str):
                to = self.party_at(item["destination"])
                if to is None and str(item.get("type", "")).endswith("party"):
                    raise EpcisError(
                        f"event {index}: destinationList[{i}]: {item['destination']!r} "
                        "belongs to no registered party",
                        code="unknown_gln",
                        event=index,
                        field=f"destinationList[{i}]",
                    )
                if to is not None:
                    break
        if to is None:
            raise EpcisError(
                f"event {index}: destinationList: a shipment becomes a dispatch only with a "
                "destination party",
                code="unsupported",
                event=index,
                field="destinationList",
            )
        body: dict[str, Any] = {
            "lot": obj.lot,
            "quantity": obj.quantity.value,
            "unit": obj.quantity.unit,
            "to": to,
        }
        documents = custody_ext(event, "documents")  # custody's own export: the files
        if not isinstance(documents, list):
            documents = documents_of_transactions(event, index)
        if documents:
            body["documents"] = documents
        return Mapped("dispatch", sid, self.party, time, body)

    def _receipt(self, index: int, sid: str, time: str, obj: EventObject) -> Mapped:
        found = self.directory.dispatch_for(self.party, obj.lot)
        if found is None or found[0] in self.claimed:
            raise EpcisError(
                f"event {index}: {obj.path}: no dispatch of {obj.lot} to {self.party} is in "
                "transit (import the sender's shipping events first)",
                code="no_dispatch",
                event=index,
                field=obj.path,
            )
        digest, sent = found
        quantity = obj.quantity if obj.path.startswith("quantityList") else sent
        self.claimed.add(digest)
        body = {"dispatch": digest, "quantity": quantity.value, "unit": quantity.unit}
        return Mapped("receipt", sid, self.party, time, body, dispatch=digest)

    def _transform(self, event: Mapping[str, Any], index: int, sid: str, time: str) -> Mapped:
        inputs = objects_of(event, "inputEPCList", "inputQuantityList", index)
        outputs = objects_of(event, "outputEPCList", "outputQuantityList", index)
        if not outputs:
            raise EpcisError(
                f"event {index}: outputQuantityList: a transform must produce a lot",
                code="unsupported",
                event=index,
                field="outputQuantityList",
            )
        process = custody_ext(event, "process")
        if not isinstance(process, str):
            step = str(event.get("bizStep") or "")
            process = self.mapping.processes.get(step) or self.mapping.processes.get(
                step_word(step)
            )
            process = process or (step_word(step).lower() if step_word(step) else "transforming")
        body: dict[str, Any] = {
            "process": process,
            "inputs": [
                {"lot": o.lot, "quantity": o.quantity.value, "unit": o.quantity.unit}
                for o in inputs
            ],
            "outputs": [
                {
                    "id": o.lot,
                    "material": self.material(o, event, index),
                    "quantity": o.quantity.value,
                    "unit": o.quantity.unit,
                }
                for o in outputs
            ],
            "site": self.site(event, index),
        }
        externals = custody_ext(event, "externalInputs")
        if isinstance(externals, list):
            body["external_inputs"] = externals
        masses = custody_ext(event, "massKg")
        if isinstance(masses, dict):
            for item in (*body["inputs"], *body["outputs"]):
                key = item.get("lot", item.get("id"))
                if key in masses:
                    item["mass_kg"] = Decimal(str(masses[key]))
        return Mapped("transform", sid, self.party, time, body)
