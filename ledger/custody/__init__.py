"""The custody state machine (SPEC §3, "Custody state"): pure, no I/O.

``apply(state, entry)`` takes a read-only view of the current state and one
statement about to be appended at ``seq``, and returns the :class:`Changes` it
makes, or raises a :class:`~ledger.errors.RejectedError` /
:class:`~ledger.errors.SignatureError` naming the rule it breaks. Nothing is
changed on rejection. The same function serves the append path (over a
snapshot read under the write lock), ``ledger audit`` (replaying from seq 0)
and offline bundle verification (replaying the bundle's leaves).

Rules, in the order they are checked:

1. signatures: every signature verifies; at least one is by a key of the
   issuer (of the operator for ``party``) registered and not revoked at this
   point of the ledger (keys are judged by ledger order, not claimed times);
2. time: the event ``time`` is at most 5 minutes after the ledger clock;
3. the statement's own rule: lots are created once and held in full by their
   creator; transform inputs, dispatches and imports draw on the issuer's
   holding; dispatched quantity is in transit until the addressee's receipt,
   which may not exceed the dispatch nor happen twice;
4. retraction (``retract``, or ``replaces`` on a correcting statement): a
   party voids one of its own statements while nothing downstream used what
   it did, and its effects on lots, holdings and dispatches are undone
   (:mod:`~ledger.custody.retraction`).

Quantities are exact decimals in the base unit of their dimension (kg, pcs,
m, m2, l), so holdings arithmetic is exact.

Modules: :mod:`~ledger.custody.records` (records, ``StateReader``, ``Changes``),
:mod:`~ledger.custody.state` (``MemoryState``, ``ScopedState``),
:mod:`~ledger.custody.signatures` (rules 1 and 2), :mod:`~ledger.custody.rules`
(rule 3 and :func:`apply`), :mod:`~ledger.custody.retraction` (rule 4),
:mod:`~ledger.custody.prefetch` (what a batch reads),
:mod:`~ledger.custody.keyids` (naming signatures by the custody key that verifies them).
Import the public names from ``ledger.custody`` itself.
"""

from __future__ import annotations

from ledger.custody.keyids import (
    MAX_TRIALS,
    KeyDirectory,
    name_signing_keys,
)
from ledger.custody.prefetch import (
    Needs,
    prefetch_needs,
)
from ledger.custody.records import (
    MAX_CLOCK_SKEW,
    ZERO,
    Changes,
    DispatchRecord,
    EntryRef,
    KeyRecord,
    LotRecord,
    PartyRecord,
    SigCheck,
    StatementRecord,
    StateReader,
)
from ledger.custody.rules import (
    apply,
)
from ledger.custody.signatures import (
    check_signatures,
    check_time,
    signing_parties,
)
from ledger.custody.state import (
    MemoryState,
    ScopedState,
)

__all__ = [
    "MAX_CLOCK_SKEW",
    "MAX_TRIALS",
    "ZERO",
    "Changes",
    "DispatchRecord",
    "EntryRef",
    "KeyDirectory",
    "KeyRecord",
    "LotRecord",
    "MemoryState",
    "Needs",
    "PartyRecord",
    "ScopedState",
    "SigCheck",
    "StateReader",
    "StatementRecord",
    "apply",
    "check_signatures",
    "check_time",
    "name_signing_keys",
    "prefetch_needs",
    "signing_parties",
]
