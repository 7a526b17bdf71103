"""Reading and writing bundle zips safely.

:func:`read_zip` reads every member into memory (never to disk) or refuses the
whole archive with :class:`ledger.errors.UnsafeBundleError`; :func:`write_zip`
writes members deterministically (fixed timestamps, one mode) and atomically.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Final

from ledger.errors import UnsafeBundleError

__all__ = ["DEFAULT_LIMITS", "UnsafeBundleError", "ZipLimits", "read_zip", "write_zip"]

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_CONTROL: Final = re.compile("[\x00-\x1f]")
_LOCAL: Final = struct.Struct("<4s2xH18xHH")
"""A local file header: signature, flags, and the name and extra field lengths."""


@dataclass(frozen=True)
class ZipLimits:
    """What :func:`read_zip` accepts before refusing to read a zip.

    Members are read into memory (never extracted to disk), so these bound the
    memory a hostile bundle can make the verifier use. ``max_ratio`` applies
    to members larger than ``ratio_floor`` and to the archive as a whole.
    """

    max_archive_bytes: int = 4 << 30
    max_members: int = 200_000
    max_member_bytes: int = 512 << 20
    max_total_bytes: int = 2 << 30
    max_ratio: int = 100
    ratio_floor: int = 1 << 20


DEFAULT_LIMITS: Final = ZipLimits()


def _check_name(name: str) -> None:
    shown = name if len(name) <= 200 else name[:200] + "…"
    if not name or _CONTROL.search(name):
        raise UnsafeBundleError(repr(shown), "member name is empty or has control characters")
    if "\\" in name:
        raise UnsafeBundleError(shown, "member name has a backslash")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise UnsafeBundleError(shown, "member name is an absolute path")
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise UnsafeBundleError(shown, "member name walks out of the bundle (path traversal)")
    if any(p == "" for p in parts[:-1]):
        raise UnsafeBundleError(shown, "member name has an empty path component")


def read_zip(path: Path, limits: ZipLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Read every member of the zip at ``path`` into memory, or refuse it.

    Refused (:class:`UnsafeBundleError`): an archive over ``max_archive_bytes``; more
    than ``max_members`` members; a name that is absolute, has ``..``/``.``
    components, backslashes, control characters or a drive letter; a directory,
    symlink or other non-regular member; an encrypted member or one in a
    compression other than stored/deflate; a duplicate name; a declared or
    actual size over ``max_member_bytes`` or, in total, ``max_total_bytes``; a
    compression ratio over ``max_ratio``. Nothing is ever written to disk.
    """
    archive_size = path.stat().st_size
    if archive_size > limits.max_archive_bytes:
        raise UnsafeBundleError(
            path.name, f"archive is larger than {limits.max_archive_bytes} bytes"
        )
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            infos = zf.infolist()
            _check_infos(infos, archive_size, limits)
            out: dict[str, bytes] = {}
            total = 0
            with _mapped(fh, archive_size) as view:
                for info in infos:
                    budget = limits.max_total_bytes - total
                    data = _read_mapped(view, info, limits, budget)
                    if data is None:  # anything unusual: zipfile's own reader decides
                        data = _read_member(zf, info, limits, budget)
                    total += len(data)
                    out[info.filename] = data
            return out
    except zipfile.BadZipFile as e:
        raise UnsafeBundleError(path.name, f"not a readable zip archive ({e})") from e
    except (zlib.error, EOFError) as e:
        raise UnsafeBundleError(path.name, f"not a readable zip archive (corrupt data: {e})") from e
    except (
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        ValueError,
        struct.error,
    ) as e:
        raise UnsafeBundleError(path.name, f"cannot be read safely ({e})") from e


