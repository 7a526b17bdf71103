"""What a batch will read from the state, so storage can bulk-load it."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.errors import InputError
from ledger.keys import b64decode, kid_of
from ledger.statements import (
    Dispatch,
    Evidence,
    Import,
    Key,
    Origin,
    Party,
    Receipt,
    Revoke,
    Statement,
    Transform,
)

Needs = tuple[set[str], set[str], set[str], set[tuple[str, str]], dict[str, set[str]]]


def _named_kid(public_key_b64: str) -> str:
    """The kid of a key a statement names ("" if it does not decode: the state
    machine rejects it, and a kid nobody has costs a prefetch nothing)."""
    try:
        return kid_of(b64decode(public_key_b64))
    except InputError:
        return ""


def prefetch_needs(statements: Iterable[Statement], keyids: Iterable[str]) -> Needs:
    """Parties, kids, lots, (lot, party) holdings and dispatches a batch will read
    (``keyids``: those of the batch's signatures).

    Storage bulk-loads these under the append lock; anything missed is read
    on demand, so this is an optimisation, never a correctness concern.
    """
    parties: set[str] = set()
    kids: set[str] = set()
    lots: set[str] = set()
    holdings: set[tuple[str, str]] = set()
    dispatches: dict[str, set[str]] = {}  # dispatch digest -> receipt issuers
    in_batch: dict[str, str] = {}  # dispatch digest -> lot, for dispatches in this batch
    kids.update(keyids)
    for st in statements:
        parties.add(st.issuer)
        if isinstance(st, Party):
            parties.add(st.party.id)
            kids.update(_named_kid(k) for k in st.keys)  # checked for duplicates
        elif isinstance(st, Key | Revoke):
            parties.add(st.party)
            kids.add(_named_kid(st.public_key))  # a duplicate, or the key revoked
        elif isinstance(st, Origin):
            lots.add(st.lot.id)
        elif isinstance(st, Transform):
            lots.update(i.lot for i in st.inputs)
            lots.update(o.id for o in st.outputs)
            holdings.update((i.lot, st.issuer) for i in st.inputs)
        elif isinstance(st, Dispatch):
            parties.add(st.to)
            lots.add(st.lot)
            holdings.add((st.lot, st.issuer))
            holdings.add((st.lot, st.to))
            in_batch[st.digest] = st.lot
        elif isinstance(st, Receipt):
            if st.dispatch in in_batch:
                holdings.add((in_batch[st.dispatch], st.issuer))
            else:
                dispatches.setdefault(st.dispatch, set()).add(st.issuer)
        elif isinstance(st, Evidence):
            lots.update(st.lots)
        elif isinstance(st, Import):
            lots.add(st.lot)
            holdings.add((st.lot, st.issuer))
    return parties, kids, lots, holdings, dispatches
