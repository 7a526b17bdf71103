"""The ``cosignatures`` table on SQLite and PostgreSQL: the cosigned checkpoint a
bundle uses (most witnesses, then the larger size), the sizes each witness
holds, and `ledger audit` unaffected by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.checkpoint import split_note
from ledger.cosignature import Cosigner, count_cosigners
from ledger.keys import PrivateKey
from ledger.store.cosignatures import (
    cosigned_checkpoint,
    ensure_table,
    latest_by_witness,
    store_cosignature,
)
from tests.support import World


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    w = World(tmp_path / "home", db_url=url)
    yield w
    w.close()


def test_cosigned_checkpoint_choice(any_world: World) -> None:
    store = any_world.ledger.store
    with store.read() as r:
        assert cosigned_checkpoint(r) is None  # no table yet: nothing, no error
        assert latest_by_witness(r) == {}
    notes = {}
    for i in range(4):
        any_world.party(f"p{i}")
        notes[any_world.ledger.size()] = any_world.ledger.checkpoint()
    sizes = sorted(notes)
    w1, w2 = (Cosigner(f"w{i}.test", PrivateKey(bytes([i]) * 32)) for i in (1, 2))
    ensure_table(store)
    ensure_table(store)  # idempotent

    def cosign(w: Cosigner, size: int, t: int) -> None:
        line = w.cosign(split_note(notes[size])[0], t).line()
        store_cosignature(store, size, w.verifier.vkey, line, t)

    cosign(w1, sizes[1], 10)
    cosign(w2, sizes[1], 11)
    cosign(w1, sizes[3], 12)
    cosign(w1, sizes[3], 13)  # re-cosigned: replaced, not duplicated
    with store.read() as r:
        both = cosigned_checkpoint(r)
        assert both is not None
        assert both.size == sizes[1]  # two witnesses beat one at a larger size
        assert count_cosigners(both.note, [w1.verifier, w2.verifier]).count == 2
        newer = cosigned_checkpoint(r, sizes[2])
        assert newer is not None
        assert newer.size == sizes[3]
        assert newer.witnesses == (w1.verifier.vkey,)
        assert dict(count_cosigners(newer.note, [w1.verifier]).valid) == {w1.verifier.vkey: 13}
        assert cosigned_checkpoint(r, sizes[3] + 1) is None
        assert latest_by_witness(r) == {w1.verifier.vkey: sizes[3], w2.verifier.vkey: sizes[1]}
    assert audit(store).ok
