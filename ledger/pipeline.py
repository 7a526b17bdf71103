"""Batches appended one after the other, their preparation pipelined (the ingest fast path).

:func:`pipelined` runs ``finish(prepare(batch))`` for each batch in order and
yields each outcome once ``finish`` returns, exactly as the plain loop would;
but batches are prepared two ahead of the one being finished (so signature
checks started by ``prepare``, e.g. on worker processes, overlap the append),
and the preparation of the next batch runs on a helper thread during the
commit of the current one (``finish`` calls the hook it is given just before
committing: the one stretch where the appending thread waits on the disk and
does not need the GIL). An error preparing a batch is raised when that
batch's turn comes. :meth:`ledger.log.Ledger.submit_stream` is built on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import Generic, TypeVar

__all__ = ["pipelined"]

B = TypeVar("B")  # a batch
P = TypeVar("P")  # a prepared batch
R = TypeVar("R")  # a batch's outcome


def pipelined(
    prepare: Callable[[B], P],
    finish: Callable[[P, Callable[[], None] | None], R],
    batches: Iterable[B],
) -> Iterator[R]:
    """``finish(prepare(b), hook)`` for each batch ``b`` in order, pipelined (module docstring).

    ``finish`` calls ``hook()`` (when given) just before it commits, or not at all.
    """
    it = iter(batches)
    ahead: deque[Future[P]] = deque(_run_now(prepare, b) for b in islice(it, 2))
    with ThreadPoolExecutor(1, thread_name_prefix="custody-prepare") as helper:
        while ahead:
            current = ahead.popleft().result()
            items = next(it, None)
            if items is None:
                yield finish(current, None)
                continue
            handoff = _Handoff(helper, prepare, items)
            results = finish(current, handoff)
            if handoff.future is None:  # no commit to overlap
                ahead.append(_run_now(prepare, items))
            else:
                # joined before any more database work: a thread holding the
                # GIL would stall every row of the next executemany
                wait([handoff.future])
                ahead.append(handoff.future)
            yield results


class _Handoff(Generic[B, P]):
    """Called just before a commit: starts preparing ``items`` on the helper thread."""

    def __init__(self, helper: ThreadPoolExecutor, fn: Callable[[B], P], items: B) -> None:
        self.helper = helper
        self.fn = fn
        self.items = items
        self.future: Future[P] | None = None

    def __call__(self) -> None:
        self.future = self.helper.submit(self.fn, self.items)


def _run_now(fn: Callable[[B], P], items: B) -> Future[P]:
    """``fn(items)`` called here and now, as a finished future (its error kept for later)."""
    done: Future[P] = Future()
    try:
        done.set_result(fn(items))
    except Exception as e:  # noqa: BLE001 (raised when the batch's turn comes)
        done.set_exception(e)
    return done
