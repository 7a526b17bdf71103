"""A loaded screening file (:class:`ScreeningData`): lists, regions and the matcher."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from provenance.screening.match import MATCH_THRESHOLD, Matcher
from provenance.screening.model import (
    EntityMatch,
    HighRiskRegion,
    RegionMatch,
    ScreeningEntry,
    ScreeningList,
)


@dataclass(frozen=True)
class ScreeningData:
    """A loaded screening file: lists, regions, and the matcher built on them."""

    schema: str
    version: str
    snapshot: str | None
    title: str | None
    lists: tuple[ScreeningList, ...]
    regions: tuple[HighRiskRegion, ...]
    origin: str
    """Where it was loaded from (a path, or ``package:`` for the shipped file)."""
    sha256: str
    """SHA-256 of the file's bytes, for reports."""
    _matcher: Matcher = field(repr=False, compare=False)

    @property
    def list_ids(self) -> tuple[str, ...]:
        return tuple(lst.id for lst in self.lists)

    @property
    def date(self) -> str:
        """The date of this version: the ``snapshot`` date, else the newest list ``as_of``."""
        return self.snapshot or max(lst.as_of for lst in self.lists)

    @property
    def as_of(self) -> dict[str, str]:
        """``{list id: as-of date}``."""
        return {lst.id: lst.as_of for lst in self.lists}

    def describe(self) -> dict[str, Any]:
        """What a verification report says about the screening data it used."""
        return {
            "schema": self.schema,
            "version": self.version,
            "snapshot": self.snapshot,
            "date": self.date,
            "sha256": self.sha256,
            "origin": self.origin,
            "lists": [
                {"id": lst.id, "as_of": lst.as_of, "entries": len(lst.entries)}
                for lst in self.lists
            ],
        }

    def entries(self) -> Iterator[ScreeningEntry]:
        for lst in self.lists:
            yield from lst.entries

    def match_entity(
        self,
        name: str,
        aliases: Sequence[str] = (),
        *,
        threshold: float = MATCH_THRESHOLD,
    ) -> list[EntityMatch]:
        """Entries matching ``name`` or any of ``aliases``, best first, one per entry."""
        return self._matcher.match([name, *aliases], threshold)

    def region_findings(
        self, country: str, subdivision: str | None = None, material: str | None = None
    ) -> list[RegionMatch]:
        """Listed high-risk regions that a place (and material) lies in.

        A region without materials matches any material. A material-limited
        region matches when ``material`` equals a listed prefix or extends it
        in the dotted vocabulary (``cotton.lint`` matches ``cotton``); with
        ``material=None`` it does not match (the caller reports unknown
        materials as it sees fit). A subdivision region (``CN-XJ``) matches
        only that subdivision; a country region matches the whole country.
        """
        ctry = country.strip().upper()
        sub = _normalise_subdivision(ctry, subdivision)
        if not ctry and sub:
            ctry = sub.split("-", 1)[0]
        mat = material.strip().lower() if material else None
        found: list[RegionMatch] = []
        for region in self.regions:
            if region.subdivision is not None:
                if sub != region.subdivision:
                    continue
            elif ctry != region.country:
                continue
            matched: str | None = None
            if region.materials is not None:
                if mat is None:
                    continue
                matched = next(
                    (p for p in region.materials if mat == p or mat.startswith(p + ".")),
                    None,
                )
                if matched is None:
                    continue
            found.append(
                RegionMatch(
                    code=region.code,
                    name=region.name,
                    basis=region.basis,
                    materials=region.materials,
                    matched_material=matched,
                    status=region.status,
                    effective=region.effective,
                    source=region.sources[0] if region.sources else None,
                )
            )
        return found


def _normalise_subdivision(country: str, subdivision: str | None) -> str | None:
    if not subdivision:
        return None
    sub = subdivision.strip().upper()
    if "-" not in sub and country:
        sub = f"{country}-{sub}"
    return sub
