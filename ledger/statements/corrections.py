"""Corrections (SPEC-style, see ``docs/custody-rules.md``): the ``retract``
statement's parser and schema, and the optional ``replaces`` field of the
statement types whose effects can be undone.

``retract`` = ``{statement: "sha256:<hex>", reason: text}``; ``replaces`` =
``"sha256:<hex>"`` on ``origin``, ``transform``, ``dispatch``, ``receipt``,
``evidence`` and ``import``. Whether the named statement may be voided is a
custody rule (:mod:`ledger.custody.retraction`), judged at append time.
"""

from __future__ import annotations

from typing import Any, Final

from ledger.statements.fields import _digest, _text
from ledger.statements.models import Retract

REPLACEABLE: Final = frozenset({"origin", "transform", "dispatch", "receipt", "evidence", "import"})
"""Statement types that may carry ``replaces`` (and be the target of a ``retract``)."""

REPLACES: Final = "replaces"


def parse_replaces(obj: dict[str, Any]) -> dict[str, str]:
    """``{"replaces": digest}`` when ``obj`` has the field, else ``{}`` (for the common fields)."""
    if REPLACES not in obj:
        return {}
    return {REPLACES: _digest(obj[REPLACES], REPLACES)}


def _retract(obj: dict[str, Any], common: dict[str, Any]) -> Retract:
    return Retract(
        statement=_digest(obj["statement"], "statement"),
        reason=_text(obj["reason"], "reason"),
        **common,
    )
