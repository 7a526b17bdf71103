"""Fuzzing the offline bundle verifier over mutated genuine bundles (issue 10).

Bytes flipped in members or in the archive, members dropped or duplicated,
manifest values replaced by arbitrary JSON: whatever the input, ``verify_bundle``
returns a verdict (never ``pass`` for a damaged bundle's integrity) or raises
the project's own :class:`ledger.errors.CustodyError`; nothing else escapes.
"""

from __future__ import annotations

import json
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import CustodyError
from provenance.bundle import BundleVerification, verify_bundle
from tests.provenance.bundle_support import Exported, read_members

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _check_members(members: list[tuple[str, bytes]], key: str) -> BundleVerification | None:
    """:func:`_check` of a bundle of ``members``, written to a folder removed after."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        path = Path(folder) / "b.zip"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are part of the attack
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in members:
                    zf.writestr(name, data)
        return _check(path, key)


def _check(path: Path, key: str) -> BundleVerification | None:
    try:
        result = verify_bundle(path, operator_key=key)
    except CustodyError:
        return None
    assert result.verdict in ("pass", "incomplete", "fail")
    json.dumps(result.to_json())  # the verdict is always printable
    return result


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


@FUZZ
@given(data=st.data())
def test_flipped_dropped_and_duplicated_members(exported: Exported, data: st.DataObject):
    members = list(read_members(exported.path).items())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(members) - 1))
        name, body = members[i]
        action = data.draw(st.sampled_from(["flip", "drop", "duplicate", "truncate", "rename"]))
        if action == "flip" and body:
            pos = data.draw(st.integers(0, len(body) - 1))
            members[i] = (
                name,
                body[:pos] + bytes([body[pos] ^ data.draw(st.integers(1, 255))]) + body[pos + 1 :],
            )
        elif action == "drop":
            members.pop(i)
        elif action == "duplicate":
            members.append((name, data.draw(st.sampled_from([body, b"", b"{}"]))))
        elif action == "truncate":
            members[i] = (name, body[: data.draw(st.integers(0, len(body)))])
        else:
            members[i] = (
                data.draw(st.sampled_from(["leaves/99999.json", "documents/" + "0" * 64, "x"])),
                body,
            )
        if not members:
            break
    result = _check_members(members, exported.key)
    if result is not None and members != list(read_members(exported.path).items()):
        assert result.verdict == "fail" or result.integrity or result.report is not None


@FUZZ
@given(data=st.data(), value=JSON_VALUES)
def test_manifest_values_replaced_by_arbitrary_json(
    exported: Exported, data: st.DataObject, value: Any
):
    members = read_members(exported.path)
    manifest = json.loads(members["manifest.json"])
    path = data.draw(st.sampled_from(_paths(manifest)[1:]))
    node: Any = manifest
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    members["manifest.json"] = json.dumps(manifest).encode()
    result = _check_members(list(members.items()), exported.key)
    assert result is not None


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1, max_size=4)
)
def test_archive_bytes_flipped(exported: Exported, flips: list[tuple[int, int]]):
    raw = bytearray(exported.path.read_bytes())
    for pos, mask in flips:
        raw[pos % len(raw)] ^= mask
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        path = Path(folder) / "b.zip"
        path.write_bytes(bytes(raw))
        _check(path, exported.key)
