"""Streaming, strict reading of EPCIS 2.0 JSON / JSON-LD documents.

A document may hold 10^5 events and more, so it is never loaded whole: events
are built one at a time by ijson's C backend (yajl), so memory stays bounded
by the largest single event. The rules of :mod:`ledger.strictjson` hold for
every value read: no duplicate keys (a strict mapping type refuses them while
the event is built), nesting at most :data:`~ledger.strictjson.MAX_DEPTH`
(checked without recursion), no NaN or Infinity, numbers with a fraction as
:class:`~decimal.Decimal`.

:func:`read_head` makes the first pass: it checks the whole document (syntax
and every event, before anything is appended), counts the events and returns
what the document says outside them (``type``, ``schemaVersion``,
``@context``, the ``epcisHeader`` with its master data).
:func:`iter_events` makes the second pass and yields ``(index, event)``.

Events are read from ``epcisBody.eventList`` (EPCISDocument) or
``epcisBody.queryResults.resultsBody.eventList`` (EPCISQueryDocument).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import ijson

from ledger.epcis.errors import EpcisError
from ledger.epcis.xmlreader import iter_xml_events, read_xml_head
from ledger.strictjson import MAX_DEPTH

__all__ = ["DocumentHead", "iter_events", "read_head"]

_DOCUMENT_TYPES: Final = frozenset({"EPCISDocument", "EPCISQueryDocument"})
_EVENTS: Final = {
    "EPCISDocument": "epcisBody.eventList.item",
    "EPCISQueryDocument": "epcisBody.queryResults.resultsBody.eventList.item",
}


@dataclass(frozen=True, slots=True)
class DocumentHead:
    """What a document says outside its events, and how many events it has."""

    type: str
    schema_version: str
    context: Any
    header: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    size: int = 0
    mtime_ns: int = 0
    xml: bool = False  # an XML document (:mod:`ledger.epcis.xmlreader`)


class _StrictDict(dict[str, Any]):
    """The mapping ijson builds objects into: a repeated key is remembered (raising
    inside ijson's C builder is not safe), and :func:`_check` refuses it."""

    __slots__ = ("duplicate",)

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self:
            self.duplicate = key
        else:
            dict.__setitem__(self, key, value)


def _items(
    path: Path,
    prefix: str,
    position: Callable[[int], None] | None = None,
    *,
    checked: bool = False,
) -> Iterator[Any]:
    """Values at ``prefix``, strictly built; :class:`EpcisError` for bad JSON.

    ``checked``: the first pass already checked these bytes, so objects are
    built as plain dicts by the C parser and not walked again."""
    with path.open("rb") as stream:
        map_type = None if checked else _StrictDict
        values = ijson.items(stream, prefix, use_float=False, map_type=map_type)
        index = 0
        while True:
            try:
                value = next(values)
            except StopIteration:
                return
            except (ijson.JSONError, ValueError) as error:
                where = f"event {index}" if prefix.endswith(".item") else "the document"
                raise EpcisError(
                    f"{where}: not valid JSON ({error})",
                    code="bad_json",
                    event=index if prefix.endswith(".item") else None,
                ) from None
            if not checked:
                _check(value, index if prefix.endswith(".item") else None)
            if position is not None:
                position(stream.tell())
            yield value
            index += 1


def _check(value: Any, index: int | None) -> None:
    """Nesting, duplicate keys and non-finite numbers, in one walk without recursion."""
    where = "the document" if index is None else f"event {index}"
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if isinstance(node, dict):
            if isinstance(node, _StrictDict) and hasattr(node, "duplicate"):
                raise EpcisError(
                    f"{where}: duplicate key {node.duplicate!r}", code="bad_json", event=index
                )
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, Decimal) and not node.is_finite():
                raise EpcisError("a number is not finite", code="bad_json", event=index)
            continue
        depth += 1
        if depth > MAX_DEPTH:
            raise EpcisError(
                f"{where} is nested deeper than {MAX_DEPTH} levels", code="bad_json", event=index
            )
        for child in children:
            if isinstance(child, dict | list | Decimal):
                push((child, depth))


def _first(path: Path, key: str) -> Any:
    return next(_items(path, key), None)


def read_head(path: Path) -> DocumentHead:
    """Check the whole document, count its events, return its head (first pass)."""
    stat = path.stat()
    with path.open("rb") as stream:
        start = stream.read(64).lstrip()
    if start.startswith(b"\xef\xbb\xbf"):
        start = start[3:].lstrip()
    if start.startswith(b"<"):
        return _xml_head(path)
    if not start.startswith(b"{"):
        raise EpcisError("the document is not a JSON object", code="not_a_document")
    doc_type = _first(path, "type") or _first(path, "isA")
    if doc_type not in _DOCUMENT_TYPES:
        raise EpcisError(
            f"type: must be EPCISDocument or EPCISQueryDocument, got {doc_type!r}",
            code="not_a_document",
            field="type",
        )
    version = _first(path, "schemaVersion")
    if str(version) not in ("2.0", "2.0.0"):
        raise EpcisError(
            f"schemaVersion: custody reads EPCIS 2.0 documents, got {version!r}",
            code="schema_version",
            field="schemaVersion",
        )
    count = 0
    for event in _items(path, _EVENTS[doc_type]):
        if not isinstance(event, dict):
            raise EpcisError(f"event {count} is not an object", code="bad_event", event=count)
        count += 1
    if count == 0:
        # no events: still read the whole document once (syntax, duplicate keys)
        for _ in _items(path, "__custody_no_such_key__"):
            pass
    header = _first(path, "epcisHeader")
    return DocumentHead(
        type=str(doc_type),
        schema_version=str(version),
        context=_first(path, "@context"),
        header=dict(header) if isinstance(header, dict) else {},
        events=count,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )


def _xml_head(path: Path) -> DocumentHead:
    stat = path.stat()
    head = read_xml_head(path)
    return DocumentHead(
        type=head.type,
        schema_version=head.schema_version,
        context=[dict(head.namespaces)],
        header=head.header,
        events=head.events,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        xml=True,
    )


def iter_events(
    path: Path, head: DocumentHead | None = None, position: Callable[[int], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, event)`` in document order (second pass); ``position`` gets bytes read.

    The file must be the one :func:`read_head` checked (same size and time)."""
    head = head if head is not None else read_head(path)
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != (head.size, head.mtime_ns):
        raise EpcisError("the document changed while it was read", code="bad_json")
    if head.xml:
        yield from enumerate(iter_xml_events(path))
        return
    events = _items(path, _EVENTS[head.type], position, checked=True)
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise EpcisError(f"event {index} is not an object", code="bad_event", event=index)
        yield index, event
