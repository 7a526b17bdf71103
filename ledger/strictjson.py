"""The one strict JSON reader for untrusted input.

Every place where JSON from outside enters custody (statement payloads, envelopes,
stored leaves, bundle manifests, submitted files, request bodies) parses it here, so
every entry point refuses the same things with the same words:

* bytes that are not UTF-8 (a leading BOM is refused too: RFC 8259 §8.1);
* syntax errors and trailing data;
* duplicate object keys (which two parsers may resolve differently);
* the non-standard tokens ``NaN``, ``Infinity`` and ``-Infinity``;
* nesting deeper than ``max_depth`` (default 64): deep input is refused with a
  clean error instead of exhausting the interpreter's recursion limit here or in
  any code that later walks the value.

Errors are :class:`JsonError` (a ``ValueError``) with a short ``reason`` that callers
turn into their own error codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

MAX_DEPTH: Final = 64

REASONS: Final = ("encoding", "syntax", "duplicate_key", "constant", "depth")


class JsonError(ValueError):
    """Input that is not strict JSON; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # the first repeated key, in order
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonError(f"duplicate key {key!r}", reason="duplicate_key")
            seen.add(key)
    return out


def _constant(token: str) -> Any:
    raise JsonError(f"{token} is not JSON", reason="constant")


_FLOAT_DECODER: Final = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)
_DECIMAL_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_constant, parse_float=Decimal
)


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed value (a scalar is 0), without recursion.

    Stops early and returns ``limit + 1`` once the limit is exceeded.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def decode_text(data: bytes | str) -> str:
    """UTF-8 text of ``data``; raises :class:`JsonError` (reason ``encoding``)."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonError(f"not UTF-8 (byte {e.start})", reason="encoding") from None
    if text.startswith("\ufeff"):
        raise JsonError("starts with a byte order mark", reason="encoding")
    return text


def loads(
    data: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    decimals: bool = False,
    decoder: Callable[[str], Any] | None = None,
) -> Any:
    """Parse strict JSON; numbers with a fraction or exponent become ``Decimal`` if asked.

    ``decoder`` replaces the parse step (for callers that need their own hooks) while
    keeping the encoding, depth and error handling of this module.
    """
    text = decode_text(data)
    parse = decoder or (_DECIMAL_DECODER.decode if decimals else _FLOAT_DECODER.decode)
    try:
        value = parse(text)
    except JsonError:
        raise
    except RecursionError:
        raise JsonError(f"nested deeper than {max_depth} levels", reason="depth") from None
    except json.JSONDecodeError as e:
        raise JsonError(
            f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})", reason="syntax"
        ) from None
    except (ValueError, ArithmeticError) as e:
        raise JsonError(f"not valid JSON: {e}", reason="syntax") from None
    # every level opens a bracket: text with few brackets needs no walk of the tree
    shallow = text.count("{") + text.count("[") <= max_depth
    if not shallow and depth_of(value, max_depth) > max_depth:
        raise JsonError(f"nested deeper than {max_depth} levels", reason="depth")
    return value
