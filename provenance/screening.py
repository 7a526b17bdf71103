"""Screening lists: listed entities and high-risk regions.

The data is versioned and replaceable. The package ships a snapshot
(``provenance/data/screening.json``, schema ``custody-screening/1``, its
provenance in ``provenance/data/SOURCES.md``); an operator installs a newer
file into the home folder with :func:`update_screening` (``custody screening
update FILE``) and :func:`load_for_home` prefers that copy. Every result of a
verification names the :attr:`ScreeningData.version` it used.

Entity matching (rule ``LISTED-ENTITY``, SPEC §6)
-------------------------------------------------

Names are compared as token sets after normalisation, so that case,
punctuation, diacritics, word order, legal-form words and the qualifiers of
the lists ("and subsidiaries", "and its subordinate and affiliated
entities") do not matter:

1. fold: Unicode NFKD, combining marks dropped, case-folded; ``&`` is "and";
   apostrophes vanish (``Yuan'an`` = ``Yuanan``); other punctuation splits;
   runs of single letters join (``S.A. de C.V.`` = ``sa de cv``);
2. parenthesised parts are optional on the list side (``Hoshine Silicon
   Industry (Shanshan)`` also stands as ``Hoshine Silicon Industry``), and a
   name holding ``;`` is several names;
3. tokens are mapped (old spellings such as ``Sinkiang`` → ``xinjiang``,
   ``technologies`` → ``tech``, plural ``s`` dropped) and legal-form and filler
   words are removed (``co ltd company limited group holdings stock share
   joint ...``, pinyin ``youxian gongsi jituan``);
4. the remaining tokens fall in three classes: **places** (provinces,
   cities and countries, each mapped to an ISO 3166 code), **generic** words
   that many company names share (``textile cotton industry tech new energy
   material ...``), and **distinctive** tokens, everything else;
5. on the query side adjacent tokens are merged, or one token split, when
   the result is a distinctive token of the list (``Ho Shine`` = ``Hoshine``,
   ``Zhong Tai`` = ``Zhongtai``).

A list name with distinctive tokens scores, out of 100, the mean of the
share of its distinctive tokens found in the query and the share of the
query's distinctive tokens found in it (a token found by spelling only, with
rapidfuzz ``ratio`` at least :data:`FUZZY_TOKEN_MIN_RATIO`, gets partial
credit), minus :data:`GENERIC_PENALTY` scaled by how far the generic words
differ when both sides have some, :data:`PLACE_PENALTY` when both name places
and none agree (a list name without a place stands for its entry's country),
:data:`NUMBER_PENALTY` when both carry numbers and none agree ("No. 1" is not
"No. 2"), and :data:`ORDER_PENALTY` when the distinctive tokens appear in
another order. Generic words and places alone never match: a list name
made only of them ("Xinjiang Energy", "Yunnan Machinery") matches only the
same token set, or, with three or more tokens, a query that contains them in
order and nothing distinctive. A match needs :data:`MATCH_THRESHOLD`.

Normalised forms and an inverted index on distinctive tokens are computed
once per :class:`ScreeningData`, so a query costs tens of microseconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from ledger.errors import InputError

logger = logging.getLogger(__name__)

SCHEMA = "custody-screening/1"
"""The ``schema`` marker a screening file must carry."""

SCREENING_FILENAME = "screening.json"
"""The file name of the installed copy in a home folder."""

ERROR_CODE = "invalid_screening"

MATCH_THRESHOLD = 90.0
"""Minimum score (0-100) for an entity match."""

FUZZY_TOKEN_MIN_RATIO = 85.0
"""Minimum rapidfuzz ``ratio`` for two distinctive tokens to count as a spelling variant."""

FUZZY_TOKEN_MIN_LENGTH = 6
"""Tokens shorter than this must match exactly (short pinyin syllables differ by one letter)."""

GENERIC_PENALTY = 15.0
PLACE_PENALTY = 20.0
ORDER_PENALTY = 8.0
NUMBER_PENALTY = 20.0
GENERIC_CONTAINED_SCORE = 92.0
"""Score of an all-generic list name found in order inside a longer query."""

ENTRY_KINDS = frozenset({"entity", "vessel", "region"})

_LIST_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
_REGION_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_MATERIAL = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


# ---------------------------------------------------------------------------
# Domain values


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
    _matcher: _Matcher = field(repr=False, compare=False)

    @property
    def list_ids(self) -> tuple[str, ...]:
        return tuple(lst.id for lst in self.lists)

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
                    (p for p in region.materials if mat == p or mat.startswith(p + ".")), None
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


# ---------------------------------------------------------------------------
# Loading and installing


def shipped_path() -> Path:
    """Path of the screening file shipped with the package."""
    return Path(str(resources.files("provenance").joinpath("data").joinpath(SCREENING_FILENAME)))


def load_screening(path: Path | None = None) -> ScreeningData:
    """Load and validate a screening file (the shipped one when ``path`` is None).

    Raises :class:`ledger.errors.InputError` with code ``invalid_screening``
    when the file cannot be read or does not follow ``custody-screening/1``.
    """
    if path is None:
        resource = resources.files("provenance").joinpath("data").joinpath(SCREENING_FILENAME)
        raw = resource.read_bytes()
        origin = f"package:provenance/data/{SCREENING_FILENAME}"
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise InputError(
                f"cannot read screening file {path}: {e.strerror or e}",
                code=ERROR_CODE,
                details={"path": str(path)},
            ) from e
        origin = str(path)
    return parse_screening(raw, origin=origin)


def parse_screening(raw: bytes, *, origin: str = "<bytes>") -> ScreeningData:
    """Parse and validate the bytes of a screening file."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(
            f"screening file {origin} is not UTF-8 JSON: {e}",
            code=ERROR_CODE,
            details={"path": origin},
        ) from e
    reader = _Reader(origin)
    lists, regions = reader.document(doc)
    result = ScreeningData(
        schema=SCHEMA,
        version=reader.string(doc, "version", ""),
        snapshot=reader.opt_string(doc, "snapshot", ""),
        title=reader.opt_string(doc, "title", ""),
        lists=lists,
        regions=regions,
        origin=origin,
        sha256=hashlib.sha256(raw).hexdigest(),
        _matcher=_Matcher(lists),
    )
    logger.debug(
        "loaded screening data %s from %s (%d entries)",
        result.version,
        origin,
        sum(len(lst.entries) for lst in lists),
    )
    return result


