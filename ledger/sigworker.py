"""What a signature worker process runs: the serial check, needing only the key code.

:class:`ledger.sigcheck.ProcessVerifier` sends :func:`verify_serial` to its workers
and preloads this module in their fork server: defined here rather than in
:mod:`ledger.sigcheck` (which loads the statement models), the check itself needs
only :mod:`ledger.keys`. (A worker still imports what the caller's ``__main__``
imports, as multiprocessing does.)
"""

from __future__ import annotations

from ledger.keys import is_valid_signature

__all__ = ["verify_serial"]


def verify_serial(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Check every ``(public_key, signature, message)`` triple on this core, in order."""
    return [is_valid_signature(pk, sig, msg) for pk, sig, msg in items]
