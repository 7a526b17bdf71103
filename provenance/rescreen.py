"""Re-verify imported and bundled lots against the current screening lists.

An importer who exported a bundle (or declared an import) under one version of
the lists must learn when a supplier in the trace is listed later.
:func:`rescreen` takes every lot that has a signed ``import`` statement or a
recorded bundle export (:mod:`provenance.registry`) and compares:

1. **before**: its verdict today under the screening file it was last judged
   by: for a bundled lot, the file its latest export used (recorded by
   SHA-256 in the registry; the shipped file or the home's install history
   holds it), for a lot only imported, the file in force when its first
   ``import`` statement reached the ledger (the shipped file before the first
   install); when that file is no longer at hand, what the export recorded;
2. **after**: its verdict today under the home's current screening file.

Both sides are computed from today's ledger with today's rules, so the
comparison isolates what the lists changed. A lot *changed* when the verdict
or the set of listed entities (list, entry, matched party or supplier)
differs; a bundled lot also reports what its export recorded (what the
importer showed CBP). Nothing is written: running it twice gives
the same answer until a new bundle is exported or a new list is installed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.errors import CustodyError
from ledger.leaf import decode_leaf
from ledger.statements import Import
from provenance.context import VerificationContext
from provenance.registry import Export, Listed, latest_exports, listed_of
from provenance.screening import ScreeningData, default_screening, load_screening
from provenance.screening.history import archived_path, in_force_at
from provenance.verdict import Report

__all__ = ["LotCheck", "RescreenResult", "imported_lots", "rescreen"]

logger = logging.getLogger(__name__)

PAGE = 500


@dataclass(frozen=True)
class LotCheck:
    """One lot re-verified: what it was, what it is now."""

    lot: str
    entry_numbers: tuple[str, ...]
    basis: str
    """``bundle`` (compared with its latest recorded export) or ``import``."""
    since: str
    """When the "before" was taken (export time, or the import's ledger time)."""
    before_verdict: str | None
    after_verdict: str | None
    before_version: str
    after_version: str
    listed_before: frozenset[Listed]
    listed_after: frozenset[Listed]
    error: str | None = None
    exported: Export | None = None
    """The latest recorded export of the lot, if it was bundled."""

    @property
    def newly_listed(self) -> list[Listed]:
        return sorted(self.listed_after - self.listed_before)

    @property
    def no_longer_listed(self) -> list[Listed]:
        return sorted(self.listed_before - self.listed_after)

    @property
    def changed(self) -> bool:
        return self.error is None and (
            self.before_verdict != self.after_verdict or self.listed_before != self.listed_after
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "lot": self.lot,
            "entry_numbers": list(self.entry_numbers),
            "basis": self.basis,
            "since": self.since,
            "changed": self.changed,
            "before": {"verdict": self.before_verdict, "screening_version": self.before_version},
            "after": {"verdict": self.after_verdict, "screening_version": self.after_version},
            "newly_listed": [x.to_json() for x in self.newly_listed],
            "no_longer_listed": [x.to_json() for x in self.no_longer_listed],
            "error": self.error,
            "exported": None
            if self.exported is None
            else {
                "verdict": self.exported.verdict,
                "screening_version": self.exported.screening_version,
                "entry_number": self.exported.entry_number,
                "at": _stamp(self.exported.exported_at),
                "bundle": self.exported.bundle,
            },
        }


@dataclass(frozen=True)
class RescreenResult:
    """Every lot checked, against which screening data."""

    screening: ScreeningData
    lots: tuple[LotCheck, ...]

    @property
    def changed(self) -> list[LotCheck]:
        return [c for c in self.lots if c.changed]

    @property
    def errors(self) -> list[LotCheck]:
        return [c for c in self.lots if c.error is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "screening": {
                "version": self.screening.version,
                "date": self.screening.date,
                "sha256": self.screening.sha256,
                "as_of": self.screening.as_of,
            },
            "checked": len(self.lots),
            "changed": [c.to_json() for c in self.changed],
            "errors": [c.to_json() for c in self.errors],
            "unchanged": [c.lot for c in self.lots if not c.changed and c.error is None],
        }


@dataclass(frozen=True)
class _Imported:
    lot: str
    entry_numbers: tuple[str, ...]
    first: datetime


def imported_lots(ctx: VerificationContext) -> dict[str, _Imported]:
    """Every lot with a signed ``import`` statement: its entry numbers, first import time."""
    from ledger.store import StatementFilter

    found: dict[str, _Imported] = {}
    after = -1
    with ctx.ledger.store.read() as r:
        while True:
            rows = r.statement_page(StatementFilter(type="import"), after, PAGE)
            for row in rows:
                leaf = decode_leaf(row.leaf, row.seq)
                st = leaf.statement
                if not isinstance(st, Import):
                    continue
                seen = found.get(st.lot)
                if seen is None:
                    found[st.lot] = _Imported(st.lot, (st.entry_number,), leaf.time)
                elif st.entry_number not in seen.entry_numbers:
                    found[st.lot] = _Imported(
                        st.lot, (*seen.entry_numbers, st.entry_number), seen.first
                    )
            if len(rows) < PAGE:
                break
            after = rows[-1].seq
    return found


class _Screenings:
    """Screening files by SHA-256, loaded once: the current, the shipped, archived ones."""

    def __init__(self, home: Path, current: ScreeningData) -> None:
        self.home = home
        self.current = current
        self._by_sha = {current.sha256: current}

    def in_force_at(self, when: datetime) -> ScreeningData:
        install = in_force_at(self.home, when)
        if install is None:
            return self._keep(default_screening())
        found = self.by_sha(install.sha256)
        if found is None:
            logger.warning("archived screening file %s is missing; using the shipped one", install)
            return self._keep(default_screening())
        return found

    def by_sha(self, sha256: str) -> ScreeningData | None:
        """The file with this SHA-256: the current, the shipped or an archived one."""
        hit = self._by_sha.get(sha256)
        if hit is not None:
            return hit
        shipped = self._keep(default_screening())
        if shipped.sha256 == sha256:
            return shipped
        path = archived_path(self.home, sha256)
        return self._keep(load_screening(path)) if path.is_file() else None

    def _keep(self, data: ScreeningData) -> ScreeningData:
        return self._by_sha.setdefault(data.sha256, data)


def _verify(ctx: VerificationContext, lot: str, screening: ScreeningData) -> Report:
    if screening is ctx.screening:
        return ctx.verify(lot)
    return dataclasses.replace(ctx, screening=screening, _owns_ledger=False).verify(lot)


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _check(
    ctx: VerificationContext,
    lot: str,
    exported: Export | None,
    imported: _Imported | None,
    screenings: _Screenings,
) -> LotCheck:
    numbers = dict.fromkeys(imported.entry_numbers if imported else ())
    if exported is not None and exported.entry_number:
        numbers[exported.entry_number] = None
    current = ctx.screening
    try:
        after = _verify(ctx, lot, current)
        if exported is not None:
            basis, since = "bundle", _stamp(exported.exported_at)
            old = screenings.by_sha(exported.screening_sha256)
        else:
            assert imported is not None
            basis, since = "import", _stamp(imported.first)
            old = screenings.in_force_at(imported.first)
        if old is None:  # the export's file is gone: compare with what the export recorded
            assert exported is not None
            before_verdict, before_version, listed = (
                exported.verdict, exported.screening_version, exported.listed
            )  # fmt: skip
        else:
            before = after if old.sha256 == current.sha256 else _verify(ctx, lot, old)
            before_verdict, before_version, listed = (
                before.verdict, old.version, listed_of(before)
            )  # fmt: skip
        return LotCheck(
            lot, tuple(numbers), basis, since, before_verdict, after.verdict,
            before_version, current.version, listed, listed_of(after), exported=exported,
        )  # fmt: skip
    except CustodyError as e:
        return LotCheck(
            lot, tuple(numbers), "bundle" if exported else "import", "",
            exported.verdict if exported else None, None,
            exported.screening_version if exported else "", current.version,
            frozenset(), frozenset(), error=f"{e.message} [{e.code}]", exported=exported,
        )  # fmt: skip


def lots_to_check(
    ctx: VerificationContext, home: Path
) -> list[tuple[str, Export | None, _Imported | None]]:
    """The imported and the bundled lots of ``home``, sorted by lot id."""
    exports = latest_exports(home)
    imports = imported_lots(ctx)
    return [(lot, exports.get(lot), imports.get(lot)) for lot in sorted({*exports, *imports})]


def rescreen(
    ctx: VerificationContext,
    home: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> RescreenResult:
    """Re-verify every imported or bundled lot of ``home`` (see the module docstring).

    ``progress(done, total)`` is called after each lot.
    """
    todo = lots_to_check(ctx, home)
    screenings = _Screenings(Path(home), ctx.screening)
    checks: list[LotCheck] = []
    for done, (lot, exported, imported) in enumerate(todo, start=1):
        checks.append(_check(ctx, lot, exported, imported, screenings))
        if progress is not None:
            progress(done, len(todo))
    return RescreenResult(ctx.screening, tuple(checks))
