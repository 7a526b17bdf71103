"""The EPCIS event hash ID of GS1 CBV 2.0 (§8.9): ``ni:///sha-256;<hex>?ver=CBV2.0``.

The hash is SHA-256 over a *pre-hash string* built from the event's fields in
the canonical property order (eventType, eventTime, eventTimeZoneOffset,
epcList, parentID, inputEPCList, childEPCs, quantityList, childQuantityList,
inputQuantityList, outputEPCList, outputQuantityList, action,
transformationID, bizStep, disposition, persistentDisposition, readPoint,
bizLocation, bizTransactionList, sourceList, destinationList,
sensorElementList, ilmd, user extensions), ``key=value`` pairs concatenated
without separators, with these normalisations:

* times in UTC with ``Z`` and exactly three decimals (rounded half up);
* numbers without trailing zeros; strings trimmed;
* bare CBV words and ``urn:epcglobal:cbv:`` values as CBV Web URIs
  (``https://ref.gs1.org/cbv/BizStep-shipping``), sensor types as
  ``https://ref.gs1.org/voc/...``;
* EPC URIs and GS1 Digital Links as constrained canonical Digital Links
  (:mod:`ledger.epcis.gs1`);
* list items sorted by their strings; a ``type`` attribute precedes its value;
* extensions (ILMD, user extensions) as ``{namespace}local=value``, with
  children concatenated after their parent, sorted at every level; in CBV 2.0
  extensions inside standard fields (readPoint, bizLocation, sensorElement)
  are appended at the end, prefixed by their parent's name.

``eventID``, ``recordTime``, ``errorDeclaration`` and ``certificationInfo`` are
not part of the hash. The test vectors in ``tests/data/epcis/hash/`` come from
an independent implementation (see their ``SOURCE.md``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from ledger.epcis.gs1 import constrain_digital_link, epc_to_digital_link

__all__ = ["DEFAULT_NAMESPACES", "HASH_VERSION", "context_namespaces", "hash_id", "prehash"]

HASH_VERSION: Final = "CBV2.0"

#: CURIE prefixes every EPCIS 2.0 JSON-LD document has through the standard context.
DEFAULT_NAMESPACES: Final = {
    "gs1": "https://gs1.org/voc/",
    "cbv": "https://ref.gs1.org/cbv/",
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
}

_CBV: Final = "https://ref.gs1.org/cbv/"
_VOC: Final = "https://ref.gs1.org/voc/"
_URN_VOCABULARIES: Final = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-",
    "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-",
    "urn:epcglobal:cbv:er:": "ER-",
}

#: Every key of an event that is not a user extension.
STANDARD_KEYS: Final = frozenset(
    {
        "@context", "type", "isA", "eventTime", "eventTimeZoneOffset", "recordTime",
        "eventID", "errorDeclaration", "certificationInfo", "epcList", "parentID",
        "inputEPCList", "childEPCs", "quantityList", "childQuantityList",
        "inputQuantityList", "outputEPCList", "outputQuantityList", "action",
        "transformationID", "bizStep", "disposition", "persistentDisposition",
        "readPoint", "bizLocation", "bizTransactionList", "sourceList",
        "destinationList", "sensorElementList", "ilmd",
    }
)  # fmt: skip

_EPC_LISTS: Final = ("epcList", "parentID", "inputEPCList", "childEPCs")
_QUANTITY_LISTS: Final = ("quantityList", "childQuantityList", "inputQuantityList")
_METADATA_FIELDS: Final = (
    "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
    "dataProcessingMethod", "bizRules",
)  # fmt: skip
_REPORT_FIELDS: Final = (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
    "time", "microorganism", "chemicalSubstance", "value", "component", "stringValue",
    "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue",
    "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
)  # fmt: skip
_TIME_FIELDS: Final = frozenset({"time", "startTime", "endTime"})

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,  # ASCII digits only
)
_DECIMAL_TEXT = re.compile(r"-?\d+\.\d+", re.ASCII)
_MILLI: Final = Decimal("0.001")


def hash_id(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` of ``event`` (a JSON/JSON-LD EPCIS 2.0 event)."""
    digest = hashlib.sha256(prehash(event, namespaces).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver={HASH_VERSION}"


def context_namespaces(context: object, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """CURIE prefixes declared by a JSON-LD ``@context`` (a URL, an object or a list)."""
    namespaces = dict(DEFAULT_NAMESPACES if base is None else base)
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, dict):
            for prefix, value in item.items():
                if isinstance(value, str) and not prefix.startswith("@"):
                    namespaces[prefix] = value
    return namespaces


def format_time(text: str) -> str:
    """An xsd:dateTime in UTC with milliseconds (``2020-03-04T10:00:30.000Z``)."""
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        return text.strip()
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    digits = (match.group(7) or ".")[1:]
    if match.group(8) == "Z" and len(digits) <= 3 and year >= 1000:
        # already UTC, nothing to round: only check that it is a real moment
        datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        return f"{text.strip()[:19]}.{digits:0<3}Z"
    fraction = Decimal(match.group(7) or "0").quantize(_MILLI, rounding=ROUND_HALF_UP)
    when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    when += timedelta(milliseconds=int(fraction * 1000))
    zone = match.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        when -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def format_number(value: object) -> str:
    """A JSON number without trailing zeros and without exponent (``1.50`` → ``1.5``)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value).strip()
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def _uri(text: str) -> str:
    """An identifier or vocabulary value in its canonical hashing form."""
    text = text.strip()
    if text.startswith("urn:epc:"):
        return epc_to_digital_link(text) or text
    for prefix, kind in _URN_VOCABULARIES.items():
        if text.startswith(prefix):
            return _CBV + kind + text[len(prefix) :]
    if text.startswith(("http://", "https://")):
        return constrain_digital_link(text) or text
    return text


def _vocabulary(text: str, kind: str) -> str:
    """A CBV value given as a bare word, a URN or a Web URI, as a Web URI."""
    text = text.strip()
    if ":" not in text:
        return _CBV + kind + text
    if text.startswith("cbv:"):
        return _CBV + text[4:]
    return _uri(text)


def _scalar(value: object) -> str:
    """A generic value (extensions, sensor fields) in its hashing form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    text = str(value).strip()
    if _DECIMAL_TEXT.fullmatch(text):
        return format_number(text)
    if _DATETIME.fullmatch(text):
        return format_time(text)
    return _uri(text)


def _epcs(name: str, values: object) -> str:
    items = values if isinstance(values, list) else [values]
    return name + "".join(sorted("epc=" + _uri(str(item)) for item in items))


def _quantities(name: str, elements: object) -> str:
    parts = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, Mapping):
            continue
        text = "quantityElement"
        if "epcClass" in element:
            text += "epcClass=" + _uri(str(element["epcClass"]))
        if "quantity" in element:
            text += "quantity=" + format_number(element["quantity"])
        if "uom" in element:
            text += "uom=" + str(element["uom"]).strip()
        parts.append(text)
    return name + "".join(sorted(parts))


