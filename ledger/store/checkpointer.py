"""SQLite WAL checkpoints on a thread of their own, off the appending thread.

In WAL mode every page an append writes goes to the WAL first; a checkpoint
copies the pages back into the database file (read from the WAL, written to the
database, synced). SQLite runs it inside whichever commit crosses the
``wal_autocheckpoint`` threshold, so the appending thread paid for it: on a bulk
``custody submit`` about a fifth of that thread's CPU was checkpoint reads and
writes. A :class:`Checkpointer` runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its
own connection and thread instead, woken after a commit has grown the WAL past
:data:`WAL_BYTES`; SQLite releases the GIL for the whole call, so it runs beside
the appender on another core. A passive checkpoint never waits for, nor blocks,
readers or the writer, and it is crash-safe whenever it stops (SQLite's design);
the next write transaction after a complete one starts the WAL over.

The appending connection keeps a ``wal_autocheckpoint`` of its own, four times
larger, as a backstop: should this thread fall behind, the WAL still stays
bounded.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Final

__all__ = ["WAL_BYTES", "Checkpointer"]

log = logging.getLogger(__name__)

WAL_BYTES: Final = 40 << 20
"""WAL size after which a commit wakes the checkpointer (about 10,000 pages of
4 KiB; the appending connection's own threshold is four times that)."""


class Checkpointer:
    """Checkpoints the WAL of the SQLite database at ``path`` when :meth:`poke`\\ d."""

    def __init__(self, path: str, wal_bytes: int = WAL_BYTES) -> None:
        self.path = path
        self.wal = path + "-wal"
        self.wal_bytes = wal_bytes
        self.checkpoints = 0
        """Checkpoints run so far."""
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        """After a commit: wake the thread if the WAL has grown past ``wal_bytes``."""
        try:
            size = os.stat(self.wal).st_size
        except OSError:
            return
        if size < self.wal_bytes:
            return
        with self._lock:
            if self._stop:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="custody-wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it is running, if any)."""
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as e:  # the appender's backstop still checkpoints
                    log.warning("WAL checkpoint of %s failed: %s", self.path, e)
        finally:
            conn.close()
