"""The home's document store as verification asks it: produced means present and intact."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from provenance.documents import StoreDocuments


def _put(store: Path, body: bytes, name: str | None = None) -> str:
    sha = hashlib.sha256(body).hexdigest()
    (store / (name or sha)).write_bytes(body)
    return sha


def test_present_absent_and_corrupt_documents(tmp_path: Path):
    store = tmp_path / "documents"
    store.mkdir()
    docs = StoreDocuments(store)
    good = _put(store, b"bill of lading 1")
    assert docs(good)
    assert docs.read(good) == b"bill of lading 1"
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not docs(absent)
    assert docs.read(absent) is None
    # a file whose bytes do not hash to its name is not produced
    bad = hashlib.sha256(b"the original").hexdigest()
    (store / bad).write_bytes(b"something else")
    assert not docs(bad)
    assert docs.read(bad) is None
    # repaired: the answer follows the file (modification time and size)
    (store / bad).write_bytes(b"the original")
    os.utime(store / bad, ns=(1, 1))
    assert docs(bad)
    # names that are not hashes never reach the file system
    (tmp_path / "secret").write_bytes(b"x")
    assert not docs("../secret")
    assert not StoreDocuments(None)(good)