def _typed_list(name: str, key: str, kind: str, items: object) -> str:
    parts = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        text = ""
        if "type" in item:
            text += "type=" + _vocabulary(str(item["type"]), kind)
        if key in item:
            text += f"{key}=" + _uri(str(item[key]))
        parts.append(text)
    return name + "".join(sorted(parts))


def _expand(key: str, namespaces: Mapping[str, str]) -> str:
    """``prefix:local`` → ``{namespace}local``."""
    prefix, sep, local = key.partition(":")
    if sep and prefix in namespaces:
        return "{" + namespaces[prefix] + "}" + local
    if sep and not key.startswith(("http://", "https://")):
        return "{" + prefix + "}" + local
    return key


def _extension(key: str, value: object, namespaces: Mapping[str, str]) -> list[str]:
    """The pre-hash strings of one extension element (several when it is a list).

    Iterative over nesting: the value was parsed with a depth limit, and the
    work stack keeps the interpreter's recursion out of it.
    """
    name = _expand(key, namespaces)
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_extension(key, item, namespaces))
        return out
    if isinstance(value, Mapping):
        children: list[str] = []
        for child_key, child in value.items():
            if child_key.startswith("@") or child_key == "#text":
                if child_key == "#text":
                    return [f"{name}={_scalar(child)}"]
                continue
            children.extend(_extension(child_key, child, namespaces))
        return [name + "".join(sorted(children))]
    return [f"{name}={_scalar(value)}"]


