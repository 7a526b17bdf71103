"""Append-only JSON-lines files kept in a home: one record a line, appended durably.

Used for the home's small registries (bundle exports, screening installs). A record is
appended with one ``write`` on an ``O_APPEND`` descriptor and fsynced before the call
returns; reading uses the strict JSON reader, and a damaged line is an
:class:`~ledger.errors.InputError` naming the file and the line, never a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ledger import strictjson
from ledger.errors import InputError

__all__ = ["append_record", "read_records"]

T = TypeVar("T")


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one line of ``path`` (created with its folder) and fsync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: Path, parse: Callable[[Any], T], *, what: str, code: str) -> list[T]:
    """Every record of ``path`` through ``parse``, in file order (empty when there is no file).

    ``parse`` may raise ``KeyError``, ``TypeError``, ``ValueError`` or ``AttributeError`` for a
    record that is not ``what``; that, or a line that is not strict JSON, is an
    :class:`InputError` with ``code`` naming the line.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", code=code) from e
    found: list[T] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(parse(strictjson.loads(line)))
        except (strictjson.JsonError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(
                f"{path}, line {n}: not {what} ({e})",
                code=code,
                details={"path": str(path), "line": n},
            ) from e
    return found
