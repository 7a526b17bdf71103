"""The server's witnessing task across a real operator key rotation
(``rotate_operator_key``): the witness refuses the new key's checkpoints with 403
until its operator trusts the new key (the log shows the refusal and its reason),
then cosigns them with a consistency proof from the size it cosigned under the
old key — the same history, not a fresh one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api.witnessing import Witnessing
from ledger.cosignature import count_cosigners
from ledger.rotation import KeyChain, Rotation, open_checkpoint_chained
from ledger.store.cosignatures import cosigned_checkpoint
from tests.api.test_witness_task import _witness
from tests.ledger.test_rotation import _grow, _rotate
from tests.support import World


async def _wait(task: Witnessing, cond: object, seconds: float = 30) -> dict[str, object]:
    for _ in range(int(seconds / 0.05)):
        (status,) = task.status()
        if callable(cond) and cond(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(task.status())


def test_the_witness_follows_the_log_across_a_rotation(tmp_path: Path, world: World) -> None:
    _grow(world, 3, "before")
    wh, endpoint, transport = _witness(tmp_path, world)
    old_vkey = world.ledger.verifier_key()

    async def first() -> dict[str, object]:
        task = Witnessing(world.ledger.store, [endpoint], interval=0.05, transport=transport)
        await task.start()
        try:
            size = world.ledger.size()
            return await _wait(task, lambda s: s["cosigned_size"] == size)
        finally:
            await task.stop()

    held_before = asyncio.run(first())["cosigned_size"]
    old_key, new_key, rotation_seq = _rotate(world)
    _grow(world, 2, "after")
    size = world.ledger.size()
    new_vkey = world.ledger.verifier_key()
    assert new_vkey != old_vkey

    async def second() -> tuple[dict[str, object], dict[str, object]]:
        task = Witnessing(
            world.ledger.store,
            [endpoint],
            interval=0.05,
            base_backoff=0.05,
            max_backoff=0.2,
            transport=transport,
        )
        await task.start()
        try:
            refused = await _wait(task, lambda s: s["last_error"] is not None)
            st = wh.state()
            try:
                st.add_log(world.ledger.origin, new_vkey)  # the witness's operator trusts it
            finally:
                st.close()
            done = await _wait(task, lambda s: s["cosigned_size"] == size)
            return refused, done
        finally:
            await task.stop()

    refused, done = asyncio.run(second())
    assert refused["status"] == "failing"
    assert refused["reason"] == "refused"
    assert "HTTP 403" in str(refused["last_error"])
    assert refused["cosigned_size"] == held_before
    assert done["status"] == "ok"
    assert done["reason"] is None

    st = wh.state()
    try:
        latest = st.latest(world.ledger.origin)
        assert latest is not None
        assert (latest.size, latest.vkey) == (size, new_vkey)
        assert st.evidence() == []
    finally:
        st.close()
    with world.ledger.store.read() as r:
        found = cosigned_checkpoint(r)
    assert found is not None
    assert found.size == size
    assert count_cosigners(found.note, [endpoint.verifier]).count == 1
    chain = KeyChain(
        old_key.public_key, [Rotation(rotation_seq, old_key.public_key, new_key.public_key)]
    )
    assert open_checkpoint_chained(found.note, world.ledger.origin, chain).size == size
