"""Document policy profiles: which documents a hand-off or transform must have.

A profile is a JSON data file (shipped ones in ``provenance/data/profiles/``,
named by their ``profile`` field; or any file given by path):

* ``requirements``: each ``{"id", "label", "applies_to": "handoff" | "transform",
  "when": "always" | "invoiced", "required": bool, "kinds": [evidence kinds]}``.
  A requirement is met by a document of one of ``kinds`` that concerns the row
  (:mod:`provenance.rules.handoffs`); ``required: false`` ones are shown in the
  report's documents-per-hop matrix but raise no ``EVIDENCE`` gap;
* ``quantity_tolerance``: the relative tolerance of ``INVOICE-QUANTITY``;
* ``checklist``: the report's checklist items, each naming the rules and
  requirements it is judged by.

:data:`DEFAULT_PROFILE` (``cbp-uflpa``) follows CBP's UFLPA guidance
(docs/verification.md); ``custody-only`` requires no document.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ledger import strictjson
from ledger.errors import InputError

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILE_ENV",
    "ChecklistItem",
    "Profile",
    "Requirement",
    "default_profile",
    "load_profile",
    "profile_names",
]

DEFAULT_PROFILE: Final = "cbp-uflpa"
_APPLIES: Final = ("handoff", "transform")
_WHEN: Final = ("always", "invoiced")


@dataclass(frozen=True)
class Requirement:
    """A document type a profile asks for on each hand-off or transform."""

    id: str
    label: str
    applies_to: str
    when: str
    required: bool
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistItem:
    """One item of the report's checklist."""

    id: str
    label: str
    rules: tuple[str, ...]
    requirements: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    """A document policy profile."""

    name: str
    title: str
    description: str
    sources: tuple[str, ...]
    quantity_tolerance: Decimal
    requirements: tuple[Requirement, ...]
    checklist: tuple[ChecklistItem, ...]

    def for_rows(self, applies_to: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.applies_to == applies_to)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "title": self.title,
            "quantity_tolerance": str(self.quantity_tolerance),
            "requirements": [
                {
                    "id": r.id,
                    "label": r.label,
                    "applies_to": r.applies_to,
                    "when": r.when,
                    "required": r.required,
                    "kinds": list(r.kinds),
                }
                for r in self.requirements
            ],
        }


def _bad(where: str, message: str) -> InputError:
    return InputError(
        f"profile {where}: {message}", code="invalid_input.profile", details={"profile": where}
    )


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, f"{key} must be non-empty text")
    return value


def _texts(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(where, f"{key} must be a list of text")
    return tuple(value)


def _requirement(obj: Any, where: str) -> Requirement:
    if not isinstance(obj, dict):
        raise _bad(where, "each requirement must be an object")
    applies, when, required = obj.get("applies_to"), obj.get("when", "always"), obj.get("required")
    if applies not in _APPLIES:
        raise _bad(where, f"applies_to must be one of {', '.join(_APPLIES)}")
    if when not in _WHEN:
        raise _bad(where, f"when must be one of {', '.join(_WHEN)}")
    if not isinstance(required, bool):
        raise _bad(where, "required must be true or false")
    kinds = _texts(obj, "kinds", where)
    if not kinds:
        raise _bad(where, f"requirement {obj.get('id')!r} names no document kinds")
    return Requirement(
        _text(obj, "id", where), _text(obj, "label", where), applies, when, required, kinds
    )


def parse_profile(data: bytes | str, where: str) -> Profile:
    """A profile from its JSON text; raises InputError (``invalid_input.profile``)."""
    try:
        obj = strictjson.loads(data, decimals=True)
    except strictjson.JsonError as e:
        raise _bad(where, f"not valid JSON ({e.message})") from None
    if not isinstance(obj, dict):
        raise _bad(where, "must be a JSON object")
    try:
        tolerance = Decimal(str(obj.get("quantity_tolerance", "0")))
    except InvalidOperation:
        raise _bad(where, "quantity_tolerance must be a decimal number") from None
    if not tolerance.is_finite() or not Decimal(0) <= tolerance < 1:
        raise _bad(where, "quantity_tolerance must be from 0 to below 1")
    raw_reqs = obj.get("requirements", [])
    raw_items = obj.get("checklist", [])
    if not isinstance(raw_reqs, list) or not isinstance(raw_items, list):
        raise _bad(where, "requirements and checklist must be lists")
    requirements = tuple(_requirement(r, where) for r in raw_reqs)
    ids = [r.id for r in requirements]
    if len(set(ids)) != len(ids):
        raise _bad(where, "requirement ids must be unique")
    items: list[ChecklistItem] = []
    for item in raw_items:
        if not isinstance(item, dict):
            raise _bad(where, "each checklist item must be an object")
        named = _texts(item, "requirements", where)
        unknown = [n for n in named if n not in ids]
        if unknown:
            raise _bad(where, f"checklist names unknown requirement(s) {', '.join(unknown)}")
        rules = _texts(item, "rules", where)
        items.append(
            ChecklistItem(_text(item, "id", where), _text(item, "label", where), rules, named)
        )
    return Profile(
        name=_text(obj, "profile", where),
        title=_text(obj, "title", where),
        description=str(obj.get("description", "")),
        sources=_texts(obj, "sources", where),
        quantity_tolerance=tolerance,
        requirements=requirements,
        checklist=tuple(items),
    )


def _shipped() -> dict[str, Any]:
    folder = resources.files("provenance").joinpath("data").joinpath("profiles")
    return {p.name.removesuffix(".json"): p for p in folder.iterdir() if p.name.endswith(".json")}


def profile_names() -> list[str]:
    """The names of the shipped profiles."""
    return sorted(_shipped())


@cache
def _shipped_profile(name: str) -> Profile:
    resource = _shipped()[name]
    return parse_profile(resource.read_bytes(), name)


PROFILE_ENV: Final = "CUSTODY_PROFILE"


def load_profile(name_or_path: str | Path | None) -> Profile:
    """A shipped profile by name, or a profile file by path; None: the one named by the
    ``CUSTODY_PROFILE`` environment variable, else the default (``cbp-uflpa``)."""
    if name_or_path is None:
        name_or_path = os.environ.get(PROFILE_ENV) or None
    if name_or_path is None:
        return default_profile()
    text = str(name_or_path)
    if text in _shipped():
        return _shipped_profile(text)
    path = Path(text)
    if path.suffix == ".json" or path.exists():
        try:
            data = path.read_bytes()
        except OSError as e:
            raise _bad(text, f"cannot be read ({e.strerror})") from None
        return parse_profile(data, text)
    raise InputError(
        f"unknown profile {text!r}: give one of {', '.join(profile_names())} or a profile file",
        code="invalid_input.profile",
        details={"profile": text, "known": profile_names()},
    )


def default_profile() -> Profile:
    """The shipped default profile (``cbp-uflpa``)."""
    return _shipped_profile(DEFAULT_PROFILE)
