"""An EPCIS error declaration of an event custody holds → a ``retract`` of its statement.

The declared event is found by its eventID (or hash ID, which leaves the
declaration out) among the party's statements in the ledger, or among those
this import built in its last chunks (not in the ledger yet). custody's own
export of a correction (a statement that ``replaces`` another) marks the
declaration with ``custody:correctedBy``: the declaration is then reported
as skipped and the corrective event that follows becomes a statement that
``replaces`` the declared one, as in the exported ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledger.epcis.errors import EpcisError
from ledger.epcis.hashid import format_time
from provenance.epcis.objects import custody_ext, retraction_id, statement_id_for, step_word
from provenance.epcis.outcomes import Existing, Mapped, Skipped

__all__ = ["map_declaration"]


def map_declaration(
    party: str,
    recent: Iterable[Mapping[str, str]],
    corrections: dict[str, str],
    event: Mapping[str, Any],
    index: int,
    sid: str,
    known: Mapping[str, tuple[int, str]],
    settle: Callable[[], None] | None = None,
) -> Mapped | Existing | Skipped:
    """An error declaration of an event custody holds → a ``retract`` of its statement."""
    retract_id = retraction_id(sid)
    if retract_id in known:
        return Existing(*known[retract_id])
    target = known.get(sid)
    if target is None and settle is not None:
        settle()  # the declared event may be in a chunk still being built
    if target is None:
        built = next((chunk[sid] for chunk in recent if sid in chunk), None)
        target = None if built is None else (-1, built)
    corrected_by = custody_ext(event, "correctedBy")
    if target is not None and isinstance(corrected_by, str):
        # custody's own export of a correction: the corrective event that
        # follows becomes a statement that ``replaces`` this one
        corrections[statement_id_for(corrected_by)] = target[1]
        return Skipped(f"void: corrected by {corrected_by}")
    if target is None:
        raise EpcisError(
            f"event {index}: errorDeclaration: the declared event is not a statement of "
            f"{party} in the ledger (only events imported into custody can be "
            "retracted)",
            code="unsupported",
            event=index,
            field="errorDeclaration",
        )
    declaration = event["errorDeclaration"]
    if not isinstance(declaration, dict):
        raise EpcisError(
            f"event {index}: errorDeclaration must be an object",
            code="bad_event",
            event=index,
            field="errorDeclaration",
        )
    when = declaration.get("declarationTime") or event.get("eventTime")
    reason = step_word(declaration.get("reason")) or "error"
    corrective = declaration.get("correctiveEventIDs") or []
    text = f"EPCIS error declaration: {reason}"
    if isinstance(corrective, list) and corrective:
        text += "; corrective events " + ", ".join(str(c) for c in corrective[:10])
    given = custody_ext(event, "reason")  # custody's own export: the retraction's reason
    if isinstance(given, str) and given.strip():
        text = given
    body = {"statement": target[1], "reason": text[:1000]}
    return Mapped("retract", retract_id, party, format_time(str(when)), body)