def _check_infos(infos: Sequence[zipfile.ZipInfo], archive_size: int, limits: ZipLimits) -> None:
    if len(infos) > limits.max_members:
        raise UnsafeBundleError(
            "(archive)", f"more than {limits.max_members} members ({len(infos)})"
        )
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        if info.orig_filename != name:
            _check_name(info.orig_filename)
        if name in seen:
            raise UnsafeBundleError(name, "duplicate member name")
        seen.add(name)
        mode = info.external_attr >> 16
        file_type = stat.S_IFMT(mode) if info.create_system == 3 else 0
        if info.is_dir() or (file_type and file_type != stat.S_IFREG):
            what = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
            raise UnsafeBundleError(name, f"member is {what}")
        if info.flag_bits & 0x1:
            raise UnsafeBundleError(name, "member is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeBundleError(name, f"unsupported compression method {info.compress_type}")
        if info.file_size > limits.max_member_bytes:
            raise UnsafeBundleError(
                name, f"member is larger than {limits.max_member_bytes} bytes uncompressed"
            )
        if info.file_size > limits.ratio_floor and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            raise UnsafeBundleError(
                name,
                f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 is over "
                f"{limits.max_ratio}:1 (zip bomb?)",
            )
        declared += info.file_size
    if declared > limits.max_total_bytes:
        raise UnsafeBundleError(
            "(archive)", f"more than {limits.max_total_bytes} bytes uncompressed"
        )
    if declared > limits.ratio_floor and declared > limits.max_ratio * max(archive_size, 1):
        raise UnsafeBundleError(
            "(archive)", f"compression ratio over {limits.max_ratio}:1 (zip bomb?)"
        )


@contextmanager
def _mapped(fh: BinaryIO, size: int) -> Iterator[mmap.mmap | None]:
    """The archive's bytes mapped read-only (None for an empty file)."""
    if size == 0:
        yield None
        return
    view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield view
    finally:
        view.close()


def _read_mapped(
    view: mmap.mmap | None, info: zipfile.ZipInfo, limits: ZipLimits, budget: int
) -> bytes | None:
    """One member read straight from the mapped archive (one slice, one inflate, its
    CRC checked), with the checks :func:`_read_member` makes; None when the member is
    not a plain stored or deflated one this reader handles (then zipfile reads it)."""
    offset = info.header_offset
    if view is None or offset < 0 or offset + _LOCAL.size > len(view):
        return None
    magic, flags, n, m = _LOCAL.unpack_from(view, offset)
    if magic != b"PK\x03\x04" or flags & 0x1 or info.flag_bits & 0x21:
        return None  # not a local header, encrypted, or patch data: zipfile decides
    name = view[offset + _LOCAL.size : offset + _LOCAL.size + n]
    encoding = "utf-8" if flags & 0x800 else "cp437"
    try:
        if name.decode(encoding) != info.orig_filename:
            return None
    except UnicodeDecodeError:
        return None
    start = offset + _LOCAL.size + n + m
    end = start + info.compress_size
    if end > len(view):
        return None
    cap = min(info.file_size, limits.max_member_bytes, budget)
    most = min(cap + 1, info.file_size)  # as zipfile: never past the declared size
    if info.compress_type == zipfile.ZIP_DEFLATED:
        data = zlib.decompressobj(-15).decompress(view[start:end], most) if most else b""
    elif info.compress_type == zipfile.ZIP_STORED and info.compress_size == info.file_size:
        data = view[start : start + most]
    else:
        return None
    if len(data) > cap:
        raise UnsafeBundleError(info.filename, "member is larger than it declares or allowed")
    if len(data) != info.file_size:
        raise UnsafeBundleError(info.filename, "member is shorter than it declares")
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return data


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: int
) -> bytes:
    cap = min(info.file_size, limits.max_member_bytes, budget)
    with zf.open(info) as f:
        data = f.read(cap + 1)  # inflates at most cap + 1 bytes, whatever the member holds
    if len(data) > cap:
        raise UnsafeBundleError(info.filename, "member is larger than it declares or allowed")
    if len(data) != info.file_size:
        raise UnsafeBundleError(info.filename, "member is shorter than it declares")
    return data


def write_zip(out: Path, members: Sequence[tuple[str, bytes]], created: datetime) -> None:
    """Write ``members`` in order to ``out`` atomically, every timestamp ``created``."""
    stamp = max(_ZIP_EPOCH, created.timetuple()[:6])
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for name, data in members:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    zf.writestr(info, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # a bundle is meant to be handed over (mkstemp makes it 0600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
