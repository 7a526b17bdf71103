"""Validation of a screening file (schema ``custody-screening/1``) into frozen values.

Every problem is an :class:`ledger.errors.InputError` with code
``invalid_screening`` naming the offending field (``lists[0].entities[3].name``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from ledger.errors import InputError
from provenance.screening.model import (
    ENTRY_KINDS,
    ERROR_CODE,
    SCHEMA,
    Alias,
    HighRiskRegion,
    ScreeningEntry,
    ScreeningList,
)

_LIST_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
_REGION_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_MATERIAL = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


class Reader:
    """Validates the JSON document, naming the offending field in errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> InputError:
        return InputError(
            f"screening file {self.origin}: {where or 'document'} {message}",
            code=ERROR_CODE,
            details={"path": self.origin, "field": where},
        )

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a JSON object")
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a JSON array")
        return value

    def string(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_join(where, key), "must be a non-empty string")
        return value.strip()

    def opt_string(self, obj: Mapping[str, Any], key: str, where: str) -> str | None:
        if obj.get(key) is None:
            return None
        return self.string(obj, key, where)

    def strings(self, obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = obj.get(key)
        if value is None:
            return ()
        items = self.array(value, _join(where, key))
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{_join(where, key)}[{i}]", "must be a non-empty string")
            out.append(item.strip())
        return tuple(out)

    def iso_date(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = self.string(obj, key, where)
        try:
            date.fromisoformat(value)
        except ValueError as e:
            raise self.fail(_join(where, key), f"must be a date YYYY-MM-DD, not {value!r}") from e
        return value

    def document(self, doc: Any) -> tuple[tuple[ScreeningList, ...], tuple[HighRiskRegion, ...]]:
        top = self.obj(doc, "")
        schema = top.get("schema")
        if schema != SCHEMA:
            raise self.fail("schema", f"must be {SCHEMA!r}, not {schema!r}")
        self.string(top, "version", "")
        snapshot = None if top.get("snapshot") is None else self.iso_date(top, "snapshot", "")
        lists_raw = self.array(top.get("lists"), "lists")
        if not lists_raw:
            raise self.fail("lists", "must hold at least one list")
        lists = tuple(self.screening_list(v, f"lists[{i}]") for i, v in enumerate(lists_raw))
        ids = [lst.id for lst in lists]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise self.fail("lists", f"has duplicate ids: {', '.join(duplicated)}")
        for i, lst in enumerate(lists):
            if snapshot is not None and lst.as_of > snapshot:
                raise self.fail(
                    f"lists[{i}].as_of", f"{lst.as_of} is after the file's snapshot {snapshot}"
                )
        regions_raw = self.array(top.get("regions", []), "regions")
        regions = tuple(self.region(v, f"regions[{i}]") for i, v in enumerate(regions_raw))
        return lists, regions

    def screening_list(self, value: Any, where: str) -> ScreeningList:
        obj = self.obj(value, where)
        list_id = self.string(obj, "id", where)
        if not _LIST_ID.match(list_id):
            raise self.fail(_join(where, "id"), f"must match {_LIST_ID.pattern}, not {list_id!r}")
        raw_entries = obj.get("entities", obj.get("entries"))
        items = self.array(raw_entries, _join(where, "entities"))
        as_of = self.iso_date(obj, "as_of", where)
        entries = tuple(
            self.entry(item, f"{_join(where, 'entities')}[{i}]", list_id, as_of)
            for i, item in enumerate(items)
        )
        self.unique_names(entries, _join(where, "entities"))
        return ScreeningList(
            id=list_id,
            title=self.string(obj, "title", where),
            as_of=as_of,
            official_page=self.opt_string(obj, "official_page", where),
            entries=entries,
        )

    def unique_names(self, entries: tuple[ScreeningEntry, ...], where: str) -> None:
        """Two entries of one list may not carry the same name (case and spacing aside)."""
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            key = " ".join(entry.name.casefold().split())
            if key in seen:
                raise self.fail(
                    f"{where}[{i}].name",
                    f"duplicates {where}[{seen[key]}] ({entry.name!r}); merge the two entries",
                )
            seen[key] = i

    def entry_date(self, obj: Mapping[str, Any], where: str, as_of: str) -> str | None:
        """``added`` (UFLPA) or ``date`` (WRO): a date no later than the list's as-of date."""
        for key in ("added", "date"):
            if obj.get(key) is not None:
                value = self.iso_date(obj, key, where)
                if value > as_of:
                    raise self.fail(
                        _join(where, key), f"{value} is after the list's as_of date {as_of}"
                    )
                return value
        return None

    def entry(self, value: Any, where: str, list_id: str, as_of: str) -> ScreeningEntry:
        obj = self.obj(value, where)
        aliases: list[Alias] = []
        for i, item in enumerate(self.array(obj.get("aliases", []), _join(where, "aliases"))):
            at = f"{_join(where, 'aliases')}[{i}]"
            if isinstance(item, str) and item.strip():
                aliases.append(Alias(item.strip()))
            elif isinstance(item, dict):
                aliases.append(
                    Alias(self.string(item, "name", at), self.opt_string(item, "note", at))
                )
            else:
                raise self.fail(at, "must be a non-empty string or an object with a name")
        kind = obj.get("kind", "entity")
        if kind not in ENTRY_KINDS:
            raise self.fail(_join(where, "kind"), f"must be one of {sorted(ENTRY_KINDS)}")
        country = self.opt_string(obj, "country", where)
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            raise self.fail(_join(where, "country"), "must be an ISO 3166-1 alpha-2 code")
        return ScreeningEntry(
            list_id=list_id,
            name=self.string(obj, "name", where),
            aliases=tuple(aliases),
            aliases_zh=self.strings(obj, "aliases_zh", where),
            kind=str(kind),
            country=country,
            subdivision=self.opt_string(obj, "subdivision", where),
            source=self.opt_string(obj, "source", where),
            status=self.opt_string(obj, "status", where)
            or self.opt_string(obj, "confidence", where),
            date=self.entry_date(obj, where, as_of),
        )

    def region(self, value: Any, where: str) -> HighRiskRegion:
        obj = self.obj(value, where)
        code = self.string(obj, "code", where).upper()
        if not _REGION_CODE.match(code):
            raise self.fail(_join(where, "code"), f"must be an ISO 3166 code, not {code!r}")
        materials: tuple[str, ...] | None = None
        if obj.get("materials") is not None:
            materials = tuple(m.lower() for m in self.strings(obj, "materials", where))
            if not materials:
                raise self.fail(_join(where, "materials"), "must be null (all goods) or non-empty")
            for m in materials:
                if not _MATERIAL.match(m):
                    raise self.fail(_join(where, "materials"), f"has a bad material {m!r}")
        return HighRiskRegion(
            code=code,
            name=self.string(obj, "name", where),
            basis=self.opt_string(obj, "basis", where) or "",
            materials=materials,
            status=self.opt_string(obj, "status", where),
            effective=self.opt_string(obj, "effective", where),
            sources=self.strings(obj, "sources", where),
        )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
