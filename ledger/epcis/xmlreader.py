"""Streaming, strict reading of EPCIS 2.0 XML documents (``urn:epcglobal:epcis:xsd:2``).

Events are built one at a time by expat (the standard library's C parser, fed
64 KiB at a time), so memory stays bounded by the largest event, into the same
form as the JSON-LD binding (EPCIS 2.0 §12), so that the mapping and the CBV
2.0 event hash ID see one event whatever its serialisation:

* standard fields by their local name, lists as JSON arrays (``epcList/epc``,
  ``quantityList/quantityElement`` with ``quantity`` as an exact decimal,
  ``bizTransactionList/bizTransaction`` as ``{type, bizTransaction}``, sources
  and destinations alike, ``correctiveEventIDs``, ``persistentDisposition``
  ``set`` / ``unset``, sensor elements with their attributes);
* the EPCIS 1.x wrappers ``extension`` and ``baseExtension`` are flattened;
* user extensions as ``prefix:local`` (the prefixes of the document's namespace
  declarations; :attr:`XmlHead.namespaces` maps them for the hash ID), a
  repeated element as an array, an element with children as an object;
* the header's master data as ``epcisMasterData.vocabularyList``.

Hostile input: a document with a DTD (``<!DOCTYPE``, entity declarations) is
refused before any event is read (no entity expansion, no external resource);
nesting deeper than :data:`~ledger.strictjson.MAX_DEPTH` and a repeated
single-valued standard field are errors naming the event.
"""

from __future__ import annotations

import pyexpat
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from ledger.epcis.errors import EpcisError
from ledger.strictjson import MAX_DEPTH

__all__ = ["EPCIS_XML_NS", "XmlHead", "iter_xml_events", "read_xml_head"]

EPCIS_XML_NS: Final = "urn:epcglobal:epcis:xsd:2"
_QUERY_NS: Final = "urn:epcglobal:epcis-query:xsd:2"
_SEP: Final = "\x1f"
_EVENT_TYPES: Final = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
     "AssociationEvent"}
)  # fmt: skip
_STRING_LISTS: Final = {
    "epcList": "epc",
    "childEPCs": "epc",
    "inputEPCList": "epc",
    "outputEPCList": "epc",
    "correctiveEventIDs": "correctiveEventID",
}
_QUANTITY_LISTS: Final = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_TYPED_LISTS: Final = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_REPEATED: Final = frozenset({"set", "unset", "sensorElement", "sensorReport", "certificationInfo"})
_NUMERIC_ATTRS: Final = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)
_CHUNK: Final = 1 << 16


class _Node:
    __slots__ = ("attrs", "children", "key", "text")

    def __init__(self, key: str, attrs: dict[str, str]) -> None:
        self.key = key
        self.attrs = attrs
        self.text: list[str] = []
        self.children: list[_Node] = []


class XmlHead:
    """What an XML document says outside its events (``reader.DocumentHead``)."""

    def __init__(self) -> None:
        self.type = ""
        self.schema_version = ""
        self.namespaces: dict[str, str] = {}
        self.header: dict[str, Any] = {}
        self.events = 0


