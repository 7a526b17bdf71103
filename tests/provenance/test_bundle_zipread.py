"""provenance.bundle.zipsafe reads members from the mapped archive with zipfile's checks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from provenance.bundle import UnsafeBundleError, read_zip
from provenance.bundle.zipsafe import write_zip
from tests.provenance.test_bundle_zip import _zip_with


def _members() -> list[tuple[str, bytes]]:
    return [("manifest.json", b"{}"), ("leaves/0.json", b"x" * 300), ("empty", b"")]


def test_members_read_as_zipfile_reads_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = tmp_path / "b.zip"
    write_zip(path, _members(), datetime(2026, 12, 5, tzinfo=UTC))
    assert read_zip(path) == dict(_members())
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        for name, data in _members():
            zf.writestr(name, data)
    assert read_zip(stored) == dict(_members())


def _patch(path: Path, old: bytes, new: bytes, which: int = 0) -> None:
    data = path.read_bytes()
    at = -1
    for _ in range(which + 1):
        at = data.index(old, at + 1)
    path.write_bytes(data[:at] + new + data[at + len(old) :])


def test_a_corrupted_member_fails_its_crc(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, [("leaves/0.json", b"abcdefgh" * 10)])
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("leaves/0.json")
    # flip one byte of the compressed data (after the 30-byte header and the name)
    data = bytearray(path.read_bytes())
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 2
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeBundleError) as e:
        read_zip(path)
    assert "not a readable zip archive" in str(e.value)


def test_a_local_name_other_than_the_directory_name_is_refused(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, [("leaves/1.json", b"{}")])
    _patch(path, b"leaves/1.json", b"leaves/2.json")  # the local header only
    with pytest.raises(UnsafeBundleError) as e:
        read_zip(path)
    assert "not a readable zip archive" in str(e.value)


def test_a_header_offset_past_the_end_is_refused(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, [("a", b"1"), ("b", b"2")])
    data = bytearray(path.read_bytes())
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[second + 42 : second + 46] = (10**6).to_bytes(4, "little")  # relative offset
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeBundleError):
        read_zip(path)
