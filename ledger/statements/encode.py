"""The statement encoder used by the CLI builders: compact, sorted, exact decimals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from ledger.statements.decode import (
    parse_statement,
)
from ledger.statements.fields import (
    _COMMON,
)
from ledger.statements.models import (
    SPEC,
)
from ledger.statements.times import format_time
from ledger.units import Quantity, format_decimal


def _scalar(value: Any) -> str:
    # ``json.dumps(text, ensure_ascii=False)`` of a str is ``encode_basestring(text)``:
    # json's own C encoder, without building a JSONEncoder for every string
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value} as a JSON number")
        exponent = value.as_tuple().exponent
        small = isinstance(exponent, int) and abs(exponent) <= 64
        return format_decimal(value) if small else str(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in statements; use Decimal")
    if isinstance(value, datetime):
        return encode_basestring_ascii(format_time(value))
    if isinstance(value, Quantity):
        raise TypeError("encode a Quantity as separate quantity and unit fields")
    raise TypeError(f"cannot encode {type(value).__name__} in a statement")


class _Text(str):
    """Output text on the encoder's work stack (as opposed to a value to encode)."""

    __slots__ = ()


def _encode(value: Any, out: list[str]) -> None:
    """Append the compact JSON of ``value`` to ``out``; no recursion over its depth."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is _Text:
            out.append(item)
        elif kind is str:  # the common value first: no abstract-class checks for it
            out.append(encode_basestring(item))
        elif kind is dict or isinstance(item, Mapping):
            keys = sorted(item)
            for key in keys:
                if not isinstance(key, str):
                    raise TypeError(f"object keys must be strings, got {key!r}")
            work: list[Any] = [_Text("{")]
            for index, key in enumerate(keys):
                prefix = "," if index else ""
                work += [_Text(prefix + encode_basestring(key) + ":"), item[key]]
            work.append(_Text("}"))
            stack.extend(reversed(work))
        elif kind is list or kind is tuple or isinstance(item, list | tuple):
            work = [_Text("[")]
            for index, element in enumerate(item):
                if index:
                    work.append(_Text(","))
                work.append(element)
            work.append(_Text("]"))
            stack.extend(reversed(work))
        else:
            out.append(_scalar(item))


def encode_statement(obj: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON of ``obj``: sorted keys, no spaces, Decimals as exact numbers.

    Accepts str, int, bool, None, Decimal, aware datetime (written as RFC 3339
    ``Z``), mappings and lists/tuples; refuses floats.
    """
    out: list[str] = []
    _encode(obj, out)
    return "".join(out).encode("utf-8")


def build_statement(
    type: str,
    id: str,
    issuer: str,
    time: datetime | str,
    **body: Any,
) -> bytes:
    """The payload of a ``custody/1`` statement, validated by :func:`parse_statement`.

    ``time`` may be an aware datetime or an RFC 3339 string; ``body`` holds
    the type's fields (Decimal quantities). Raises ``StatementError``.
    """
    for name in _COMMON:
        if name in body:
            raise TypeError(f"{name!r} is set by build_statement")
    document = {
        "spec": SPEC,
        "type": type,
        "id": id,
        "issuer": issuer,
        "time": time,
        **body,
    }
    payload = encode_statement(document)
    parse_statement(payload)
    return payload
