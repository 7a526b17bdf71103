"""``custody submit``'s reader in blocks (:meth:`cli.submit_input.EnvelopeReader.batches`):
JSON lines come as raw blocks of whole lines that :func:`ledger.prepare_lines.parse_lines`
turns into exactly the items the reader gives one by one; any other file comes
parsed; a file that is not UTF-8 appends nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from cli.submit_input import EnvelopeReader, Item
from ledger.envelope import Envelope, sign_envelope
from ledger.keys import PrivateKey
from ledger.prepare_lines import parse_lines
from ledger.statements import build_statement


def _envelopes(n: int) -> list[Envelope]:
    key = PrivateKey.generate()
    return [
        sign_envelope(
            build_statement(
                "origin", f"o/{i}", "farm", datetime(2026, 9, 1, tzinfo=UTC),
                lot={"id": f"farm/{i}", "material": "cotton.seed",
                     "quantity": Decimal(100), "unit": "kg"},
                site={"name": "Field", "country": "US"},
            ),
            [key],
        )
        for i in range(n)
    ]  # fmt: skip


def _show(items: list[Item]) -> list[object]:
    return [i if isinstance(i, Envelope) else (type(i), i.code, i.message) for i in items]


def _by_blocks(paths: list[str], size: int) -> list[Item]:
    reader = EnvelopeReader(paths)
    try:
        out: list[Item] = []
        for batch in reader.batches(size):
            out += parse_lines(batch) if isinstance(batch, bytes) else batch
        return out
    finally:
        reader.close()


def _one_by_one(paths: list[str]) -> list[Item]:
    reader = EnvelopeReader(paths)
    try:
        return list(reader)
    finally:
        reader.close()


def test_blocks_give_the_items_one_by_one_gives(tmp_path: Path):
    envs = _envelopes(12)
    lines = [e.to_json() for e in envs]
    lines[4] = "{not json"
    lines[7] = "  "
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n\n".join(lines), encoding="utf-8")  # blank lines, no last newline
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps(envs[0].to_json_obj(), indent=2), encoding="utf-8")
    array = tmp_path / "array.json"
    array.write_text(json.dumps([e.to_json_obj() for e in envs[:5]]), encoding="utf-8")
    paths = [str(jsonl), str(pretty), str(array), str(jsonl)]
    expected = _one_by_one(paths)
    assert len(expected) == 2 * 11 + 1 + 5
    for size in (1, 3, 1000):
        assert _show(_by_blocks(paths, size)) == _show(expected)


def test_blocks_of_whole_lines(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in _envelopes(7)), encoding="utf-8")
    reader = EnvelopeReader([str(path)])
    blocks = list(reader.batches(3))
    reader.close()
    assert [b.count(b"\n") for b in blocks if isinstance(b, bytes)] == [3, 3, 1]
    assert all(isinstance(b, bytes) and b.endswith(b"\n") for b in blocks)
    assert reader.done == path.stat().st_size


def test_transactions_ramp_up_to_the_group():
    """The appender starts on the first block ready: 1, 1, 2, 4 blocks, then GROUP."""
    from itertools import islice

    from cli.submit_cmds import GROUP, _ramp

    assert list(islice(_ramp(8), 7)) == [1, 1, 2, 4, 8, 8, 8]
    assert list(islice(_ramp(GROUP), 3)) == [1, 1, 2]
    assert list(islice(_ramp(1), 3)) == [1, 1, 1]
