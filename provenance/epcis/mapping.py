"""What an EPCIS document does not say and custody needs: master data and the mapping file.

:class:`MasterData` reads the ``epcisHeader.epcisMasterData.vocabularyList`` of
a document: business locations (``urn:epcglobal:epcis:vtype:BusinessLocation``
or ``ReadPoint``: name, ``countryCode``, ``state`` as an ISO 3166-2 code) and
product classes (``urn:epcglobal:epcis:vtype:EPCClass``: a ``custody:material``
or ``material`` attribute). The mapping file (``--mapping FILE``, JSON) fills
what is still missing::

    {
      "materials": {"<EPC class, GTIN-14 or EPC>": "cotton.lint"},
      "locations": {"<SGLN or GLN>": {"name": "Plains gin", "country": "US",
                                      "subdivision": "US-TX"}},
      "processes": {"<bizStep word or URI>": "cotton.ginning"},
      "parties": {"<GLN>": "<party id>"}
    }

Master data in the document wins over the mapping file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import strictjson
from ledger.epcis.errors import EpcisError

__all__ = ["Mapping", "MappingFile", "MasterData", "Place"]

_LOCATION_TYPES = frozenset(
    {
        "urn:epcglobal:epcis:vtype:BusinessLocation",
        "urn:epcglobal:epcis:vtype:ReadPoint",
        "BusinessLocation",
        "ReadPoint",
    }
)
_CLASS_TYPES = frozenset({"urn:epcglobal:epcis:vtype:EPCClass", "EPCClass"})


@dataclass(frozen=True, slots=True)
class Place:
    """A site as a custody statement carries it."""

    name: str
    country: str
    subdivision: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"name": self.name, "country": self.country}
        if self.subdivision:
            out["subdivision"] = self.subdivision
        return out


def _local(name: str) -> str:
    """The local part of an attribute id (``...cbv:mda#countryCode`` → ``countryCode``)."""
    for sep in ("#", ":", "/"):
        if sep in name:
            name = name.rsplit(sep, 1)[1]
    return name


def _place(attributes: Mapping[str, str], fallback_name: str) -> Place | None:
    country = attributes.get("countryCode", "").strip().upper()
    if len(country) != 2:
        return None
    state = attributes.get("state", attributes.get("subdivision", "")).strip().upper()
    subdivision = state if state.startswith(country + "-") else None
    if state and subdivision is None and f"{country}-{state}" and len(state) <= 3:
        subdivision = f"{country}-{state}"
    name = attributes.get("name", "").strip() or fallback_name
    return Place(name=name, country=country, subdivision=subdivision)


@dataclass
class MasterData:
    """Locations and product classes from the document's header."""

    places: dict[str, Place] = field(default_factory=dict)
    materials: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> MasterData:
        data = cls()
        master = header.get("epcisMasterData")
        vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
        for vocabulary in vocabularies if isinstance(vocabularies, list) else []:
            if not isinstance(vocabulary, dict):
                continue
            kind = str(vocabulary.get("type", ""))
            elements = vocabulary.get("vocabularyElementList")
            for element in elements if isinstance(elements, list) else []:
                if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                    continue
                attributes: dict[str, str] = {}
                for attribute in element.get("attributes") or []:
                    if isinstance(attribute, dict) and isinstance(attribute.get("id"), str):
                        value = attribute.get("attribute")
                        if isinstance(value, str | int):
                            attributes[_local(attribute["id"])] = str(value)
                ident = element["id"]
                if kind in _LOCATION_TYPES:
                    place = _place(attributes, ident)
                    if place is not None:
                        data.places[ident] = place
                elif kind in _CLASS_TYPES and "material" in attributes:
                    data.materials[ident] = attributes["material"].strip()
        return data


@dataclass
class MappingFile:
    """The ``--mapping`` file (see the module docstring)."""

    materials: dict[str, str] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    processes: dict[str, str] = field(default_factory=dict)
    parties: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> MappingFile:
        if path is None:
            return cls()
        try:
            obj = strictjson.loads(path.read_bytes())
        except strictjson.JsonError as error:
            raise EpcisError(f"{path}: {error}", code="bad_mapping") from None
        if not isinstance(obj, dict) or not set(obj) <= {
            "materials",
            "locations",
            "processes",
            "parties",
        }:
            raise EpcisError(
                f"{path}: must be an object with materials, locations, processes, parties",
                code="bad_mapping",
            )
        out = cls()
        tables = (
            ("materials", out.materials),
            ("processes", out.processes),
            ("parties", out.parties),
        )
        for name, target in tables:
            table = obj.get(name, {})
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise EpcisError(f"{path}: {name} must map strings to strings", code="bad_mapping")
            target.update(table)
        locations = obj.get("locations", {})
        if not isinstance(locations, dict):
            raise EpcisError(f"{path}: locations must be an object", code="bad_mapping")
        for ident, value in locations.items():
            if not isinstance(value, dict) or not isinstance(value.get("country"), str):
                raise EpcisError(
                    f"{path}: locations.{ident} needs name and country", code="bad_mapping"
                )
            out.places[ident] = Place(
                name=str(value.get("name") or ident),
                country=value["country"],
                subdivision=value.get("subdivision"),
            )
        return out