class _Reader:
    """One pass over a document: the head, and the events as they complete."""

    def __init__(self, head: XmlHead, want_events: bool) -> None:
        self.head = head
        self.want_events = want_events
        self.parser = pyexpat.ParserCreate(namespace_separator=_SEP)
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartNamespaceDeclHandler = self._namespace
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype
        self.parser.ExternalEntityRefHandler = self._external
        self.path: list[str] = []  # local names from the root
        self.stack: list[_Node] = []  # the event (or header) being built
        self.ready: list[dict[str, Any]] = []
        self.count = 0
        self.prefixes: dict[str, str] = {}  # namespace → prefix used in keys

    def _doctype(self, *_: Any) -> None:
        raise EpcisError(
            "the XML document declares a DTD or entities (refused: no DTD in EPCIS documents)",
            code="bad_xml",
        )

    def _external(self, *_: Any) -> int:
        self._doctype()
        return 0

    def _namespace(self, prefix: str | None, uri: str) -> None:
        if uri in (EPCIS_XML_NS, _QUERY_NS) or uri in self.prefixes:
            return
        name = prefix if prefix and self.head.namespaces.get(prefix, uri) == uri else ""
        name = name or f"ns{len(self.prefixes)}"
        self.prefixes[uri] = name
        self.head.namespaces[name] = uri

    def _key(self, name: str) -> str:
        uri, sep, local = name.rpartition(_SEP)
        if not sep or uri in (EPCIS_XML_NS, _QUERY_NS):
            return local
        return f"{self.prefixes.get(uri, uri)}:{local}"

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        key = self._key(name)
        depth = len(self.path)
        self.path.append(key)
        if depth == 0:
            if key not in ("EPCISDocument", "EPCISQueryDocument"):
                raise EpcisError(
                    f"the XML root element is {key!r}, not EPCISDocument", code="not_a_document"
                )
            self.head.type = key
            self.head.schema_version = attrs.get("schemaVersion", "")
            return
        if self.stack or self._opens(key):
            if len(self.stack) >= MAX_DEPTH:
                raise EpcisError(
                    f"event {self.count} is nested deeper than {MAX_DEPTH} levels",
                    code="bad_json",
                    event=self.count,
                )
            node = _Node(key, {self._key(k): v for k, v in attrs.items()})
            if self.stack:
                self.stack[-1].children.append(node)
            self.stack.append(node)

    def _opens(self, key: str) -> bool:
        """An event, or the header's master data, starts here."""
        if key in _EVENT_TYPES and "EventList" in self.path[:-1]:
            return True
        return key == "EPCISMasterData" and "EPCISHeader" in self.path[:-1]

    def _text(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text.append(data)

    def _end(self, name: str) -> None:
        self.path.pop()
        if not self.stack:
            return
        node = self.stack.pop()
        if self.stack:
            return
        if node.key == "EPCISMasterData":
            self.head.header = {"epcisMasterData": _master_data(node)}
            return
        event: dict[str, Any] = {"type": node.key}
        _fill(event, node, self.count)  # the first pass checks every event too
        if self.want_events:
            self.ready.append(event)
        self.count += 1

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except pyexpat.ExpatError as error:
            raise EpcisError(
                f"event {self.count}: not well-formed XML ({pyexpat.errors.messages[error.code]}, "
                f"line {error.lineno})",
                code="bad_json",
                event=self.count,
            ) from None


def _text_of(node: _Node) -> str:
    return "".join(node.text).strip()


def _value(node: _Node, index: int) -> Any:
    """A user extension or an unknown element: text, or an object of its children."""
    if not node.children:
        return _text_of(node)
    out: dict[str, Any] = {}
    for child in node.children:
        value = _value(child, index)
        if child.key in out:
            previous = out[child.key]
            out[child.key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[child.key] = value
    return out


def _decimal(text: str, index: int, field: str) -> Decimal | str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        raise EpcisError(f"event {index}: {field} is not finite", code="bad_json", event=index)
    return number


def _quantity(node: _Node, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node.children:
        text = _text_of(child)
        out[child.key] = _decimal(text, index, "quantity") if child.key == "quantity" else text
    return out


def _sensor(node: _Node, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node.children:
        if child.key == "sensorMetadata":
            out["sensorMetadata"] = dict(child.attrs)
        elif child.key == "sensorReport":
            report: dict[str, Any] = {
                k: _decimal(v, index, k) if k in _NUMERIC_ATTRS else v
                for k, v in child.attrs.items()
            }
            out.setdefault("sensorReport", []).append(report)
        else:
            _put(out, child.key, _value(child, index), repeatable=True)
    return out


def _put(out: dict[str, Any], key: str, value: Any, *, repeatable: bool, index: int = 0) -> None:
    if key not in out:
        out[key] = value
    elif repeatable:
        previous = out[key]
        out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    else:
        raise EpcisError(f"event {index}: duplicate key {key!r}", code="bad_json", event=index)


def _fill(out: dict[str, Any], node: _Node, index: int) -> None:
    """The children of an event element (or of a 1.x ``extension``) into ``out``."""
    for child in node.children:
        key = child.key
        if key in ("extension", "baseExtension"):
            _fill(out, child, index)
        elif key in _STRING_LISTS:
            out[key] = [_text_of(c) for c in child.children]
        elif key in _QUANTITY_LISTS:
            out[key] = [_quantity(c, index) for c in child.children]
        elif key in _TYPED_LISTS:
            items = []
            for c in child.children:
                item = {"type": c.attrs["type"]} if "type" in c.attrs else {}
                item[_TYPED_LISTS[key]] = _text_of(c)
                items.append(item)
            out[key] = items
        elif key == "sensorElementList":
            out[key] = [_sensor(c, index) for c in child.children]
        elif key == "persistentDisposition":
            disposition: dict[str, list[str]] = {}
            for c in child.children:
                disposition.setdefault(c.key, []).append(_text_of(c))
            out[key] = disposition
        elif key == "errorDeclaration":
            declaration: dict[str, Any] = {}
            _fill(declaration, child, index)
            out[key] = declaration
        elif key in ("readPoint", "bizLocation"):
            place: dict[str, Any] = {}
            for c in child.children:
                _put(place, c.key, _value(c, index), repeatable=":" in c.key, index=index)
            out[key] = place
        elif key == "ilmd":
            out[key] = _value(child, index) if child.children else {}
        elif ":" in key or key in _REPEATED:
            _put(out, key, _value(child, index), repeatable=True)
        else:
            _put(out, key, _value(child, index), repeatable=False, index=index)


def _master_data(node: _Node) -> dict[str, Any]:
    vocabularies = []
    for vlist in node.children:
        for vocabulary in vlist.children:
            elements = []
            for elist in vocabulary.children:
                for element in elist.children:
                    attributes = [
                        {"id": a.attrs.get("id", ""), "attribute": _text_of(a)}
                        for a in element.children
                        if a.key == "attribute"
                    ]
                    elements.append({"id": element.attrs.get("id", ""), "attributes": attributes})
            vocabularies.append(
                {"type": vocabulary.attrs.get("type", ""), "vocabularyElementList": elements}
            )
    return {"vocabularyList": vocabularies}


def _pass(path: Path, head: XmlHead, want_events: bool) -> Iterator[dict[str, Any]]:
    reader = _Reader(head, want_events)
    with path.open("rb") as stream:
        while True:
            data = stream.read(_CHUNK)
            reader.feed(data, final=not data)
            if reader.ready:
                yield from reader.ready
                reader.ready.clear()
            if not data:
                break
    head.events = reader.count


def read_xml_head(path: Path) -> XmlHead:
    """Check the whole XML document, count its events, read its head (first pass)."""
    head = XmlHead()
    for _ in _pass(path, head, want_events=False):
        pass
    if head.schema_version not in ("2.0", "2.0.0"):
        raise EpcisError(
            f"schemaVersion: custody reads EPCIS 2.0 documents, got {head.schema_version!r}",
            code="schema_version",
            field="schemaVersion",
        )
    return head


def iter_xml_events(path: Path) -> Iterator[dict[str, Any]]:
    """The events of an XML document, in document order, in the JSON-LD form."""
    yield from _pass(path, XmlHead(), want_events=True)
