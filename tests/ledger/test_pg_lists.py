"""Lists of identifiers sent to PostgreSQL as one text the server splits
(:func:`ledger.store.bulk.split_text`), and the bulk append path on PostgreSQL
(binary ``COPY`` of the insert-only rows): the same reads and the same ledger as
with lists sent value by value, including values the split cannot carry."""

from __future__ import annotations

import pytest

from ledger.audit import audit
from ledger.pipeline import pipelined
from ledger.prepare import merged
from ledger.prepare_lines import LinePreparer, unpack
from ledger.store.bulk import SEP, split_text
from tests.ledger.custody_world import origin_body
from tests.support import World


@pytest.mark.parametrize(
    ("values", "joined"),
    [
        (["a"], "a"),
        (["a", "b/c", "sha256:00"], "a\nb/c\nsha256:00"),
        ([], None),
        (["a", ""], None),  # string_to_array would drop nothing but lose the empty one
        ([""], None),
        (["a\nb", "c"], None),  # holds the separator
    ],
)
def test_split_text_joins_only_what_the_server_gives_back(values: list[str], joined: str | None):
    assert split_text(values) == joined
    if joined is not None:
        assert joined.split(SEP) == values


def test_reads_by_lists_on_postgresql_match_value_by_value(pg_world: World):
    farm = pg_world.party("farm")
    kid = farm.key.kid
    with pg_world.ledger.store.read() as r:
        assert set(r.keys_by_kid([kid, "no-such-kid"])) == {kid}
        # a keyid is an unchecked hint: one the split cannot carry goes as an array
        assert set(r.keys_by_kid([kid, "bad\nkid", ""])) == {kid}
        snap = r.prefetch(["farm", "operator", "x\ny"], [kid], [], [], {})
        assert snap.party("farm") is not None
        assert snap.party("x\ny") is None
    results = pg_world.ledger.submit(
        [farm.envelope("origin", id=f"o/{i}", **origin_body(f"farm/lot-{i}")) for i in range(5)]
    )
    assert [r.error for r in results] == [None] * 5
    with pg_world.ledger.store.read() as r:
        found = r.by_issuer_ids([("farm", "o/1"), ("farm", "o/4"), ("farm", "o/9")])
        assert set(found) == {("farm", "o/1"), ("farm", "o/4")}
        found = r.by_issuer_ids([("farm", "o/2"), ("x\ny", "o/2")])  # the arrays' path
        assert set(found) == {("farm", "o/2")}


def test_bulk_lines_on_postgresql(pg_world: World):
    """The worker-prepared blocks of ``custody submit`` on PostgreSQL (rows by
    ``COPY``, lists split by the server): every line's result in order, and a
    ledger whose derived state the audit re-derives exactly."""
    farm = pg_world.party("farm")
    size0 = pg_world.ledger.size()
    envelopes = [
        farm.envelope("origin", id=f"o/{i}", **origin_body(f"farm/lot-{i}")) for i in range(60)
    ]
    envelopes.append(envelopes[3])  # a duplicate
    text = b"\n".join(e.to_json().encode() for e in envelopes) + b"\n{not json\n"
    blocks = [b"".join(text.splitlines(keepends=True)[i : i + 25]) for i in range(0, 62, 25)]
    preparer = LinePreparer(pg_world.ledger.store.url, 2)
    try:
        started = [preparer.submit(b) for b in blocks]
        got = list(
            pipelined(
                lambda g: merged([unpack(f.result()) for f in g]),
                pg_world.ledger._finish,
                [started[:2], started[2:]],
            )
        )
    finally:
        preparer.close()
    results = [r for rs in got for r in rs]
    assert [r.seq is not None for r in results].count(True) == 61
    assert sum(r.duplicate for r in results) == 1
    assert [r.error.code for r in results if r.error is not None] == ["invalid_envelope.json"]
    assert [r.seq for r in results[:60]] == list(range(size0, size0 + 60))
    assert results[60].seq == size0 + 3  # the duplicate names the first
    assert pg_world.ledger.size() == size0 + 60
    assert audit(pg_world.ledger.store).ok
