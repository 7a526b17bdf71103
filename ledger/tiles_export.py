"""``custody ledger tiles export DIR``: the log as static C2SP tlog-tiles files.

The directory is what :mod:`api.routes.tiles` serves, byte for byte, so any static
web server or object store can mirror the log: ``DIR/checkpoint``,
``DIR/tile/<L>/<N>[.p/<W>]`` and ``DIR/tile/entries/<N>[.p/<W>]``
(:mod:`ledger.tiles`).

Everything is read in one read transaction, so the tiles and the checkpoint describe
the same tree. Export is incremental: a full tile already in the directory with the
right length is kept (full tiles never change); partial tiles of the current size
are written; each file is written to a temporary name and renamed into place, and
the checkpoint last, so a reader of the directory never sees a checkpoint whose tiles
are missing. Partial tiles of earlier sizes stay (the spec allows a log to keep them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import ConfigError, NotFoundError
from ledger.store import Store
from ledger.tiles import HASH_SIZE, TILE_WIDTH, Tile, read, tiles_for_size

Progress = Callable[[int, int], None]


@dataclass
class ExportResult:
    """What an export wrote: the tree size, files written and kept, bundles skipped."""

    size: int
    written: int = 0
    kept: int = 0
    skipped: list[str] = field(default_factory=list)  # entry bundles with a leaf > 65,535 B

    def to_json(self) -> dict[str, object]:
        return {
            "size": self.size,
            "written": self.written,
            "kept": self.kept,
            "skipped": self.skipped,
        }


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _complete(path: Path, tile: Tile) -> bool:
    """A full hash tile already written (entry bundles: present at all)."""
    try:
        length = path.stat().st_size
    except FileNotFoundError:
        return False
    return tile.level is None or length == TILE_WIDTH * HASH_SIZE


def export_tiles(store: Store, directory: Path, progress: Progress | None = None) -> ExportResult:
    """Write the checkpoint and every tile of the latest tree into ``directory``."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    with store.read() as r:
        latest = r.latest_checkpoint()
        if latest is None:
            raise NotFoundError("the ledger has no checkpoint yet")
        size, note = latest
        todo = list(tiles_for_size(size))
        result = ExportResult(size)
        for done, tile in enumerate(todo, 1):
            path = directory / tile.path
            if tile.full and _complete(path, tile):
                result.kept += 1
            else:
                try:
                    data = read(r, tile, size)
                except NotFoundError as e:
                    if e.code != "not_found.entry_too_large":
                        raise
                    result.skipped.append(tile.path)
                else:
                    _write_atomic(path, data)
                    result.written += 1
            if progress is not None:
                progress(done, len(todo))
    _write_atomic(directory / "checkpoint", note.encode("utf-8"))
    result.written += 1
    return result
