"""``--json`` text: what ``json.dumps(obj, indent=2, default=str)`` writes, about twice as fast.

With an ``indent`` the standard library encodes in pure Python, one generator per
container and a ``yield`` per token; a trace of 10,000 statements is a 19 MB
document, and writing it took longer than verifying it. :func:`dumps_indented`
writes the same characters (strings through json's own C ``encode_basestring_ascii``,
numbers and keys as json writes them, ``default=str`` for anything else) with one
list of parts. ``tests/cli/test_jsontext.py`` compares the two on arbitrary trees.

Unlike ``json.dumps`` it does not look for cycles: it is given command output,
never a structure that contains itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["dumps_indented"]

_INF = float("inf")


def dumps_indented(obj: Any, *, level: str = "", default: Callable[[Any], Any] = str) -> str:
    """``json.dumps(obj, indent=2, default=default)``, every line after the first
    starting with ``level`` as well (output nested in an outer document)."""
    parts: list[str] = []
    _encode(obj, level, parts.append, default)
    return "".join(parts)


def _encode(
    o: Any, indent: str, write: Callable[[str], None], default: Callable[[Any], Any]
) -> None:
    kind = type(o)
    if kind is str:
        write(encode_basestring_ascii(o))
    elif kind is dict:
        _dict(o, indent, write, default)
    elif kind is list or kind is tuple:
        _list(o, indent, write, default)
    elif o is None:
        write("null")
    elif o is True:
        write("true")
    elif o is False:
        write("false")
    elif isinstance(o, str):
        write(encode_basestring_ascii(o))
    elif isinstance(o, int):
        write(int.__repr__(o))
    elif isinstance(o, float):
        write(_float(o))
    elif isinstance(o, dict):
        _dict(o, indent, write, default)
    elif isinstance(o, list | tuple):
        _list(o, indent, write, default)
    else:
        _encode(default(o), indent, write, default)


def _dict(
    o: dict[Any, Any], indent: str, write: Callable[[str], None], default: Callable[[Any], Any]
) -> None:
    if not o:
        write("{}")
        return
    inner = indent + "  "
    separator = "{\n" + inner
    for key, value in o.items():
        write(separator)
        write(encode_basestring_ascii(key if type(key) is str else _key(key)))
        write(": ")
        _encode(value, inner, write, default)
        separator = ",\n" + inner
    write("\n" + indent + "}")


def _list(
    o: list[Any] | tuple[Any, ...],
    indent: str,
    write: Callable[[str], None],
    default: Callable[[Any], Any],
) -> None:
    if not o:
        write("[]")
        return
    inner = indent + "  "
    separator = "[\n" + inner
    for value in o:
        write(separator)
        _encode(value, inner, write, default)
        separator = ",\n" + inner
    write("\n" + indent + "]")


def _float(o: float) -> str:
    if math.isnan(o):
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _key(key: Any) -> str:
    """A key as json writes it (its order of checks: str, float, bool, None, int)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
