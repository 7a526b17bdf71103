"""JSON lines prepared on worker processes (:mod:`ledger.prepare_lines`, the bulk path
of ``custody submit``) append exactly what ``Ledger.submit`` appends for the same
lines batch after batch: results, rejections, leaves, checkpoint. The batches are
the ones of ``test_ingest_pipeline`` (a key registered one batch before it signs,
a forged copy of a signature, duplicates, conflicts), all handed to the workers
before the first is appended."""

from __future__ import annotations

from pathlib import Path

from ledger.envelope import Envelope
from ledger.pipeline import pipelined
from ledger.prepare import merged
from ledger.prepare_lines import LinePreparer, parse_lines, unpack
from tests.ledger.test_ingest_pipeline import Item, _batches, _codes, _leaves, _twin
from tests.support import World


def _lines(batch: list[Item]) -> bytes:
    """The batch as JSON lines (an item that is no envelope as a line that is no JSON),
    with a blank line and a last line without its newline."""
    texts = [e.to_json() if isinstance(e, Envelope) else "{not json" for e in batch]
    return ("\n".join(texts[:2]) + "\n \n" + "\n".join(texts[2:])).encode("utf-8")


def test_lines_prepared_on_workers_append_what_submit_appends(world: World, tmp_path: Path):
    blocks = [_lines(b) for b in _batches(world)]
    twin = _twin(world, tmp_path)
    expected = [world.ledger.submit(parse_lines(b)) for b in blocks]
    preparer = LinePreparer(twin.store.url, 2)
    try:
        started = [preparer.submit(b) for b in blocks]
        got = list(pipelined(lambda f: unpack(f.result()), twin._finish, started))
    finally:
        preparer.close()
    assert [_codes(r) for r in got] == [_codes(r) for r in expected]
    assert any(r.error is not None for r in got[0])
    assert _leaves(twin) == _leaves(world.ledger)
    assert twin.checkpoint() == world.ledger.checkpoint()
    twin.store.close()


def test_blocks_merged_into_one_append_append_what_submit_appends(world: World, tmp_path: Path):
    """``custody submit`` appends several blocks in one transaction (:func:`merged`):
    the results are those of the blocks one after the other, and so are the leaves
    (one clock), the derived state (audit) and the last checkpoint."""
    from ledger.audit import audit

    blocks = [_lines(b) for b in _batches(world)]
    twin = _twin(world, tmp_path)
    expected = [r for b in blocks for r in world.ledger.submit(parse_lines(b))]
    preparer = LinePreparer(twin.store.url, 2)
    try:
        started = [preparer.submit(b) for b in blocks]
        groups = [started[:2], started[2:]]  # a key registered in the block before it signs
        got = list(
            pipelined(lambda g: merged([unpack(f.result()) for f in g]), twin._finish, groups)
        )
    finally:
        preparer.close()
    assert len(got) == 2
    assert [r for rs in got for r in _codes(rs)] == _codes(expected)
    assert _leaves(twin) == _leaves(world.ledger)
    assert twin.checkpoint() == world.ledger.checkpoint()
    assert audit(twin.store).ok
    twin.store.close()


def test_parse_lines_skips_blank_lines_and_keeps_bad_ones():
    items = parse_lines(b"\n  \n{not json\n\xe2\x80\xa8\n[]")
    assert [getattr(i, "code", None) for i in items] == [
        "invalid_envelope.json",
        "invalid_envelope.type",
    ]


def test_missing_and_foreign_keyids_are_named_on_the_workers(world: World, tmp_path: Path):
    """DSSE keyids are hints: a missing one, or one naming no registered key, is named
    on the worker by the issuer's key that verifies (parsing the statement for it);
    one no key verifies stays as it is and is rejected. Results and leaves are those
    of ``Ledger.submit``."""
    from dataclasses import replace

    from ledger.envelope import EnvelopeSignature
    from tests.ledger.custody_world import origin_body

    farm = world.party("farm")
    envs = [farm.envelope("origin", id=f"o/{i}", **origin_body(f"farm/lot-{i}")) for i in range(4)]

    def rekeyed(e: Envelope, kid: str, sig: bytes | None = None) -> Envelope:
        s = e.signatures[0]
        return replace(e, signatures=(EnvelopeSignature(kid, sig or s.sig),))

    forged = bytes([envs[3].signatures[0].sig[0] ^ 1]) + envs[3].signatures[0].sig[1:]
    lines = [rekeyed(envs[0], ""), rekeyed(envs[1], "ab" * 32), envs[2]]
    lines.append(rekeyed(envs[3], "cd" * 32, forged))
    block = "\n".join(e.to_json() for e in lines).encode("utf-8") + b"\n"
    twin = _twin(world, tmp_path)
    expected = world.ledger.submit(parse_lines(block))
    preparer = LinePreparer(twin.store.url, 2)
    try:
        got = twin._finish(unpack(preparer.submit(block).result()))
    finally:
        preparer.close()
    assert _codes(got) == _codes(expected)
    assert [r.error.code if r.error else None for r in got] == [
        None,
        None,
        None,
        "bad_signature.unknown_key",
    ]
    assert _leaves(twin) == _leaves(world.ledger)
    named = _leaves(twin)[-3:-1]  # the missing and the foreign keyid
    assert all(farm.key.kid.encode() in leaf and b"ab" * 32 not in leaf for leaf in named)
    twin.store.close()


