"""Envelopes read from ``custody submit``'s files as a stream (bounded memory).

The result is the one :func:`ledger.envelope.parse_envelopes` gives for the whole
text of each file, item for item, but JSON lines are read one line at a time: a
file whose first non-blank line is JSON of its own (or JSON that is too deep, has
a duplicate key, ...) and that has a second non-blank line is JSON lines, and
:func:`~ledger.envelope.parse_envelopes` would parse it line by line too. Any other
file (one envelope, perhaps pretty-printed, or a JSON array) is read whole.

Every file argument is opened, and every regular file checked to be UTF-8, before
the first envelope is handed on, so an unreadable file appends nothing (as when
every file was read first). ``-`` is stdin, decoded as it comes.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Generator, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO

from ledger import strictjson
from ledger.envelope import Envelope, parse_envelope, parse_envelopes
from ledger.errors import EnvelopeError

__all__ = ["Batch", "EnvelopeReader", "InputFileError", "Item"]

Item = Envelope | EnvelopeError
Batch = bytes | list[Item]
"""A batch of :meth:`EnvelopeReader.batches`: whole JSON lines still unparsed (UTF-8
bytes, blank lines included), or items parsed here."""
CHUNK = 1 << 20


class EnvelopeReader:
    """The envelopes of ``paths`` in order; :attr:`done` bytes consumed of :attr:`total`."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.done = 0
        self.total: int | None = 0
        self._streams: list[tuple[str, BinaryIO]] = []
        for p in paths:
            self._streams.append((p, _open(p)))
            if p == "-":
                self.total = None
            elif self.total is not None:
                self.total += Path(p).stat().st_size

    def close(self) -> None:
        for p, f in self._streams:
            if p != "-":
                f.close()

    def __iter__(self) -> Iterator[Item]:
        for path, f in self._streams:
            yield from self._items(path, f)

    def batches(self, size: int) -> Iterator[Batch]:
        """The input in batches of about ``size`` items: JSON lines as raw blocks of
        ``size`` lines (for :func:`ledger.prepare_lines.parse_lines`, which gives the
        items :meth:`__iter__` gives), any other file as parsed items."""
        for path, f in self._streams:
            head: list[bytes] = []
            items = self._items(path, f, head)
            first = list(islice(items, 2))
            if not head:  # not JSON lines: parsed here
                rest = chain(first, items)
                while batch := list(islice(rest, size)):
                    yield batch
                continue
            items.close()
            yield from self._blocks(path, f, b"".join(head), size)

    def _blocks(self, path: str, f: BinaryIO, pending: bytes, size: int) -> Iterator[bytes]:
        """Blocks of ``size`` whole lines: ``pending`` (read already), then the rest of ``f``."""
        # a file was checked whole when opened; stdin is checked as it comes
        decoder = codecs.getincrementaldecoder("utf-8")() if path == "-" else None
        while True:
            chunk = f.read(CHUNK)
            if decoder is not None:
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError:
                    raise InputFileError(f"{path}: not UTF-8 text") from None
            if chunk:
                self.done += len(chunk)
                pending += chunk
            start, at = 0, 0
            while True:
                for _ in range(size):
                    at = pending.find(b"\n", at) + 1
                    if at == 0:
                        break
                if at == 0:
                    break
                yield pending[start:at]
                start = at
            pending = pending[start:]
            if not chunk:
                break
        if pending.strip():
            yield pending

    def _decode(self, path: str, raw: bytes) -> str:
        self.done += len(raw)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputFileError(f"{path}: not UTF-8 text") from None

    def _items(
        self, path: str, f: BinaryIO, head: list[bytes] | None = None
    ) -> Generator[Item, None, None]:
        """The items of one file. With ``head``, a JSON-lines file's lines read so far
        are put there (and its items yielded from the first on)."""
        read: list[str] = []  # the text so far, while the kind of file is not known
        texts: list[str] = []  # its non-blank lines
        lines = iter(f)
        raws: list[bytes] = []
        for raw in lines:
            raws.append(raw)
            text = self._decode(path, raw)
            read.append(text)
            texts += [t for t in text.splitlines() if t.strip()]
            if len(texts) >= 2:
                break
        if len(texts) < 2 or not _json_lines(texts[0]):
            rest = b"".join(lines)
            read.append(self._decode(path, rest))
            yield from parse_envelopes("".join(read))
            return
        read.clear()
        if head is not None:
            head += raws
        for t in texts:
            yield _parse_line(t)
        for raw in lines:
            for t in self._decode(path, raw).splitlines():
                if t.strip():
                    yield _parse_line(t)


class InputFileError(Exception):
    """A file argument that cannot be read or is not UTF-8 (the message says which)."""


def _json_lines(first: str) -> bool:
    """Whether a file whose first non-blank line is ``first``, followed by more, is
    read line by line by :func:`parse_envelopes` (see the module docstring)."""
    try:
        strictjson.loads(first.strip())
    except strictjson.JsonError as e:
        return e.reason != "syntax"
    return True


def _parse_line(text: str) -> Item:
    try:
        return parse_envelope(text)
    except EnvelopeError as e:
        return e


def _open(path: str) -> BinaryIO:
    """Open a file argument and check it is UTF-8 (stdin is checked as it is read)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by EnvelopeReader.close)
    except OSError as e:
        raise InputFileError(f"cannot read {path}: {e.strerror}") from None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := f.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        f.close()
        raise InputFileError(f"{path}: not UTF-8 text") from None
    f.seek(0)
    return f
