"""``custody epcis hash`` and ``custody epcis import`` of EPCIS 2.0 XML: the same
hash IDs and the same statements as the JSON-LD form of the same events."""

from __future__ import annotations

import pytest

from tests.cli.support import Cli
from tests.cli.test_epcis_cli import DATA, _commission, _doc, _import, cli

__all__ = ["cli"]

XML = """<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-03-01T00:00:00Z">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>2026-03-01T09:00:00+01:00</eventTime>
        <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <bizLocation><id>urn:epc:id:sgln:0614141.00000.0</id></bizLocation>
        <quantityList>
          <quantityElement>
            <epcClass>urn:epc:class:lgtin:0614141.012345.SEED9</epcClass>
            <quantity>5.0</quantity>
            <uom>KGM</uom>
          </quantityElement>
        </quantityList>
      </ObjectEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>
"""


@pytest.mark.parametrize("name", ["ReferenceEventHashAlgorithm", "epcisDocWithVariousEventTypes"])
def test_hash_command_reads_xml(cli: Cli, name: str) -> None:
    path = DATA / "hash" / f"{name}.xml"
    lines = cli.run("epcis", "hash", str(path), home=False).stdout.splitlines()
    assert lines == path.with_suffix(".hashes").read_text().split()


def test_xml_and_json_forms_import_as_one_statement(cli: Cli) -> None:
    xml = cli.dir / "seed.xml"
    xml.write_text(XML, encoding="utf-8")
    first = _import(cli, xml, "farm")
    assert first[0]["id"].startswith("ni:///sha-256;")
    assert "seq" in first[0]
    json_form = _doc(cli.dir, [_commission("urn:epc:id:sgln:0614141.00000.0")])
    again = _import(cli, json_form, "farm")
    assert again[0]["id"] == first[0]["id"]
    assert again[0]["duplicate"] is True
    assert again[0]["digest"] == first[0]["digest"]
