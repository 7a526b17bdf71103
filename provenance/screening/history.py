"""The screening files a home has had installed, and which one was in force when.

``custody screening update`` keeps every file it installs, by content, in
``<home>/screening-history/<sha256>.json`` and appends one line per install to
``<home>/screening-history/installs.jsonl``::

    {"version": "...", "snapshot": "YYYY-MM-DD", "sha256": "...", "installed_at": "RFC 3339"}

so that ``custody rescreen`` can tell what a lot's verdict was under the lists
in force when it was imported (:func:`in_force_at`), and so that a version id
names one content only (:func:`check_version`). Before the first install the
shipped file is in force.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.errors import InputError
from ledger.jsonlines import append_record, read_records
from provenance.screening.data import ScreeningData
from provenance.screening.model import ERROR_CODE

HISTORY_DIR = "screening-history"
INSTALLS_FILE = "installs.jsonl"


@dataclass(frozen=True, slots=True)
class Install:
    """One install of a screening file into a home."""

    version: str
    snapshot: str
    sha256: str
    installed_at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "version": self.version,
            "snapshot": self.snapshot,
            "sha256": self.sha256,
            "installed_at": self.installed_at.isoformat().replace("+00:00", "Z"),
        }


def history_dir(home: Path) -> Path:
    return Path(home) / HISTORY_DIR


def installs(home: Path) -> list[Install]:
    """The installs of ``home``, oldest first (empty before the first install).

    A damaged line is an :class:`InputError` naming the line, never a traceback.
    """
    found = read_records(
        history_dir(home) / INSTALLS_FILE, _install_of, what="an install record", code=ERROR_CODE
    )
    found.sort(key=lambda i: i.installed_at)
    return found


def check_version(home: Path, data: ScreeningData) -> None:
    """Refuse ``data`` when its version id was installed before with other content."""
    for old in installs(home):
        if old.version == data.version and old.sha256 != data.sha256:
            raise InputError(
                f"screening version {data.version!r} was installed before with other content "
                f"(sha256 {old.sha256[:12]}…, {old.installed_at:%Y-%m-%d}); give the new "
                "file a new version",
                code=ERROR_CODE,
                details={"field": "version", "version": data.version, "installed": old.sha256},
            )


def archive(home: Path, raw: bytes, data: ScreeningData) -> Install:
    """Keep ``raw`` by content and append its install record (the file first, then the line)."""
    folder = history_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{data.sha256}.json"
    if not kept.is_file():
        tmp = folder / f".{data.sha256}.tmp"
        tmp.write_bytes(raw)
        os.replace(tmp, kept)
    record = Install(data.version, data.date, data.sha256, datetime.now(UTC))
    append_record(folder / INSTALLS_FILE, record.to_json())
    return record


def _install_of(obj: Any) -> Install:
    when = datetime.fromisoformat(str(obj["installed_at"]).replace("Z", "+00:00"))
    return Install(str(obj["version"]), str(obj["snapshot"]), str(obj["sha256"]), when)


def archived_path(home: Path, sha256: str) -> Path:
    return history_dir(home) / f"{sha256}.json"


def in_force_at(home: Path, when: datetime) -> Install | None:
    """The install in force at ``when`` (the latest at or before it); None: the shipped file."""
    current: Install | None = None
    for item in installs(home):
        if item.installed_at <= when:
            current = item
    return current
