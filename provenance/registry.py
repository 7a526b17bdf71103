"""The home's registry of exported evidence bundles (``<home>/bundles.jsonl``).

Every ``custody bundle export`` (and the demo) appends one JSON line::

    {"lot": "...", "entry_number": "..." | null, "verdict": "pass",
     "screening_version": "...", "screening_sha256": "...",
     "listed": [{"list": "...", "entry": "...", "who": "party gin"}],
     "exported_at": "RFC 3339", "bundle": "path of the zip"}

``custody rescreen`` re-verifies each bundled lot under the screening file its
latest export used (found by SHA-256) and under the current one, and falls
back to the verdict and listed entities recorded here when that file is gone
(:mod:`provenance.rescreen`). Lines are appended whole (one ``write`` of a
line, then ``fsync``); a damaged line is reported with its number, never a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.jsonlines import append_record, read_records
from provenance.screening import ScreeningData
from provenance.verdict import Report

REGISTRY_FILENAME = "bundles.jsonl"
ERROR_CODE = "invalid_registry"


@dataclass(frozen=True, slots=True, order=True)
class Listed:
    """A ``LISTED-ENTITY`` finding, reduced to what identifies it across versions."""

    list_id: str
    entry: str
    who: str
    """``party <id>`` or ``supplier <name>``: who in the trace matched."""

    def to_json(self) -> dict[str, str]:
        return {"list": self.list_id, "entry": self.entry, "who": self.who}

    @classmethod
    def from_json(cls, obj: Any) -> Listed:
        return cls(str(obj["list"]), str(obj["entry"]), str(obj["who"]))


def listed_of(report: Report) -> frozenset[Listed]:
    """The listed entities a report's ``LISTED-ENTITY`` findings name."""
    found: set[Listed] = set()
    for f in report.findings:
        if f.rule != "LISTED-ENTITY":
            continue
        d = f.details
        who = f"party {d['party']}" if d.get("party") else f"supplier {d.get('supplier')}"
        found.add(Listed(str(d.get("list")), str(d.get("entry")), who))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Export:
    """One recorded bundle export."""

    lot: str
    entry_number: str | None
    verdict: str
    screening_version: str
    screening_sha256: str
    listed: frozenset[Listed]
    exported_at: datetime
    bundle: str

    def to_json(self) -> dict[str, Any]:
        return {
            "lot": self.lot,
            "entry_number": self.entry_number,
            "verdict": self.verdict,
            "screening_version": self.screening_version,
            "screening_sha256": self.screening_sha256,
            "listed": [x.to_json() for x in sorted(self.listed)],
            "exported_at": self.exported_at.isoformat().replace("+00:00", "Z"),
            "bundle": self.bundle,
        }


def registry_path(home: Path) -> Path:
    return Path(home) / REGISTRY_FILENAME


def record_export(
    home: Path,
    report: Report,
    screening: ScreeningData,
    *,
    entry_number: str | None,
    bundle: Path,
) -> Export:
    """Append the export of ``report``'s subject to the home's registry."""
    record = Export(
        lot=report.subject,
        entry_number=entry_number,
        verdict=report.verdict,
        screening_version=screening.version,
        screening_sha256=screening.sha256,
        listed=listed_of(report),
        exported_at=datetime.now(UTC),
        bundle=str(Path(bundle).resolve()),
    )
    append_record(registry_path(home), record.to_json())
    return record


def read_exports(home: Path) -> list[Export]:
    """Every recorded export of ``home``, in the order they were made."""
    return read_records(
        registry_path(home), _export_of, what="a bundle export record", code=ERROR_CODE
    )


def _export_of(obj: Any) -> Export:
    entry = obj.get("entry_number")
    return Export(
        lot=str(obj["lot"]),
        entry_number=None if entry is None else str(entry),
        verdict=str(obj["verdict"]),
        screening_version=str(obj["screening_version"]),
        screening_sha256=str(obj["screening_sha256"]),
        listed=frozenset(Listed.from_json(x) for x in obj["listed"]),
        exported_at=datetime.fromisoformat(str(obj["exported_at"]).replace("Z", "+00:00")),
        bundle=str(obj["bundle"]),
    )


def latest_exports(home: Path) -> dict[str, Export]:
    """Per lot, its latest recorded export."""
    latest: dict[str, Export] = {}
    for record in read_exports(home):
        latest[record.lot] = record
    return latest
