"""Loading, validating and installing screening lists, and their versions.

The package ships a snapshot (``provenance/data/screening.json``, its
provenance in ``provenance/data/SOURCES.md``); an operator installs a newer
file into the home folder with :func:`update_screening` (``custody screening
update FILE``) and :func:`load_for_home` prefers that copy. Every result of a
verification names the :attr:`ScreeningData.version` it used; every install is
kept in the home's history (:mod:`provenance.screening.history`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ledger import strictjson
from ledger.errors import InputError
from provenance.screening import history
from provenance.screening.data import ScreeningData
from provenance.screening.match import MATCH_THRESHOLD, Matcher
from provenance.screening.model import (
    ERROR_CODE,
    SCHEMA,
    SCREENING_FILENAME,
    EntityMatch,
    RegionMatch,
)
from provenance.screening.reader import Reader

logger = logging.getLogger(__name__)


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
        doc = strictjson.loads(raw)
    except strictjson.JsonError as e:
        raise InputError(
            f"screening file {origin} is not UTF-8 JSON: {e}",
            code=ERROR_CODE,
            details={"path": origin, "reason": e.reason},
        ) from e
    reader = Reader(origin)
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
        _matcher=Matcher(lists),
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
    history.check_version(home, new)
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
    history.archive(home, raw, new)
    logger.info(
        "installed screening data %s (was %s) into %s",
        new.version,
        previous or "shipped",
        target,
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