def test_public_keys_are_read_without_sqlalchemy_as_the_store_reads_them(world: World):
    """The workers' key lookup (:func:`ledger.store.peek.public_keys`) answers what
    :meth:`ReadTx.keys_by_kid` answers, over more kids than one ``IN`` list holds."""
    from ledger.store import peek

    farm, gin = world.party("farm"), world.party("gin")
    unknown = [f"{i:064x}" for i in range(peek.IN_LIST * 2 + 1)]
    kids = [farm.key.kid, *unknown, gin.key.kid]
    with world.ledger.store.read() as r:
        expected = {kid: rec.public_key for kid, rec in r.keys_by_kid(kids).items()}
    assert set(expected) == {farm.key.kid, gin.key.kid}
    assert peek.public_keys(world.ledger.store.url, kids) == expected
    assert peek.public_keys(world.ledger.store.url, []) == {}


def test_public_keys_are_read_from_postgresql_with_psycopg_alone(pg_url: str, tmp_path: Path):
    """On PostgreSQL the workers read the keys through psycopg, on one connection a
    process keeps; a server that does not answer gives ``None`` (the Store decides)."""
    import os

    from ledger.store import peek

    pg = World(tmp_path / "pg", db_url=pg_url)
    try:
        farm = pg.party("farm")
        kids = [farm.key.kid, "ab" * 32, pg.operator.key.kid]
        with pg.ledger.store.read() as r:
            expected = {kid: rec.public_key for kid, rec in r.keys_by_kid(kids).items()}
        assert set(expected) == {farm.key.kid, pg.operator.key.kid}
        assert peek.public_keys(pg_url, kids) == expected
        assert peek.public_keys(pg_url, kids) == expected  # the kept connection
        assert peek.public_keys(pg_url, []) == {}
        child = os.fork()
        if child == 0:  # a forked child opens its own connection, never the parent's
            os._exit(0 if peek.public_keys(pg_url, kids) == expected else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
        assert peek.public_keys(pg_url, kids) == expected  # the parent's, untouched
    finally:
        pg.close()
    closed_port = "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2"
    assert peek.public_keys(closed_port, ["a"]) is None


def test_public_keys_answer_none_where_they_cannot_say(tmp_path: Path):
    """Neither SQLite nor PostgreSQL, no such file (none is created), no keys table:
    ``None``, and the worker asks the :class:`~ledger.store.Store`, which reports
    the problem."""
    import sqlite3

    from ledger.store import peek

    assert peek.public_keys("mysql://root@127.0.0.1/x", ["a"]) is None
    missing = tmp_path / "none.db"
    assert peek.public_keys(f"sqlite:///{missing}", ["a"]) is None
    assert not missing.exists()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert peek.public_keys(f"sqlite:///{other}", ["a"]) is None


WORKER_PROBE = """
import json, sys
from ledger.prepare_lines import _prepare_block, unpack
data = _prepare_block(sys.argv[1], sys.stdin.buffer.read())
heavy = ("sqlalchemy", "sqlmodel", "pydantic", "ledger.store.engine", "ledger.statements")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
sys.stdout.flush()
prepared = unpack(data)  # the appender's side loads them
print(json.dumps([len(prepared.parsed), sum(prepared.signatures.known.values())]))
"""


def test_a_worker_checks_a_sqlite_block_without_the_store_or_the_models(world: World):
    """A worker's imports (and its fork server's) are the envelope and key code only
    when every keyid is registered: the statements are parsed by the appender."""
    import json
    import subprocess
    import sys

    from tests.ledger.custody_world import origin_body

    farm = world.party("farm")
    envs = [farm.envelope("origin", id=f"o/{i}", **origin_body(f"farm/lot-{i}")) for i in range(3)]
    block = "".join(e.to_json() + "\n" for e in envs).encode("utf-8")
    done = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE, world.ledger.store.url],
        input=block,
        capture_output=True,
        check=True,
    )
    loaded, counts = (json.loads(line) for line in done.stdout.splitlines())
    assert loaded == []
    assert counts == [3, 3]
