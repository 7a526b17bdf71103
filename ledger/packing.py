"""Compact pickling of parsed statements between worker processes and their parent.

Worker processes that parse statements (:mod:`ledger.prepare_lines` for bulk
ingest) send the parsed models back to the process that uses them. The frozen,
slotted dataclasses of :mod:`ledger.statements` and :mod:`ledger.units` are
pickled as ``(class, field values)`` and rebuilt without the per-object
``__setstate__`` of slotted dataclasses, which makes unpickling about a third
cheaper; a ``MappingProxyType`` travels as its dict. Only data from our own
worker processes is ever unpickled.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import operator
import pickle
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

__all__ = ["dumps", "loads"]

_FIELDS: dict[type, tuple[str, ...]] = {}


def dumps(obj: Any) -> bytes:
    """``obj`` pickled, statement dataclasses as ``(class, field values)``."""
    buf = io.BytesIO()
    _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    """What :func:`dumps` pickled (our own worker processes' output only)."""
    return pickle.loads(data)  # noqa: S301 (our own worker)


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _reduce(obj: Any) -> tuple[Any, ...]:
    cls = type(obj)
    return _rebuild, (cls, tuple(getattr(obj, n) for n in _fields(cls)))


def _reducer(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """:func:`_reduce` for ``cls``, its field values read by one C-level getter."""
    names = _fields(cls)
    if len(names) < 2:
        return _reduce
    get = operator.attrgetter(*names)

    def reduce(obj: Any) -> tuple[Any, ...]:
        return _rebuild, (cls, get(obj))

    return reduce


def _dispatch_table() -> dict[type, Any]:
    """Reducers of the frozen dataclasses a parsed statement holds (looked up by
    exact type, so only those objects cost a Python call when pickled)."""
    from ledger import units
    from ledger.statements import evidence_models, models

    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[MappingProxyType] = lambda proxy: (_proxy, (dict(proxy),))
    for module in (models, evidence_models, units):
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value):
                table[value] = _reducer(value)
    return table


class _Pickler(pickle.Pickler):
    """Frozen dataclasses of statements as ``(class, field values)``."""

    dispatch_table = _dispatch_table()


def _proxy(mapping: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(mapping)


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    obj: Any = object.__new__(cls)
    set_ = object.__setattr__
    for name, value in zip(_fields(cls), values, strict=True):
        set_(obj, name, value)
    return obj