def _extensions(items: Iterable[tuple[str, object]], namespaces: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for key, value in items:
        out.extend(_extension(key, value, namespaces))
    return sorted(out)


def _fields(obj: Mapping[str, Any], order: tuple[str, ...]) -> str:
    text = ""
    for field in order:
        if field not in obj:
            continue
        value = obj[field]
        if field in _TIME_FIELDS:
            text += f"{field}=" + format_time(str(value))
        elif field in ("type", "exception") and isinstance(value, str) and ":" not in value:
            text += f"{field}=" + _VOC + value.strip()
        elif field == "type" and isinstance(value, str) and value.startswith("gs1:"):
            text += f"{field}=" + _VOC + value[4:].strip()
        else:
            text += f"{field}=" + _scalar(value)
    return text


def _own_extensions(obj: Mapping[str, Any], standard: Iterable[str]) -> list[tuple[str, Any]]:
    known = set(standard)
    return [(k, v) for k, v in obj.items() if k not in known and not k.startswith("@")]


def _sensors(elements: object, namespaces: Mapping[str, str]) -> tuple[str, list[str]]:
    """The sensor part of the pre-hash and, separately, its extensions (CBV 2.0)."""
    texts: list[str] = []
    extensions: list[str] = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, Mapping):
            continue
        text = "sensorElement"
        extension = ""
        metadata = element.get("sensorMetadata")
        if isinstance(metadata, Mapping):
            text += "sensorMetadata" + _fields(metadata, _METADATA_FIELDS)
            own = _extensions(_own_extensions(metadata, _METADATA_FIELDS), namespaces)
            if own:
                extension += "sensorMetadata" + "".join(own)
        reports = element.get("sensorReport")
        report_texts = []
        report_extensions = []
        for report in reports if isinstance(reports, list) else []:
            if isinstance(report, Mapping):
                report_texts.append("sensorReport" + _fields(report, _REPORT_FIELDS))
                own = _extensions(_own_extensions(report, _REPORT_FIELDS), namespaces)
                if own:
                    report_extensions.append("sensorReport" + "".join(own))
        text += "".join(sorted(report_texts))
        extension += "".join(sorted(report_extensions))
        extension += "".join(
            _extensions(_own_extensions(element, ("sensorMetadata", "sensorReport")), namespaces)
        )
        texts.append(text)
        if extension:
            extensions.append("sensorElement" + extension)
    return "".join(sorted(texts)), extensions


def prehash(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 pre-hash string of ``event`` (see the module docstring)."""
    spaces = context_namespaces(event.get("@context"), namespaces or DEFAULT_NAMESPACES)
    out = "eventType=" + str(event.get("type", event.get("isA", ""))).strip()
    if "eventTime" in event:
        out += "eventTime=" + format_time(str(event["eventTime"]))
    if "eventTimeZoneOffset" in event:
        out += "eventTimeZoneOffset=" + str(event["eventTimeZoneOffset"]).strip()
    for name in _EPC_LISTS:
        if name in event:
            if name == "parentID":
                out += "parentID=" + _uri(str(event[name]))
            else:
                out += _epcs(name, event[name])
    for name in _QUANTITY_LISTS:
        if name in event:
            out += _quantities(name, event[name])
    if "outputEPCList" in event:
        out += _epcs("outputEPCList", event["outputEPCList"])
    if "outputQuantityList" in event:
        out += _quantities("outputQuantityList", event["outputQuantityList"])
    if "action" in event:
        out += "action=" + str(event["action"]).strip()
    if "transformationID" in event:
        out += "transformationID=" + _uri(str(event["transformationID"]))
    if "bizStep" in event:
        out += "bizStep=" + _vocabulary(str(event["bizStep"]), "BizStep-")
    if "disposition" in event:
        out += "disposition=" + _vocabulary(str(event["disposition"]), "Disp-")
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, Mapping):
        out += "persistentDisposition"
        for key in ("set", "unset"):
            values = persistent.get(key)
            values = values if isinstance(values, list) else [] if values is None else [values]
            out += "".join(sorted(f"{key}=" + _vocabulary(str(v), "Disp-") for v in values))
    trailing: list[str] = []
    for name in ("readPoint", "bizLocation"):
        place = event.get(name)
        if isinstance(place, Mapping):
            out += name + ("id=" + _uri(str(place["id"])) if "id" in place else "")
            own = _extensions(_own_extensions(place, ("id",)), spaces)
            if own:
                trailing.append(name + "".join(own))
    if "bizTransactionList" in event:
        out += _typed_list(
            "bizTransactionList", "bizTransaction", "BTT-", event["bizTransactionList"]
        )
    if "sourceList" in event:
        out += _typed_list("sourceList", "source", "SDT-", event["sourceList"])
    if "destinationList" in event:
        out += _typed_list("destinationList", "destination", "SDT-", event["destinationList"])
    if "sensorElementList" in event:
        sensors, sensor_extensions = _sensors(event["sensorElementList"], spaces)
        out += sensors
        trailing.extend(sensor_extensions)
    ilmd = event.get("ilmd")
    if isinstance(ilmd, Mapping):
        out += "ilmd" + "".join(_extensions(_own_extensions(ilmd, ()), spaces))
    trailing.extend(_extensions(_own_extensions(event, STANDARD_KEYS), spaces))
    return out + "".join(sorted(trailing))
