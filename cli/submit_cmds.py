"""``custody submit``: append envelopes from files or stdin, streamed (SPEC §8, §10).

The input is read as a stream (:mod:`cli.submit_input`; JSON lines one line at
a time) and appended in batches. Up to :data:`SMALL` envelopes go in one
:meth:`ledger.log.Ledger.submit` call; a larger input goes through the pipelined
append (:func:`ledger.pipeline.pipelined`): blocks of :data:`BATCH` JSON lines are
parsed and their signatures checked on worker processes (:mod:`ledger.prepare_lines`,
one per core) while earlier ones are appended, :data:`GROUP` blocks a transaction.
With ``--server`` the batches go over HTTP, one request at a time.

Output: ``--json`` is SPEC §10's list of per-envelope results in input order,
written as the batches are appended. Otherwise each rejected envelope is one
line on stdout (``--each`` adds a line for every appended one), then a summary
on stderr: appended, rejected, already in the ledger, rejections by code. A
progress bar (envelopes, rate, ETA by bytes read) is drawn on stderr only when
it is a terminal and ``--json`` is not given. Exit 1 if any envelope was rejected.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from itertools import islice
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from cli.common import home_of
from cli.jsontext import dumps_indented
from cli.output import err, fail, out, short
from cli.submit_input import Batch, EnvelopeReader, InputFileError, Item

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ledger.prepare import SubmitResult

__all__ = ["BATCH", "SMALL", "run_submit"]

SMALL = 2000
"""Inputs of at most this many envelopes are appended in one batch, verified inline."""
BATCH = 1000
"""Envelopes a batch of a larger input (and an HTTP request with ``--server``)."""
AHEAD = 3
"""Batches a core handed to the worker processes ahead of the ones being appended."""
GROUP = 8
"""Batches of a large input appended in one transaction: fewer commits, and fewer
index pages written per envelope as the ledger grows (once the whole input is
handed on, a transaction takes only the batches ready, so that the last ones are
not appended alone after the workers are done)."""


def run_submit(files: list[str], home: Any, server: str | None, as_json: bool, each: bool) -> None:
    try:
        reader = EnvelopeReader(files)
    except InputFileError as e:
        fail(str(e))
    sink = _Sink(as_json, each)
    bar = _Bar(reader) if not as_json and sys.stderr.isatty() else None
    try:
        if bar is not None:
            bar.start()
        _submit(reader, home, server, sink, bar)
    except InputFileError as e:
        fail(str(e))
    finally:
        if bar is not None:
            bar.stop()
        reader.close()
    sink.finish()


def _submit(
    reader: EnvelopeReader, home: Any, server: str | None, sink: _Sink, bar: _Bar | None
) -> None:
    if server:
        from cli.client import Client

        client = Client(server)
        for batch in _batches(iter(reader), BATCH):
            sink.add(client.submit(list(batch)))
            if bar is not None:
                bar.update(sink.count, reader.done)
        return
    where = home_of(home)
    where.operator_key()  # no ledger there: that error first, before any input is read
    source = reader.batches(BATCH)
    first: list[Batch] = []
    lines = 0  # (at most) the envelopes in `first`
    for block in source:
        first.append(block)
        lines += _count(block)
        if lines > SMALL:
            break
    if lines <= SMALL:
        from ledger.prepare_lines import parse_lines

        small = [i for b in first for i in (parse_lines(b) if isinstance(b, bytes) else b)]
        sink.add([r.to_json() for r in where.open().submit(small)])
        return
    _submit_large(where, reader, _chain(first, source), sink, bar)


def _submit_large(
    where: Any, reader: EnvelopeReader, source: Iterator[Batch], sink: _Sink, bar: _Bar | None
) -> None:
    """Batches through the pipelined append: JSON lines parsed and their signatures
    checked on worker processes (:mod:`ledger.prepare_lines`), other input parsed
    here with the signatures checked on worker processes. The workers start on the
    head of the input while this process opens the ledger."""
    from ledger.prepare_lines import LinePreparer, preload, unpack

    _start_fork_server(preload(where.db_url))  # its imports overlap this process's own

    cores = os.cpu_count() or 1
    preparer = LinePreparer(where.db_url, cores)
    ahead: deque[Future[bytes] | list[Item]] = deque()  # batches handed on, in order
    marks: deque[int] = deque()  # bytes read at the end of each of them
    appends: deque[int] = deque()  # the same at the end of each append

    def start(batch: Batch) -> None:
        marks.append(reader.done)
        ahead.append(preparer.submit(batch) if isinstance(batch, bytes) else batch)

    sizes = _ramp(GROUP)

    def group(end: bool = False) -> list[Future[bytes] | list[Item]]:
        n = min(next(sizes), len(ahead))
        if end:  # the input is all handed on: append what is ready, do not wait for more
            n = next((i for i in range(1, n) if not _ready(ahead[i])), n)
        for _ in range(n - 1):
            marks.popleft()
        appends.append(marks.popleft())
        return [ahead.popleft() for _ in range(n)]

    def started() -> Iterator[list[Future[bytes] | list[Item]]]:
        for batch in source:
            start(batch)
            if len(ahead) >= GROUP + AHEAD * cores:
                yield group()
        while ahead:
            yield group(end=True)

    verifier: Any = None
    try:
        for batch in islice(source, AHEAD * cores):
            start(batch)
        from ledger.log import Ledger
        from ledger.pipeline import pipelined
        from ledger.prepare import Prepared, merged
        from ledger.sigcheck import ProcessVerifier, bulk_collector

        ledger = where.open()
        verifier = ProcessVerifier(cores)
        bulk_collector()  # the imports out of every collection; batches freed by refcount
        fast = Ledger(ledger.store, ledger.operator_key, verifier=verifier)

        def prepare(batches: list[Future[bytes] | list[Item]]) -> Prepared:
            return merged(
                [fast._prepare(b) if isinstance(b, list) else unpack(b.result()) for b in batches]
            )

        for results in pipelined(prepare, fast._finish, started()):
            sink.add_results(results)
            done = appends.popleft()
            if bar is not None:
                bar.update(sink.count, done)
    finally:
        preparer.close()
        if verifier is not None:
            verifier.close()


def _start_fork_server(preload: tuple[str, ...]) -> None:
    """Start the server that forks the worker processes now, with ``preload`` imported
    (as :func:`ledger.sigcheck.worker_pool` would when the first worker starts), so
    that its imports run while this process imports what it appends with."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(list(preload))
    forkserver.ensure_running()


