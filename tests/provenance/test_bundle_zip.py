"""Evidence bundles: hostile zips are refused before anything in them is read."""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.bundle import (
    UnsafeBundleError,
    ZipLimits,
    read_zip,
    verify_bundle,
)
from tests.provenance.bundle_support import (
    Exported,
    messages,
    read_members,
    run_cli,
    write_members,
)

# --------------------------------------------------------------------------- zip safety


def _zip_with(tmp: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    path = tmp / "evil.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we want
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_path_traversal_is_refused_and_nothing_is_written(exported: Exported, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    members = read_members(exported.path)
    members["../x"] = b"escaped"
    members["../../tmp/evil"] = b"escaped"
    path = write_members(work / "traversal.zip", members)
    before = _snapshot(tmp_path)
    result = verify_bundle(path, operator_key=exported.key)
    assert result.verdict == "fail"
    assert messages(result) == [
        "../x: member name walks out of the bundle (path traversal); the bundle was refused "
        "and nothing in it was read"
    ]
    assert result.report is None
    proc = run_cli("bundle", "verify", str(path), "--operator-key", exported.key, cwd=work, code=1)
    assert "path traversal" in proc.stdout
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "x").exists()
    assert not Path("/tmp/evil").exists()


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path):
    path = _zip_with(
        tmp_path, [("manifest.json", b"{}"), ("documents/" + "0" * 64, bytes(64 << 20))]
    )
    assert path.stat().st_size < 1 << 20
    result = verify_bundle(path)
    assert result.verdict == "fail"
    (message,) = messages(result)
    assert message.startswith(f"documents/{'0' * 64}: compression ratio ")
    assert "zip bomb" in message


def _lying_sizes(tmp: Path) -> Path:
    """A member that declares 100 bytes but inflates to 8 MiB."""
    path = _zip_with(tmp, [("report.html", bytes(8 << 20))])
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _zip_of(*entries: tuple[zipfile.ZipInfo | str, bytes]) -> Callable[[Path], Path]:
    return lambda tmp: _zip_with(tmp, list(entries))


def _garbage(tmp: Path) -> Path:
    path = tmp / "evil.zip"
    path.write_bytes(b"PK\x03\x04 not a zip")
    return path


UNSAFE = [
    pytest.param(_zip_of(("../x", b"x")), "path traversal", id="dot-dot"),
    pytest.param(_zip_of(("leaves/../../x", b"x")), "path traversal", id="dot-dot-inside"),
    pytest.param(_zip_of(("/etc/passwd", b"x")), "absolute path", id="absolute"),
    pytest.param(_zip_of(("C:/x", b"x")), "absolute path", id="drive-letter"),
    pytest.param(_zip_of(("..\\x", b"x")), "backslash", id="backslash"),
    pytest.param(_zip_of((_symlink("documents/link"), b"/etc/passwd")), "symlink", id="symlink"),
    pytest.param(_zip_of(("leaves/", b"")), "not a regular file", id="directory"),
    pytest.param(_zip_of(("a", b"1"), ("a", b"2")), "duplicate member name", id="duplicate"),
    pytest.param(
        _zip_of(*((f"leaves/{i}.json", b"{}") for i in range(11))),
        "more than 10 members",
        id="too-many-members",
    ),
    pytest.param(
        _zip_of(*((f"documents/{i}", os.urandom(400)) for i in range(4))),
        "more than 1000 bytes uncompressed",
        id="too-many-bytes",
    ),
    pytest.param(_zip_of(("report.html", bytes(5000))), "compression ratio", id="ratio"),
    pytest.param(_lying_sizes, "not a readable zip archive", id="size-lie"),
    pytest.param(_garbage, "not a readable zip archive", id="garbage"),
]


@pytest.mark.parametrize(("make", "reason"), UNSAFE)
def test_unsafe_zips_are_refused(tmp_path: Path, make: Callable[[Path], Path], reason: str):
    limits = ZipLimits(max_members=10, max_total_bytes=1000, max_ratio=20, ratio_floor=1000)
    path = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeBundleError) as e:
        read_zip(path, limits)
    assert reason in str(e.value)
    result = verify_bundle(path, limits=limits)
    assert result.verdict == "fail"
    assert reason in messages(result)[0]
    assert _snapshot(tmp_path) == before


def test_default_limits_read_the_exported_bundle(exported: Exported):
    members = read_zip(exported.path)
    assert set(members) == set(read_members(exported.path))
