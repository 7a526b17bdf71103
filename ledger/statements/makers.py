"""Constructors of the frozen statement models for values a parser checked already."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


def maker(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen, slotted dataclass ``cls`` for values checked already.

    It takes the fields by name, with the dataclass's defaults, and sets each slot
    directly: the generated ``__init__`` of a frozen dataclass goes through
    ``object.__setattr__`` once a field, which costs more than the parse of the field.
    The models have no ``__post_init__``; the instance is the one ``cls(...)`` makes.
    """
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params: list[str] = []
    sets: list[str] = []
    for index, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        if field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: a default factory is not supported")
        namespace[f"_set{index}"] = getattr(cls, field.name).__set__
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            namespace[f"_default{index}"] = field.default
            params.append(f"{field.name}=_default{index}")
        sets.append(f"    _set{index}(self, {field.name})\n")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    source = f"def make(*, {', '.join(params)}):\n    self = _new(_cls)\n"
    exec(source + "".join(sets) + "    return self\n", namespace)  # noqa: S102
    make: Callable[..., _T] = namespace["make"]
    return make