def load_for_home(home: Path) -> ScreeningData:
    """The home's installed screening file if there is one, else the shipped one."""
    installed = Path(home) / SCREENING_FILENAME
    if installed.is_file():
        return load_screening(installed)
    return default_screening()


def update_screening(src: Path, home: Path) -> ScreeningData:
    """Validate ``src`` and install it as ``<home>/screening.json`` (atomically).

    Nothing is written when ``src`` does not validate. Returns the installed data.
    """
    src = Path(src)
    try:
        raw = src.read_bytes()
    except OSError as e:
        raise InputError(
            f"cannot read screening file {src}: {e.strerror or e}",
            code=ERROR_CODE,
            details={"path": str(src)},
        ) from e
    new = parse_screening(raw, origin=str(src))
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    target = home / SCREENING_FILENAME
    previous: str | None = None
    if target.is_file():
        try:
            previous = load_screening(target).version
        except InputError:
            previous = "(invalid)"
    fd, tmp_name = tempfile.mkstemp(dir=home, prefix=".screening-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.info(
        "installed screening data %s (was %s) into %s", new.version, previous or "shipped", target
    )
    return parse_screening(raw, origin=str(target))


@lru_cache(maxsize=1)
def default_screening() -> ScreeningData:
    """The shipped screening data, loaded once."""
    return load_screening(None)


def match_entity(
    name: str,
    aliases: Sequence[str] = (),
    *,
    data: ScreeningData | None = None,
    threshold: float = MATCH_THRESHOLD,
) -> list[EntityMatch]:
    """Match a party's name and aliases against ``data`` (default: the shipped data)."""
    return (data or default_screening()).match_entity(name, aliases, threshold=threshold)


def region_findings(
    country: str,
    subdivision: str | None = None,
    material: str | None = None,
    *,
    data: ScreeningData | None = None,
) -> list[RegionMatch]:
    """High-risk regions for a place and material in ``data`` (default: the shipped data)."""
    return (data or default_screening()).region_findings(country, subdivision, material)


