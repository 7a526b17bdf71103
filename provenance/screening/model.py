"""The values of screening data: lists, their entries, high-risk regions, and matches.

The file format (schema ``custody-screening/1``) is read by
:mod:`provenance.screening.reader`; these frozen values are what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = "custody-screening/1"
"""The ``schema`` marker a screening file must carry."""

SCREENING_FILENAME = "screening.json"
"""The file name of the installed copy in a home folder."""

ERROR_CODE = "invalid_screening"

ENTRY_KINDS = frozenset({"entity", "vessel", "region"})


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of a listed entry, with the source's remark on it."""

    name: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningEntry:
    """One entry of a screening list.

    ``kind`` is ``entity`` (an organisation), ``vessel`` or ``region`` (a
    region-wide order; its own name is not matched as a company name, its
    aliases are). ``status`` is the WRO status or the UFLPA entry's confidence.
    """

    list_id: str
    name: str
    aliases: tuple[Alias, ...]
    aliases_zh: tuple[str, ...]
    kind: str
    country: str | None
    subdivision: str | None
    source: str | None
    status: str | None
    date: str | None


@dataclass(frozen=True, slots=True)
class ScreeningList:
    """One list (UFLPA Entity List, CBP WROs and Findings) as of a date."""

    id: str
    title: str
    as_of: str
    official_page: str | None
    entries: tuple[ScreeningEntry, ...]


@dataclass(frozen=True, slots=True)
class HighRiskRegion:
    """A high-risk region: a country or an ISO 3166-2 subdivision.

    ``materials`` is ``None`` for all goods, else the material prefixes (in
    the dotted material vocabulary) the listing is limited to.
    """

    code: str
    name: str
    basis: str
    materials: tuple[str, ...] | None
    status: str | None
    effective: str | None
    sources: tuple[str, ...]

    @property
    def country(self) -> str:
        return self.code.split("-", 1)[0]

    @property
    def subdivision(self) -> str | None:
        return self.code if "-" in self.code else None


@dataclass(frozen=True, slots=True)
class EntityMatch:
    """A party name that matches an entry of a screening list."""

    list_id: str
    entry_name: str
    matched_alias: str
    """The list's name or alias that matched (as written in the list)."""
    query: str
    """The party's name or alias that matched."""
    score: float
    source: str | None
    kind: str = "entity"
    status: str | None = None


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """A place (and material) that lies in a listed high-risk region."""

    code: str
    name: str
    basis: str
    materials: tuple[str, ...] | None
    matched_material: str | None
    """The listed material prefix that matched, ``None`` for an all-goods region."""
    status: str | None
    effective: str | None
    source: str | None