def _ramp(most: int) -> Iterator[int]:
    """Batches a transaction: 1, 1, 2, 4, ... up to ``most``, then ``most`` on. The
    appender, the pipeline's sequential stage, starts on the first block ready
    rather than when a whole group is."""
    yield 1
    n = 1
    while True:
        yield n
        n = min(2 * n, most)


def _ready(batch: Future[bytes] | list[Item]) -> bool:
    return isinstance(batch, list) or batch.done()


def _count(batch: Batch) -> int:
    """The items of ``batch``, or for JSON lines not parsed yet, at most that many."""
    if isinstance(batch, list):
        return len(batch)
    return batch.count(b"\n") + (not batch.endswith(b"\n"))


def _chain(first: list[Batch], rest: Iterator[Batch]) -> Iterator[Batch]:
    yield from first
    first.clear()  # the head of the input is not kept once handed on
    yield from rest


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class _Sink:
    """Results written as they come; counts kept for the summary."""

    def __init__(self, as_json: bool, each: bool) -> None:
        self.as_json = as_json
        self.each = each
        self.count = 0
        self.rejected: Counter[str] = Counter()
        self.duplicates = 0
        self.seqs: list[int] = []  # first and last seq appended now

    def add(self, results: list[dict[str, Any]]) -> None:
        lines: list[str] = []
        for r in results:
            error = r.get("error")
            if error is not None:
                self.rejected[str(error["code"])] += 1
            elif r.get("duplicate"):
                self.duplicates += 1
            elif isinstance(seq := r.get("seq"), int):
                self.seqs[min(len(self.seqs), 1) :] = [seq]
            if self.as_json:
                text = dumps_indented(r, level="  ")
                lines.append(("[\n  " if self.count == 0 else ",\n  ") + text)
            elif error is not None:
                digest = short(str(r.get("digest") or ""))
                message = escape(f"{error['message']} [{error['code']}]")
                out.print(f"[red]rejected[/] {digest}  " + message)
            elif self.each:
                dup = "  (already in the ledger)" if r.get("duplicate") else ""
                out.print(f"[green]seq {r['seq']}[/]  {r['digest']}{dup}")
            self.count += 1
        if lines:
            sys.stdout.write("".join(lines))
            sys.stdout.flush()

    def add_results(self, results: list[SubmitResult]) -> None:
        """:meth:`add` for the results of a local append (counted without building
        their JSON when only the rejected ones are shown)."""
        if self.as_json or self.each:
            self.add([r.to_json() for r in results])
            return
        for r in results:
            if r.error is not None:
                self.add([r.to_json()])
                continue
            if r.duplicate:
                self.duplicates += 1
            elif r.seq is not None:
                self.seqs[min(len(self.seqs), 1) :] = [r.seq]
            self.count += 1

    def finish(self) -> None:
        rejected = sum(self.rejected.values())
        if self.as_json:
            sys.stdout.write("[]\n" if self.count == 0 else "\n]\n")
            sys.stdout.flush()
        else:
            summary = f"{self.count - rejected} appended, {rejected} rejected"
            if self.seqs:
                summary += f"; new entries: seq {'–'.join(str(n) for n in self.seqs)}"
            if self.duplicates:
                summary += f"; {self.duplicates} of them already in the ledger"
            if rejected:
                codes = ", ".join(f"{c} {n}" for c, n in sorted(self.rejected.items()))
                summary += f"; rejected by code: {codes}"
            err.print(escape(summary))
        if rejected:
            raise typer.Exit(1)


class _Bar:
    """A progress bar on stderr: envelopes appended, their rate, ETA from bytes read."""

    def __init__(self, reader: EnvelopeReader) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress: Progress = Progress(
            TextColumn("submitting"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[count]} envelopes, {task.fields[rate]}/s"),
            TimeRemainingColumn(),
            console=Console(stderr=True, highlight=False),
            transient=True,
        )
        self.task: TaskID = self.progress.add_task("submit", total=reader.total, count=0, rate=0)
        self.started = time.perf_counter()

    def start(self) -> None:
        self.progress.start()

    def update(self, count: int, done: int) -> None:
        rate = round(count / max(time.perf_counter() - self.started, 1e-6))
        self.progress.update(self.task, completed=done, count=count, rate=rate)

    def stop(self) -> None:
        self.progress.stop()
