"""One place that turns a home into the verification context.

A verification depends on more than the ledger: the screening lists (the home's
``screening.json``, else the shipped snapshot), the yield table (the home's
``yields.json``, else the shipped table) and the document store
(``<home>/documents``), which says whether the documents the statements cite
are produced (:mod:`provenance.documents`). :class:`VerificationContext` holds
all four, and every command and endpoint that verifies or exports goes
through it (``custody verify`` / ``trace`` / ``bundle export``, the API's
``/v1/lots/{lot}/verify`` / ``trace`` / ``bundle``), so their verdicts agree
for the same lot and the same home.

The data files are read once per change (cached by path, modification time and
size), so the API can build a context per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from ledger.home import Home
from ledger.log import Ledger
from provenance.bundle import BundleSummary, export_bundle
from provenance.documents import StoreDocuments, with_documents
from provenance.rules.profile import Profile, load_profile
from provenance.screening import SCREENING_FILENAME, ScreeningData, load_for_home
from provenance.verify import Report, verify_lot
from provenance.yields import YIELDS_FILENAME, YieldTable, yields_for_home

__all__ = ["VerificationContext", "home_screening", "home_yields"]

T = TypeVar("T")


class _HomeFileCache(Generic[T]):
    """Data loaded from a file of a home, re-read when the file changes (thread-safe)."""

    def __init__(self, name: str, load: Callable[[Path], T]) -> None:
        self.name = name
        self.load = load
        self._data: dict[str, tuple[tuple[float, int] | None, T]] = {}
        self._lock = threading.Lock()

    def get(self, home: Path) -> T:
        path = Path(home) / self.name
        try:
            st = path.stat()
            stamp: tuple[float, int] | None = (st.st_mtime, st.st_size)
        except OSError:
            stamp = None
        key = str(path.resolve())
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        data = self.load(Path(home))
        with self._lock:
            self._data[key] = (stamp, data)
        return data


_screening: _HomeFileCache[ScreeningData] = _HomeFileCache(SCREENING_FILENAME, load_for_home)
_yields: _HomeFileCache[YieldTable] = _HomeFileCache(YIELDS_FILENAME, yields_for_home)


def home_screening(home: Path) -> ScreeningData:
    """The home's installed screening file, else the shipped one (cached)."""
    return _screening.get(home)


def home_yields(home: Path) -> YieldTable:
    """``<home>/yields.json`` when present, else the shipped yield table (cached)."""
    return _yields.get(home)


@dataclass
class VerificationContext:
    """A ledger with the screening lists, yield table and document store to judge it by."""

    ledger: Ledger
    screening: ScreeningData
    yields: YieldTable
    documents_dir: Path | None
    _owns_ledger: bool = field(default=False, repr=False)
    profile: Profile = field(default_factory=lambda: load_profile(None))
    """The document policy profile verifications use (:mod:`provenance.rules.profile`)."""

    @classmethod
    def from_home(
        cls,
        home: Home | Path,
        *,
        ledger: Ledger | None = None,
        profile: Profile | str | None = None,
    ) -> VerificationContext:
        """The context of ``home``: its ledger (opened read-only unless ``ledger`` is given,
        e.g. the API's), its screening and yield data, its document store, and the document
        policy ``profile`` (a :class:`Profile`, a shipped profile's name or a profile file;
        default ``cbp-uflpa``)."""
        h = home if isinstance(home, Home) else Home(Path(home))
        owns = ledger is None
        opened = h.open(with_key=False) if ledger is None else ledger
        return cls(
            ledger=opened,
            screening=home_screening(h.path),
            yields=home_yields(h.path),
            documents_dir=h.documents,
            _owns_ledger=owns,
            profile=profile if isinstance(profile, Profile) else load_profile(profile),
        )

    def documents(self) -> StoreDocuments:
        """The document store, as :func:`provenance.documents.with_documents` asks it."""
        return StoreDocuments(self.documents_dir)

    def verify(self, lot: str) -> Report:
        """Verify ``lot``: the rules over its evidence, and the DOCUMENT findings."""
        report = verify_lot(
            self.ledger.store,
            lot,
            screening=self.screening,
            yields=self.yields,
            profile=self.profile,
        )
        return with_documents(report, self.documents())

    def export_bundle(
        self,
        lot: str,
        out: Path,
        *,
        entry_number: str | None = None,
        created: datetime | None = None,
    ) -> BundleSummary:
        """Write the evidence bundle of ``lot`` (:func:`provenance.bundle.export_bundle`)."""
        return export_bundle(
            self.ledger,
            lot,
            out,
            entry_number=entry_number,
            documents_dir=self.documents_dir,
            screening=self.screening,
            yields=self.yields,
            created=created,
            profile=self.profile,
        )

    def close(self) -> None:
        """Close the ledger if this context opened it."""
        if self._owns_ledger:
            self.ledger.store.close()

    def __enter__(self) -> VerificationContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
