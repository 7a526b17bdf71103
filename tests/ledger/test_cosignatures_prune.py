"""The ``cosignatures`` table stays bounded (SQLite and PostgreSQL): after many
checkpoints cosigned by three witnesses, one of them stuck, only the rows at the
sizes still needed remain — each witness's latest, every row at those sizes, and
the checkpoint served as cosigned — and every answer a reader gets is unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from ledger.checkpoint import split_note
from ledger.cosignature import Cosigner, count_cosigners
from ledger.keys import PrivateKey
from ledger.store.cosignatures import (
    cosigned_checkpoint,
    ensure_table,
    latest_by_witness,
    prune,
    store_cosignature,
)
from ledger.store.tables import COSIGNATURES
from tests.support import World


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    w = World(tmp_path / "home", db_url=url)
    yield w
    w.close()


def _rows(world: World) -> list[tuple[int, str]]:
    with world.ledger.store.read() as r:
        q = select(COSIGNATURES.c.size, COSIGNATURES.c.witness).order_by(
            COSIGNATURES.c.size, COSIGNATURES.c.witness
        )
        return [(int(s), str(w)) for s, w in r.conn.execute(q)]


def test_the_table_keeps_only_what_is_needed(any_world: World) -> None:
    store = any_world.ledger.store
    ensure_table(store)
    w1, w2, w3 = (Cosigner(f"w{i}.test", PrivateKey(bytes([i]) * 32)) for i in (1, 2, 3))
    notes: dict[int, str] = {}

    def cosign(w: Cosigner, size: int) -> None:
        line = w.cosign(split_note(notes[size])[0], size).line()
        store_cosignature(store, size, w.verifier.vkey, line, size)

    for i in range(12):
        any_world.party(f"p{i}")
        size = any_world.ledger.size()
        notes[size] = any_world.ledger.checkpoint()
        if i < 3:  # w3 cosigns the first three, then stops answering
            cosign(w3, size)
        cosign(w1, size)
        if i != 11:  # w2 is one round behind at the end
            cosign(w2, size)
    sizes = sorted(notes)
    v1, v2, v3 = (w.verifier.vkey for w in (w1, w2, w3))
    # kept: w3's latest (sizes[2], with w1's and w2's rows there: the 3-witness
    # checkpoint, served as cosigned), w2's latest (sizes[10], with w1's row there),
    # w1's latest (sizes[11])
    assert _rows(any_world) == sorted(
        [
            (sizes[2], v1),
            (sizes[2], v2),
            (sizes[2], v3),
            (sizes[10], v1),
            (sizes[10], v2),
            (sizes[11], v1),
        ]
    )
    with store.read() as r:
        assert latest_by_witness(r) == {v1: sizes[11], v2: sizes[10], v3: sizes[2]}
        served = cosigned_checkpoint(r)
        assert served is not None
        assert served.size == sizes[2]
        assert count_cosigners(served.note, [w1.verifier, w2.verifier, w3.verifier]).count == 3
        # a bundle of a leaf after sizes[2] still finds a 2-witness quorum
        newer = cosigned_checkpoint(r, sizes[5])
        assert newer is not None
        assert newer.size == sizes[10]
        assert newer.witnesses == tuple(sorted((v1, v2)))
    # w2 catches up: its row at sizes[10] is no longer anyone's latest
    cosign(w2, sizes[11])
    assert (sizes[10], v1) not in _rows(any_world)
    assert len(_rows(any_world)) == 5


def test_pruning_a_table_grown_before(any_world: World) -> None:
    """A ledger that stored every cosignature (before pruning existed) is pruned
    by the next store, in the same transaction."""
    store = any_world.ledger.store
    ensure_table(store)
    for i in range(5):
        any_world.party(f"p{i}")
    note = any_world.ledger.checkpoint()
    size = any_world.ledger.size()
    w = Cosigner("w1.test", PrivateKey(bytes([1]) * 32))
    line = w.cosign(split_note(note)[0], 1).line()
    with store.engine.begin() as conn:
        for s in range(1, size):  # rows for old sizes, as an older version kept them
            conn.execute(
                insert(COSIGNATURES).values(size=s, witness=w.verifier.vkey, line=line, timestamp=1)
            )
        assert size - 1 == 5
        assert prune(conn) == 4  # all but the latest (size - 1)
    store_cosignature(store, size, w.verifier.vkey, line, 1)
    with store.read() as r:
        assert r.conn.execute(select(func.count()).select_from(COSIGNATURES)).scalar() == 1
