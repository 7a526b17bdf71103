"""The server's witnessing task against the real witness app (in-process ASGI):
a log that lost the witness's answer catches up through 409; a witness that
holds another history at the log's size is reported, never papered over."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx

from api.witness.app import create_witness_app
from api.witnessing import Witnessing
from ledger.checkpoint import Checkpoint, sign_note
from ledger.cosignature import count_cosigners, parse_cosigner_key
from ledger.store.cosignatures import cosigned_checkpoint
from ledger.witness.config import WitnessEndpoint
from ledger.witness.home import WitnessHome
from ledger.witness.protocol import add_checkpoint, format_request
from tests.support import World


def _witness(tmp: Path, world: World) -> tuple[WitnessHome, WitnessEndpoint, httpx.ASGITransport]:
    wh = WitnessHome(tmp / "witness")
    wh.init("witness.test/w1")
    st = wh.state()
    st.add_log(world.ledger.origin, world.ledger.verifier_key())
    st.close()
    transport = httpx.ASGITransport(app=create_witness_app(wh))
    return wh, WitnessEndpoint("http://witness.test", parse_cosigner_key(wh.vkey())), transport


async def _until(task: Witnessing, done: object, seconds: float = 30) -> dict[str, object]:
    for _ in range(int(seconds / 0.05)):
        (status,) = task.status()
        if status["cosigned_size"] == done or status["last_error"]:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(task.status())


def test_a_lost_answer_is_recovered_through_409(tmp_path: Path, world: World) -> None:
    for i in range(3):
        world.party(f"p{i}")
    wh, endpoint, transport = _witness(tmp_path, world)
    # the witness cosigned the current checkpoint, but the log never got the answer
    st = wh.state()
    lost = add_checkpoint(st, wh.cosigner(), format_request(0, [], world.ledger.checkpoint()))
    assert lost.status == 200
    st.close()
    world.party("p3")
    size = world.ledger.size()

    async def run() -> dict[str, object]:
        task = Witnessing(world.ledger.store, [endpoint], interval=3600, transport=transport)
        await task.start()
        try:
            return await _until(task, size)
        finally:
            await task.stop()

    status = asyncio.run(run())
    assert status["cosigned_size"] == size
    assert status["last_error"] is None
    with world.ledger.store.read() as r:
        found = cosigned_checkpoint(r)
    assert found is not None
    assert found.size == size
    assert count_cosigners(found.note, [endpoint.verifier]).count == 1


def test_a_witness_holding_another_history_is_reported(tmp_path: Path, world: World) -> None:
    world.party("p0")
    wh, endpoint, transport = _witness(tmp_path, world)
    # someone holding the operator key showed the witness another tree of this size
    key = world.home.operator_key()
    size = world.ledger.size()
    body = Checkpoint(world.ledger.origin, size, hashlib.sha256(b"fork").digest()).body()
    fork = sign_note(body, world.ledger.origin, key.sign, key.public_key)
    st = wh.state()
    assert add_checkpoint(st, wh.cosigner(), format_request(0, [], fork)).status == 200
    st.close()

    async def run() -> dict[str, object]:
        task = Witnessing(world.ledger.store, [endpoint], interval=3600, transport=transport)
        await task.start()
        try:
            return await _until(task, -1)
        finally:
            await task.stop()

    status = asyncio.run(run())
    assert status["status"] == "failing"
    assert "split view" in str(status["last_error"])
    assert status["cosigned_size"] == 0
    st = wh.state()
    try:
        (evidence,) = st.evidence()
    finally:
        st.close()
    assert evidence.kind == "same_size"
    assert evidence.held_note == fork
    assert evidence.offered_note == world.ledger.checkpoint()
    with world.ledger.store.read() as r:
        assert cosigned_checkpoint(r) is None
