"""EPCIS 2.0 XML documents: read into the JSON-LD form, so that the CBV 2.0 hash
ID of an event is the same in both serialisations (the independent reference
implementation's expected hashes, tests/data/epcis/hash/SOURCE.md), and hostile
XML refused whole with a specific error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.epcis.errors import EpcisError
from ledger.epcis.hashid import context_namespaces, hash_id
from ledger.epcis.reader import iter_events, read_head

HASH = Path(__file__).resolve().parents[1] / "data" / "epcis" / "hash"


def _hashes(path: Path) -> list[str]:
    head = read_head(path)
    namespaces = context_namespaces(head.context)
    return [hash_id(event, namespaces) for _, event in iter_events(path, head)]


@pytest.mark.parametrize("name", ["ReferenceEventHashAlgorithm", "epcisDocWithVariousEventTypes"])
def test_xml_and_json_ld_give_the_published_hash_ids(name: str) -> None:
    expected = (HASH / f"{name}.hashes").read_text().split()
    assert _hashes(HASH / f"{name}.xml") == expected
    assert _hashes(HASH / f"{name}.jsonld") == expected


def test_xml_events_have_the_json_ld_shape() -> None:
    path = HASH / "epcisDocWithVariousEventTypes.xml"
    head = read_head(path)
    assert (head.type, head.schema_version, head.events) == ("EPCISDocument", "2.0", 13)
    events = dict(iter_events(path, head))
    assert events[0]["bizTransactionList"][1] == {
        "type": "urn:epcglobal:cbv:btt:inv",
        "bizTransaction": "urn:epcglobal:cbv:bt:5200001000008:RE1099",
    }
    assert events[0]["readPoint"] == {"id": "urn:epc:id:sgln:5200001.99901.0"}
    assert events[3]["quantityList"] == [
        {
            "epcClass": "urn:epc:class:lgtin:4054739.099914.20160711",
            "quantity": Decimal(600),
            "uom": "KGM",
        }
    ]
    assert events[3]["ilmd"] == {"cbvmda:bestBeforeDate": "2019-10-21"}
    assert events[4]["type"] == "AggregationEvent"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.xml"
    path.write_text(text, encoding="utf-8")
    return path


_DOC = (
    '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="{v}">'
    "<EPCISBody><EventList>{events}</EventList></EPCISBody></epcis:EPCISDocument>"
)
_EVENT = (
    "<ObjectEvent><eventTime>2026-03-01T08:00:00Z</eventTime>"
    "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>{inner}<action>ADD</action></ObjectEvent>"
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa">]>'
         + _DOC.format(v="2.0", events=_EVENT.format(inner="<x>&a;</x>")), "bad_xml"),
        (_DOC.format(v="1.2", events=_EVENT.format(inner="")), "schema_version"),
        (_DOC.format(v="2.0", events=_EVENT.format(inner="<action>ADD</action>")), "bad_json"),
        (_DOC.format(v="2.0", events=_EVENT.format(inner="<a:x xmlns:a='urn:a'>"
                                                     + "<a:y>" * 70 + "</a:y>" * 70 + "</a:x>")),
         "bad_json"),
        (_DOC.format(v="2.0", events=_EVENT.format(inner="<epcList>")), "bad_json"),
        ("<EPCISMasterDataDocument/>", "not_a_document"),
    ],
    ids=["dtd-entities", "schema-1.2", "repeated-field", "too-deep", "not-well-formed", "root"],
)  # fmt: skip
def test_hostile_xml_is_refused_whole(tmp_path: Path, text: str, code: str) -> None:
    with pytest.raises(EpcisError) as raised:
        read_head(_write(tmp_path, text))
    assert raised.value.code == f"invalid_epcis.{code}"
