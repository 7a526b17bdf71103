"""Screening lists: listed entities and high-risk regions (rules ``LISTED-ENTITY``,
``HIGH-RISK-REGION``, SPEC §6).

* :mod:`~provenance.screening.model`: the values (lists, entries, regions, matches);
* :mod:`~provenance.screening.reader`: validation of a ``custody-screening/1`` file;
* :mod:`~provenance.screening.lists`: loading the shipped or the home's file, installing
  a newer one, the data's version;
* :mod:`~provenance.screening.data`: :class:`ScreeningData`, a loaded file and its matcher;
* :mod:`~provenance.screening.history`: the files a home has had installed, and which was
  in force when (``custody rescreen``);
* :mod:`~provenance.screening.normalise`: name normalisation, with the word lists in
  ``provenance/data/screening-*.txt``;
* :mod:`~provenance.screening.match`: fuzzy name matching with rapidfuzz.
"""

from provenance.screening.data import ScreeningData
from provenance.screening.lists import (
    default_screening,
    load_for_home,
    load_screening,
    match_entity,
    parse_screening,
    region_findings,
    shipped_path,
    update_screening,
)
from provenance.screening.match import (
    FUZZY_TOKEN_MIN_LENGTH,
    FUZZY_TOKEN_MIN_RATIO,
    GENERIC_CONTAINED_SCORE,
    GENERIC_PENALTY,
    MATCH_THRESHOLD,
    NUMBER_PENALTY,
    ORDER_PENALTY,
    PLACE_PENALTY,
)
from provenance.screening.model import (
    ENTRY_KINDS,
    ERROR_CODE,
    SCHEMA,
    SCREENING_FILENAME,
    Alias,
    EntityMatch,
    HighRiskRegion,
    RegionMatch,
    ScreeningEntry,
    ScreeningList,
)

__all__ = [
    "ENTRY_KINDS",
    "ERROR_CODE",
    "FUZZY_TOKEN_MIN_LENGTH",
    "FUZZY_TOKEN_MIN_RATIO",
    "GENERIC_CONTAINED_SCORE",
    "GENERIC_PENALTY",
    "MATCH_THRESHOLD",
    "NUMBER_PENALTY",
    "ORDER_PENALTY",
    "PLACE_PENALTY",
    "SCHEMA",
    "SCREENING_FILENAME",
    "Alias",
    "EntityMatch",
    "HighRiskRegion",
    "RegionMatch",
    "ScreeningData",
    "ScreeningEntry",
    "ScreeningList",
    "default_screening",
    "load_for_home",
    "load_screening",
    "match_entity",
    "parse_screening",
    "region_findings",
    "shipped_path",
    "update_screening",
]
