"""A C2SP tlog-witness (c2sp.org/tlog-witness): its home, its state and the
``add-checkpoint`` decision, independent of HTTP.

* :mod:`.home` — the witness's own folder: key, name, state database;
* :mod:`.state` — the crash-safe SQLite state: trusted logs, the latest
  cosigned checkpoint per log (compare-and-swap), split-view evidence;
* :mod:`.protocol` — parse an ``add-checkpoint`` request and decide it.

The HTTP service is :mod:`api.witness`; the commands ``custody witness ...``.
"""
