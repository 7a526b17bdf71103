"""The statement encoder used by the CLI builders: compact, sorted, exact decimals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
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


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif value is None or isinstance(value, bool):
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value} as a JSON number")
        exponent = value.as_tuple().exponent
        small = isinstance(exponent, int) and abs(exponent) <= 64
        out.append(format_decimal(value) if small else str(value))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in statements; use Decimal")
    elif isinstance(value, datetime):
        out.append(json.dumps(format_time(value)))
    elif isinstance(value, Quantity):
        raise TypeError("encode a Quantity as separate quantity and unit fields")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} in a statement")


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
