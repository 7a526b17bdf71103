"""Statement times: RFC 3339 UTC ``date-time`` with ``Z`` (SPEC §3).

``time`` and ``effective`` are written with an upper-case ``T`` and ``Z``
(``2026-03-01T10:00:00Z``); fractional seconds are kept to the microsecond,
further digits truncated; no offsets, no leap second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from ledger.statements.fields import _fail, _show, _string

# ASCII digits only: ``\d`` would also take other scripts' digits (int() reads them)
_TIME: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z", re.ASCII
)


def parse_time(value: object, path: str = "time") -> datetime:  # noqa: RET503 (_fail raises)
    """An RFC 3339 UTC ``date-time`` ending in ``Z`` as an aware :class:`datetime`.

    Raises ``invalid_statement.bad_time`` (``wrong_type`` for a non-string).
    """
    text = _string(value, path)
    match = _TIME.fullmatch(text)
    if match is not None and len(text) == 20:  # no fraction: the C parser agrees on the rest
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    elif match is not None:
        year, month, day, hour, minute, second, fraction = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                micro,
                UTC,
            )
        except ValueError:
            pass
    _fail(
        "bad_time",
        path,
        f"must be an RFC 3339 UTC time like 2026-03-01T10:00:00Z, got {_show(text)}",
    )


def format_time(moment: datetime) -> str:
    """``moment`` (aware) as RFC 3339 UTC with ``Z``; microseconds only when non-zero."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("format_time needs an aware datetime")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"
