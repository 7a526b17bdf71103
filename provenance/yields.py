"""Typical process yields (output mass / input mass), for the ``YIELD`` rule.

The table ships as ``provenance/data/yields.json`` (schema
``custody-yields/1``) and can be replaced by another file
(:func:`load_yields`). Processes are named in a dotted vocabulary
(``cotton.ginning``, ``yarn.spinning``, ``apparel.cut_and_sew``,
``module.assembly`` ...), each with aliases. :meth:`YieldTable.lookup`
accepts a name, an alias, or a more specific child of a known process
(``yarn.spinning.ring`` falls back to ``yarn.spinning``).

Every range either cites a public reference (``source``) or is marked
``assumption`` with its ``basis``; the ``basis`` also says what the range
compares (for ``module.assembly``: the module against *all* its inputs,
not the cells alone).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ledger import strictjson
from ledger.errors import InputError

logger = logging.getLogger(__name__)

SCHEMA = "custody-yields/1"
ERROR_CODE = "invalid_yields"
YIELDS_FILENAME = "yields.json"
MAX_YIELD = 2.0
"""Upper bound on a listed yield: mass may grow a little (moisture, coatings), not double."""

_PROCESS = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True, slots=True)
class YieldRange:
    """The typical yield of one process: ``min <= output mass / input mass <= max``."""

    process: str
    min: float
    max: float
    basis: str
    source: str | None
    assumption: bool
    input: str = ""
    output: str = ""
    aliases: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 < self.min <= self.max <= MAX_YIELD:
            raise ValueError(
                f"yield range of {self.process} must satisfy 0 < min <= max <= {MAX_YIELD}"
            )
        if self.source is None and not self.assumption:
            raise ValueError(f"yield range of {self.process} needs a source or assumption=true")

    def contains(self, ratio: float, tolerance: float = 0.0) -> bool:
        """Whether ``ratio`` lies in the range, widened by ``tolerance`` (a fraction)."""
        return self.min * (1.0 - tolerance) <= ratio <= self.max * (1.0 + tolerance)

    def classify(self, ratio: float, tolerance: float = 0.0) -> str:
        """``below``, ``within`` or ``above`` the range."""
        if ratio < self.min * (1.0 - tolerance):
            return "below"
        if ratio > self.max * (1.0 + tolerance):
            return "above"
        return "within"


@dataclass(frozen=True)
class YieldTable:
    """Yield ranges by process name, with aliases."""

    version: str
    ranges: Mapping[str, YieldRange]
    aliases: Mapping[str, str]
    origin: str

    @property
    def processes(self) -> tuple[str, ...]:
        return tuple(sorted(self.ranges))

    def resolve(self, process: str) -> str | None:
        """The canonical process name for a name, alias or more specific child."""
        name = normalise_process(process)
        while name:
            if name in self.ranges:
                return name
            if name in self.aliases:
                return self.aliases[name]
            name = name.rpartition(".")[0]
        return None

    def lookup(self, process: str) -> YieldRange | None:
        """The range for ``process`` (a name, an alias or a child of one), or None."""
        name = self.resolve(process)
        return self.ranges[name] if name is not None else None


def normalise_process(process: str) -> str:
    """Lower case, spaces and hyphens to underscores, around the dots trimmed."""
    parts = [re.sub(r"[\s\-]+", "_", p.strip().lower()) for p in process.strip().split(".")]
    return ".".join(p for p in parts if p)


def load_yields(path: Path | None = None) -> YieldTable:
    """Load and validate a yield table (the shipped one when ``path`` is None).

    Raises :class:`ledger.errors.InputError` with code ``invalid_yields``.
    """
    if path is None:
        resource = resources.files("provenance").joinpath("data").joinpath(YIELDS_FILENAME)
        raw = resource.read_bytes()
        origin = f"package:provenance/data/{YIELDS_FILENAME}"
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise _error(str(path), "", f"cannot be read: {e.strerror or e}") from e
        origin = str(path)
    try:
        doc = strictjson.loads(raw)
    except strictjson.JsonError as e:
        raise _error(origin, "", f"is not UTF-8 JSON: {e}") from e
    table = _parse(doc, origin)
    logger.debug("loaded %d yield ranges (%s) from %s", len(table.ranges), table.version, origin)
    return table


@lru_cache(maxsize=1)
def default_yields() -> YieldTable:
    """The shipped yield table, loaded once."""
    return load_yields(None)


def yields_for_home(home: Path) -> YieldTable:
    """``<home>/yields.json`` when present, else the shipped yield table.

    (:mod:`provenance.context` caches it; use :func:`provenance.context.home_yields`.)
    """
    path = Path(home) / YIELDS_FILENAME
    return load_yields(path) if path.is_file() else default_yields()


def _error(origin: str, where: str, message: str) -> InputError:
    return InputError(
        f"yield table {origin}: {where or 'document'} {message}",
        code=ERROR_CODE,
        details={"path": origin, "field": where},
    )


def _parse(doc: Any, origin: str) -> YieldTable:
    if not isinstance(doc, dict):
        raise _error(origin, "", "must be a JSON object")
    if doc.get("schema") != SCHEMA:
        raise _error(origin, "schema", f"must be {SCHEMA!r}, not {doc.get('schema')!r}")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        raise _error(origin, "version", "must be a non-empty string")
    items = doc.get("processes")
    if not isinstance(items, list) or not items:
        raise _error(origin, "processes", "must be a non-empty array")
    ranges: dict[str, YieldRange] = {}
    aliases: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"processes[{i}]"
        entry = _parse_range(item, origin, where)
        if entry.process in ranges or entry.process in aliases:
            raise _error(origin, where, f"repeats the process {entry.process!r}")
        ranges[entry.process] = entry
        for alias in entry.aliases:
            if alias in aliases or alias in ranges:
                raise _error(origin, where, f"repeats the name {alias!r}")
            aliases[alias] = entry.process
    clash = sorted(set(aliases) & set(ranges))
    if clash:
        raise _error(origin, "processes", f"uses process names as aliases: {', '.join(clash)}")
    return YieldTable(version=version.strip(), ranges=ranges, aliases=aliases, origin=origin)


def _parse_range(item: Any, origin: str, where: str) -> YieldRange:
    if not isinstance(item, dict):
        raise _error(origin, where, "must be a JSON object")
    process = item.get("process")
    if not isinstance(process, str) or not _PROCESS.match(process):
        raise _error(origin, f"{where}.process", "must be a dotted lower-case name")
    bounds: list[float] = []
    for key in ("min", "max"):
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _error(origin, f"{where}.{key}", "must be a number")
        bounds.append(float(value))
    raw_aliases = item.get("aliases", [])
    if not isinstance(raw_aliases, list) or not all(isinstance(a, str) for a in raw_aliases):
        raise _error(origin, f"{where}.aliases", "must be an array of strings")
    alias_names = tuple(normalise_process(a) for a in raw_aliases)
    if not all(_PROCESS.match(a) for a in alias_names):
        raise _error(origin, f"{where}.aliases", "must be dotted lower-case names")
    refs = item.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise _error(origin, f"{where}.references", "must be an array of strings")
    source = item.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise _error(origin, f"{where}.source", "must be null or a non-empty string")
    assumption = item.get("assumption", False)
    if not isinstance(assumption, bool):
        raise _error(origin, f"{where}.assumption", "must be true or false")
    basis = item.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        raise _error(origin, f"{where}.basis", "must say what the range means and rests on")
    try:
        return YieldRange(
            process=process,
            min=bounds[0],
            max=bounds[1],
            basis=basis.strip(),
            source=source.strip() if isinstance(source, str) else None,
            assumption=assumption,
            input=str(item.get("input", "")),
            output=str(item.get("output", "")),
            aliases=alias_names,
            references=tuple(refs),
        )
    except ValueError as e:
        raise _error(origin, where, str(e)) from e