class _Reader:
    """Validates the JSON document, naming the offending field in errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> InputError:
        return InputError(
            f"screening file {self.origin}: {where or 'document'} {message}",
            code=ERROR_CODE,
            details={"path": self.origin, "field": where},
        )

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a JSON object")
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a JSON array")
        return value

    def string(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_join(where, key), "must be a non-empty string")
        return value.strip()

    def opt_string(self, obj: Mapping[str, Any], key: str, where: str) -> str | None:
        if obj.get(key) is None:
            return None
        return self.string(obj, key, where)

    def strings(self, obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = obj.get(key)
        if value is None:
            return ()
        items = self.array(value, _join(where, key))
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{_join(where, key)}[{i}]", "must be a non-empty string")
            out.append(item.strip())
        return tuple(out)

    def iso_date(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = self.string(obj, key, where)
        try:
            date.fromisoformat(value)
        except ValueError as e:
            raise self.fail(_join(where, key), f"must be a date YYYY-MM-DD, not {value!r}") from e
        return value

    def document(self, doc: Any) -> tuple[tuple[ScreeningList, ...], tuple[HighRiskRegion, ...]]:
        top = self.obj(doc, "")
        schema = top.get("schema")
        if schema != SCHEMA:
            raise self.fail("schema", f"must be {SCHEMA!r}, not {schema!r}")
        self.string(top, "version", "")
        self.opt_string(top, "snapshot", "")
        lists_raw = self.array(top.get("lists"), "lists")
        if not lists_raw:
            raise self.fail("lists", "must hold at least one list")
        lists = tuple(self.screening_list(v, f"lists[{i}]") for i, v in enumerate(lists_raw))
        ids = [lst.id for lst in lists]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise self.fail("lists", f"has duplicate ids: {', '.join(duplicated)}")
        regions_raw = self.array(top.get("regions", []), "regions")
        regions = tuple(self.region(v, f"regions[{i}]") for i, v in enumerate(regions_raw))
        return lists, regions

    def screening_list(self, value: Any, where: str) -> ScreeningList:
        obj = self.obj(value, where)
        list_id = self.string(obj, "id", where)
        if not _LIST_ID.match(list_id):
            raise self.fail(_join(where, "id"), f"must match {_LIST_ID.pattern}, not {list_id!r}")
        raw_entries = obj.get("entities", obj.get("entries"))
        items = self.array(raw_entries, _join(where, "entities"))
        entries = tuple(
            self.entry(item, f"{_join(where, 'entities')}[{i}]", list_id)
            for i, item in enumerate(items)
        )
        return ScreeningList(
            id=list_id,
            title=self.string(obj, "title", where),
            as_of=self.iso_date(obj, "as_of", where),
            official_page=self.opt_string(obj, "official_page", where),
            entries=entries,
        )

    def entry(self, value: Any, where: str, list_id: str) -> ScreeningEntry:
        obj = self.obj(value, where)
        aliases: list[Alias] = []
        for i, item in enumerate(self.array(obj.get("aliases", []), _join(where, "aliases"))):
            at = f"{_join(where, 'aliases')}[{i}]"
            if isinstance(item, str) and item.strip():
                aliases.append(Alias(item.strip()))
            elif isinstance(item, dict):
                aliases.append(
                    Alias(self.string(item, "name", at), self.opt_string(item, "note", at))
                )
            else:
                raise self.fail(at, "must be a non-empty string or an object with a name")
        kind = obj.get("kind", "entity")
        if kind not in ENTRY_KINDS:
            raise self.fail(_join(where, "kind"), f"must be one of {sorted(ENTRY_KINDS)}")
        country = self.opt_string(obj, "country", where)
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            raise self.fail(_join(where, "country"), "must be an ISO 3166-1 alpha-2 code")
        return ScreeningEntry(
            list_id=list_id,
            name=self.string(obj, "name", where),
            aliases=tuple(aliases),
            aliases_zh=self.strings(obj, "aliases_zh", where),
            kind=str(kind),
            country=country,
            subdivision=self.opt_string(obj, "subdivision", where),
            source=self.opt_string(obj, "source", where),
            status=self.opt_string(obj, "status", where)
            or self.opt_string(obj, "confidence", where),
            date=self.opt_string(obj, "added", where) or self.opt_string(obj, "date", where),
        )

    def region(self, value: Any, where: str) -> HighRiskRegion:
        obj = self.obj(value, where)
        code = self.string(obj, "code", where).upper()
        if not _REGION_CODE.match(code):
            raise self.fail(_join(where, "code"), f"must be an ISO 3166 code, not {code!r}")
        materials: tuple[str, ...] | None = None
        if obj.get("materials") is not None:
            materials = tuple(m.lower() for m in self.strings(obj, "materials", where))
            if not materials:
                raise self.fail(_join(where, "materials"), "must be null (all goods) or non-empty")
            for m in materials:
                if not _MATERIAL.match(m):
                    raise self.fail(_join(where, "materials"), f"has a bad material {m!r}")
        return HighRiskRegion(
            code=code,
            name=self.string(obj, "name", where),
            basis=self.opt_string(obj, "basis", where) or "",
            materials=materials,
            status=self.opt_string(obj, "status", where),
            effective=self.opt_string(obj, "effective", where),
            sources=self.strings(obj, "sources", where),
        )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# ---------------------------------------------------------------------------
# Name normalisation


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLER = _words(
    """
    co company companie ltd limited corp corporation corps inc incorporated llc llp lp plc
    group holding stock share joint jsc ojsc pjsc cjsc gmbh ag kg sa sas sarl srl spa bv nv
    ab asa oy oyj pte pty proprietary pvt private public bhd berhad sdn tbk pt cv de pcl
    sab se grupo companhia kk kabushiki kaisha gaisha doo dd ooo zao ao tnhh mtv cong ty
    sirketi anonim as ve san tic sanayi ticaret ltda sac sl sae wll fze fzco fzc spc cia
    compania sociedad anonima ltee eirl the and of its their subsidiary subordinate affiliated
    affiliate entity venture or by owned operated branch enterprise no number in for at et und y
    youxian gongsi jituan gufen zeren county city prefecture province district region
    autonomous
    """
)
"""Legal-form and filler words, after mapping and stemming."""

_GENERIC = _words(
    """
    textile cotton linen wool silk yarn fiber fabric spinning weaving knitting dyeing garment
    apparel fashion clothing cloth wear shoe footwear leather hair accessory bag toy home
    furniture wood paper packaging printing plastic rubber glove glass ceramic industry tech
    science new energy power electric electricity electronic microelectronic semiconductor
    information digital software network communication telecom data material chemical silicon
    polysilicon solar photovoltaic pv cell module wafer battery green environmental environment
    resource mine metal nonferrous steel iron copper zinc gold silver aluminium magnesium rare
    earth coal oil gas petroleum petrochemical fertilizer cement building construction
    engineering production real estate property development investment capital economic trade
    international global world worldwide import export logistic warehousing warehouse supply
    chain service management business commerce commercial marketing sourcing agency
    agriculture farm farming fishery fishing ocean marine seafood aquatic food beverage drink
    dairy sugar tea coffee cocoa tomato fruit vegetable juice canned grain seed herbal medicine
    medicinal pharmaceutical health healthcare medical biotech nutraceutical ingredient
    nutrition machinery machine equipment tool part auto automotive motor vehicle tire diesel
    pipe fitting casting forging pressing welding oxide precision instrument system solution product
    manufacture factory plant work mill park center labor camp prison reform detachment
    vocational skill education training general national modern advanced smart intelligent
    innovation creative united light lighting bedding fur hide down feather tobacco diamond
    field fresh organic natural quality premium east west north south eastern western northern
    southern central asia pacific store retail mart market design brand research institute
    laboratory lab vessel rope thread denim knit knitwear sweater sock hosiery towel carpet rug
    jute hemp bamboo polyester nylon viscose spandex recycled eco sustainable
    """
)
"""Words shared by many company names; they never make a match on their own."""

_MAP: dict[str, str] = {
    # legal forms and abbreviations
    "companies": "company",
    "holdings": "holding",
    "shares": "share",
    "intl": "international",
    "mfg": "manufacture",
    "manufacturing": "manufacture",
    "manufacturer": "manufacture",
    "manufactory": "manufacture",
    "ind": "industry",
    "indus": "industry",
    "industrial": "industry",
    "technology": "tech",
    "technological": "tech",
    "biotechnology": "biotech",
    "biological": "biotech",
    "bioscience": "biotech",
    "biotechnologie": "biotech",
    "trading": "trade",
    "electrical": "electric",
    "pharma": "pharmaceutical",
    "tyre": "tire",
    "aluminum": "aluminium",
    "centre": "center",
    "fibre": "fiber",
    "labour": "labor",
    "mining": "mine",
    "foodstuff": "food",
    "agricultural": "agriculture",
    "dev": "development",
    "subordinates": "subordinate",
    # transliteration: postal / Wade-Giles spellings and local names
    "sinkiang": "xinjiang",
    "xuar": "xinjiang",
    "uighur": "uyghur",
    "uygur": "uyghur",
    "weiwuer": "uyghur",
    "urumchi": "urumqi",
    "wulumuqi": "urumqi",
    "kashi": "kashgar",
    "khotan": "hotan",
    "hetian": "hotan",
    "turfan": "turpan",
    "tulufan": "turpan",
    "aqsu": "aksu",
    "akesu": "aksu",
    "kumul": "hami",
    "kuerle": "korla",
    "kelamayi": "karamay",
    "ili": "yili",
    "ghulja": "yining",
    "kuldja": "yining",
    "aletai": "altay",
    "pichan": "shanshan",
    "piqan": "shanshan",
    "kargilik": "yecheng",
    "yarkand": "shache",
    "luopu": "lop",
    "tientsin": "tianjin",
    "peking": "beijing",
    "peiping": "beijing",
    "canton": "guangzhou",
    "amoy": "xiamen",
    "chungking": "chongqing",
    "nanking": "nanjing",
    "tsingtao": "qingdao",
    "tsitsihar": "qiqihar",
    "kiangsu": "jiangsu",
    "chekiang": "zhejiang",
    "kwangtung": "guangdong",
    "fukien": "fujian",
    "szechwan": "sichuan",
    "szechuan": "sichuan",
    "shantung": "shandong",
    "hopei": "hebei",
    "honan": "henan",
    "hupeh": "hubei",
    "kansu": "gansu",
    "tsinghai": "qinghai",
    "shensi": "shaanxi",
    "shansi": "shanxi",
    "anhwei": "anhui",
    "kiangsi": "jiangxi",
    "kweichow": "guizhou",
    "kwangsi": "guangxi",
    "ningsia": "ningxia",
    "kirin": "jilin",
    "macao": "macau",
    "turkiye": "turkey",
}

_BIGRAMS: dict[tuple[str, str], str] = {
    ("hong", "kong"): "hongkong",
    ("inner", "mongolia"): "innermongolia",
    ("nei", "menggu"): "innermongolia",
    ("non", "ferrous"): "nonferrous",
    ("viet", "nam"): "vietnam",
    ("sri", "lanka"): "srilanka",
    ("phnom", "penh"): "phnompenh",
    ("da", "nang"): "danang",
    ("hai", "phong"): "haiphong",
    ("new", "delhi"): "delhi",
    ("united", "states"): "usa",
    ("cong", "ty"): "company",
    ("co", "phan"): "company",
}

_PLACES_BY_CODE: dict[str, str] = {
    "CN-XJ": """xinjiang uyghur urumqi kashgar hotan turpan aksu hami korla karamay changji
        shihezi yili yining altay tacheng bortala bole kizilsu atush artux shanshan yecheng
        shache lop fukang wujiaqu habahe yanqi zhundong""",
    "CN-AH": "anhui hefei wuhu bengbu",
    "CN-BJ": "beijing",
    "CN-CQ": "chongqing",
    "CN-FJ": "fujian xiamen fuzhou quanzhou jinjiang putian",
    "CN-GD": "guangdong guangzhou shenzhen dongguan foshan zhuhai shantou huizhou zhongshan",
    "CN-GS": "gansu lanzhou",
    "CN-GX": "guangxi nanning",
    "CN-GZ": "guizhou guiyang",
    "CN-HA": "henan zhengzhou luoyang",
    "CN-HB": "hubei wuhan xiangyang",
    "CN-HE": "hebei shijiazhuang baoding tangshan hengshui handan xingtai nangong cangzhou",
    "CN-HI": "hainan haikou sanya",
    "CN-HL": "heilongjiang harbin qiqihar mudanjiang",
    "CN-HN": "hunan changsha",
    "CN-JL": "jilin changchun",
    "CN-JS": """jiangsu nanjing suzhou wuxi changzhou nantong xuzhou yangzhou lianyungang
        yancheng zhenjiang jiangyin kunshan""",
    "CN-JX": "jiangxi nanchang",
    "CN-LN": "liaoning shenyang dalian anshan",
    "CN-NM": "innermongolia baotou hohhot ordos manzhouli chifeng",
    "CN-NX": "ningxia yinchuan",
    "CN-QH": "qinghai xining",
    "CN-SC": "sichuan chengdu leshan mianyang",
    "CN-SD": "shandong jinan qingdao yantai weifang zibo rizhao heze binzhou linyi jining weihai",
    "CN-SH": "shanghai",
    "CN-SN": "shaanxi xian",
    "CN-SX": "shanxi taiyuan",
    "CN-TJ": "tianjin",
    "CN-XZ": "tibet xizang lhasa",
    "CN-YN": "yunnan kunming",
    "CN-ZJ": "zhejiang hangzhou ningbo wenzhou shaoxing jiaxing huzhou jinhua yiwu ninghai",
    "CN": "china chinese",
    "CN-HK": "hongkong kowloon",
    "CN-MO": "macau",
    "TW": "taiwan taipei kaohsiung taichung",
    "VN": "vietnam vietnamese hanoi saigon hochiminh haiphong danang",
    "KH": "cambodia cambodian phnompenh",
    "BD": "bangladesh dhaka chittagong chattogram gazipur narayanganj",
    "IN": """india indian mumbai delhi tiruppur tirupur coimbatore ahmedabad surat ludhiana
        bangalore bengaluru chennai kolkata""",
    "PK": "pakistan karachi lahore faisalabad",
    "LK": "srilanka colombo",
    "TR": "turkey istanbul izmir bursa denizli gaziantep adana",
    "ID": "indonesia jakarta",
    "MY": "malaysia kuala",
    "TH": "thailand bangkok",
    "JP": "japan tokyo osaka",
    "KR": "korea seoul",
    "MX": "mexico",
    "US": "usa america american",
    "DE": "germany",
    "GB": "britain british",
    "MW": "malawi",
    "ZW": "zimbabwe",
    "CD": "congo",
    "TM": "turkmenistan",
    "UZ": "uzbekistan",
    "RS": "serbia",
    "MU": "mauritius",
}

_PLACES: dict[str, str] = {
    token: code for code, tokens in _PLACES_BY_CODE.items() for token in tokens.split()
}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_LEGAL = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "集团",
    "公司",
)
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NON_WORD = re.compile(r"[^\w\s]|_")
_SPECIAL_LETTERS = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ı": "i", "æ": "ae", "œ": "oe", "ß": "ss"}
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _pinyin_u(token: str) -> str:
    # ü is written u, v or yu: Lvzhou = Luzhou = Lyuzhou
    if token.startswith(("lv", "nv")) and len(token) > 2:
        return token[0] + "u" + token[2:]
    if token.startswith(("lyu", "nyu")):
        return token[0] + "u" + token[3:]
    return token


def _raw_tokens(text: str) -> list[str]:
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"['\u2019`\u00b4]", "", text)
    words = _NON_WORD.sub(" ", text).split()
    # join runs of single letters: "s a de c v" -> "sa de cv", "d o o" -> "doo"
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if run:
            out.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if w:
            out.append(w)
    return out


def _canonical(tokens: Iterable[str]) -> list[str]:
    mapped: list[str] = []
    for t in tokens:
        t = _pinyin_u(t)
        t = _MAP.get(t, t)
        t = _stem(t)
        mapped.append(_MAP.get(t, t))
    joined: list[str] = []
    i = 0
    while i < len(mapped):
        pair = (mapped[i], mapped[i + 1]) if i + 1 < len(mapped) else None
        if pair is not None and pair in _BIGRAMS:
            joined.append(_BIGRAMS[pair])
            i += 2
        else:
            joined.append(mapped[i])
            i += 1
    return [t for t in joined if t not in _FILLER]


def _latin_variants(text: str, *, optional_parens: bool) -> list[list[str]]:
    """Token lists for a name: one per ``;`` part, and without parentheses."""
    variants: list[list[str]] = []
    for part in _fold(text).split(";"):
        if not part.strip():
            continue
        texts = [part.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ")]
        if optional_parens and _PAREN.search(part):
            texts.append(_PAREN.sub(" ", part))
        for t in texts:
            tokens = _canonical(_raw_tokens(t))
            if tokens and tokens not in variants:
                variants.append(tokens)
    return variants


def _cjk_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = "".join(c for c in s if c.isalnum())
    for word in _CJK_LEGAL:
        s = s.replace(word, "")
    return s


def _cjk_keys(text: str) -> set[str]:
    s = unicodedata.normalize("NFKC", text)
    keys = {_cjk_key(s), _cjk_key(_PAREN.sub("", s))}
    keys.discard("")
    return keys


def _token_class(token: str) -> str:
    if token in _PLACES:
        return "place"
    if token in _GENERIC or any(c.isdigit() for c in token):
        return "generic"
    return "distinct"


# ---------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class _Form:
    """A tokenised name, split by token class."""

    tokens: tuple[str, ...]
    distinct: tuple[str, ...]
    generic: frozenset[str]
    places: frozenset[str]

    @classmethod
    def of(cls, tokens: Sequence[str]) -> _Form:
        classes = [_token_class(t) for t in tokens]
        return cls(
            tokens=tuple(tokens),
            distinct=tuple(
                dict.fromkeys(t for t, c in zip(tokens, classes, strict=True) if c == "distinct")
            ),
            generic=frozenset(t for t, c in zip(tokens, classes, strict=True) if c == "generic"),
            places=frozenset(
                _PLACES[t] for t, c in zip(tokens, classes, strict=True) if c == "place"
            ),
        )


@dataclass(frozen=True, slots=True)
class _Target:
    """A list name or alias in normalised form.

    ``places`` are the places the name states or, when it states none, the
    entry's country: "American Giant" is not Taiwan's Giant Manufacturing.
    """

    entry: ScreeningEntry
    text: str
    form: _Form
    places: frozenset[str]

    @classmethod
    def of(cls, entry: ScreeningEntry, text: str, tokens: Sequence[str]) -> _Target:
        form = _Form.of(tokens)
        places = form.places
        if not places and entry.country:
            places = frozenset({_COUNTRY_AS_PLACE.get(entry.country, entry.country)})
        return cls(entry, text, form, places)


_COUNTRY_AS_PLACE = {"HK": "CN-HK", "MO": "CN-MO"}


def _places_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(x == y or x.startswith(y + "-") or y.startswith(x + "-") for x in a for y in b)


def _is_subsequence(needle: Sequence[str], hay: Sequence[str]) -> bool:
    it = iter(hay)
    return all(any(t == h for h in it) for t in needle)


class _Matcher:
    """Normalised list names, an index on distinctive tokens, and the scorer."""

    def __init__(self, lists: Sequence[ScreeningList]) -> None:
        self.targets: list[_Target] = []
        self.generic_only: list[_Target] = []
        self.index: dict[str, list[int]] = {}
        self.cjk: dict[str, list[tuple[ScreeningEntry, str]]] = {}
        self.vocab: set[str] = set()
        for lst in lists:
            for entry in lst.entries:
                names: list[str] = [] if entry.kind == "region" else [entry.name]
                names.extend(a.name for a in entry.aliases)
                for text in names:
                    for tokens in _latin_variants(text, optional_parens=True):
                        self._add(_Target.of(entry, text, tokens))
                for text in entry.aliases_zh:
                    for key in _cjk_keys(text):
                        self.cjk.setdefault(key, []).append((entry, text))
        self.distinct_vocab: list[str] = sorted(self.index)

    def _add(self, target: _Target) -> None:
        self.vocab.update(target.form.tokens)
        if not target.form.distinct:
            self.generic_only.append(target)
            return
        n = len(self.targets)
        self.targets.append(target)
        for token in set(target.form.distinct):
            self.index.setdefault(token, []).append(n)

    # -- query side

    def _rejoin(self, tokens: list[str]) -> list[str]:
        """Merge or split query tokens into the list's distinctive tokens (Ho Shine = Hoshine)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in self.index:
                out.append(tokens[i] + tokens[i + 1])
                i += 2
                continue
            t = tokens[i]
            if t not in self.vocab and len(t) >= 5 and _token_class(t) == "distinct":
                for cut in range(2, len(t) - 1):
                    head, tail = t[:cut], t[cut:]
                    if (
                        head in self.vocab
                        and tail in self.vocab
                        and (head in self.index or tail in self.index)
                    ):
                        out.extend((head, tail))
                        break
                else:
                    out.append(t)
            else:
                out.append(t)
            i += 1
        return out

    def _candidates(self, form: _Form) -> set[int]:
        found: set[int] = set()
        for token in form.distinct:
            hit = self.index.get(token)
            if hit is not None:
                found.update(hit)
            if len(token) >= FUZZY_TOKEN_MIN_LENGTH:
                for other, _score, _i in process.extract(
                    token,
                    self.distinct_vocab,
                    scorer=fuzz.ratio,
                    score_cutoff=FUZZY_TOKEN_MIN_RATIO,
                    limit=8,
                ):
                    if other != token and len(other) >= FUZZY_TOKEN_MIN_LENGTH:
                        found.update(self.index[other])
        return found

    def match(self, queries: Sequence[str], threshold: float) -> list[EntityMatch]:
        best: dict[tuple[str, int], EntityMatch] = {}
        for query in queries:
            if not query or not query.strip():
                continue
            for entry, alias, score in self._match_one(query):
                if score < threshold:
                    continue
                key = (entry.list_id, id(entry))
                current = best.get(key)
                if current is None or score > current.score:
                    best[key] = EntityMatch(
                        list_id=entry.list_id,
                        entry_name=entry.name,
                        matched_alias=alias,
                        query=query,
                        score=round(score, 1),
                        source=entry.source,
                        kind=entry.kind,
                        status=entry.status,
                    )
        return sorted(best.values(), key=lambda m: (-m.score, m.list_id, m.entry_name))

    def _match_one(self, query: str) -> Iterator[tuple[ScreeningEntry, str, float]]:
        if _CJK.search(query):
            for key in _cjk_keys(query):
                for entry, text in self.cjk.get(key, ()):
                    yield entry, text, 100.0
        for tokens in _latin_variants(query, optional_parens=True):
            form = _Form.of(self._rejoin(tokens))
            for target in self.generic_only:
                score = _score_generic(target.form, form)
                if score:
                    yield target.entry, target.text, score
            if not form.distinct:
                continue
            for n in self._candidates(form):
                target = self.targets[n]
                yield target.entry, target.text, _score(target, form)


def _token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) < FUZZY_TOKEN_MIN_LENGTH:
        return 0.0
    ratio = fuzz.ratio(a, b)
    if ratio < FUZZY_TOKEN_MIN_RATIO:
        return 0.0
    # a spelling variant earns less than an exact token: one alone stays below the threshold
    return max(0.0, 1.0 - 1.5 * (1.0 - ratio / 100.0))


def _score_generic(listed: _Form, query: _Form) -> float:
    """A list name without distinctive tokens: the same tokens, or contained in order."""
    if set(listed.tokens) == set(query.tokens):
        return 100.0
    if (
        len(listed.tokens) >= 3
        and not query.distinct
        and _is_subsequence(listed.tokens, query.tokens)
    ):
        return GENERIC_CONTAINED_SCORE
    return 0.0


def _score(target: _Target, query: _Form) -> float:
    """Score a list name with distinctive tokens against a query (0-100)."""
    listed = target.form
    positions: list[int] = []
    recall = 0.0
    for token in listed.distinct:
        best, where = 0.0, -1
        for i, other in enumerate(query.distinct):
            sim = _token_similarity(token, other)
            if sim > best:
                best, where = sim, i
        recall += best
        if where >= 0:
            positions.append(where)
    precision = sum(
        max(_token_similarity(token, other) for other in listed.distinct)
        for token in query.distinct
    )
    score = 50.0 * (recall / len(listed.distinct) + precision / len(query.distinct))
    if listed.generic and query.generic:
        overlap = len(listed.generic & query.generic) / len(listed.generic | query.generic)
        score -= GENERIC_PENALTY * (1.0 - overlap)
    if target.places and query.places and not _places_agree(target.places, query.places):
        score -= PLACE_PENALTY
    listed_numbers = {t for t in listed.generic if t.isdigit()}
    query_numbers = {t for t in query.generic if t.isdigit()}
    if listed_numbers and query_numbers and not listed_numbers & query_numbers:
        score -= NUMBER_PENALTY
    if any(b < a for a, b in itertools.pairwise(positions)):
        score -= ORDER_PENALTY
    return max(0.0, score)
