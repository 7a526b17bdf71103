"""The CBV 2.0 event hash ID against an independent implementation's published
vectors (tests/data/epcis/hash/SOURCE.md), GS1 identifiers and Rec. 20 units."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.epcis.errors import EpcisError
from ledger.epcis.gs1 import (
    check_digit,
    constrain_digital_link,
    epc_to_digital_link,
    gln_of_location,
    is_valid_gln,
)
from ledger.epcis.hashid import context_namespaces, format_time, hash_id, prehash
from ledger.epcis.reader import iter_events, read_head
from ledger.errors import StatementError
from ledger.units import Quantity, from_rec20, to_rec20

DATA = Path(__file__).resolve().parents[1] / "data" / "epcis" / "hash"
DOCUMENTS = sorted(p for p in DATA.iterdir() if p.suffix in (".json", ".jsonld"))


def _hashes(path: Path) -> list[str]:
    head = read_head(path)
    namespaces = context_namespaces(head.context)
    return [hash_id(event, namespaces) for _, event in iter_events(path)]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.stem for p in DOCUMENTS])
def test_hash_ids_match_the_independent_implementation(path: Path) -> None:
    expected = path.with_suffix(".hashes").read_text().split()
    assert _hashes(path) == expected


def _event(path: str, index: int = 0) -> dict:
    doc = json.loads((DATA / path).read_text())
    return doc["epcisBody"]["eventList"][index]


def test_serialisations_of_one_event_give_one_hash() -> None:
    event = _event("epcisDocWithVariousEventTypes.jsonld", 0)
    namespaces = context_namespaces(None)
    base = hash_id(event, namespaces)
    variant = dict(reversed(list(copy.deepcopy(event).items())))  # key order
    variant["epcList"] = ["https://example.com/00/052000011111111461?x=1"]  # Digital Link
    variant["bizStep"] = "urn:epcglobal:cbv:bizstep:departing"  # URN vocabulary
    variant["eventTime"] = "2019-10-21T10:00:30Z"  # the same instant in UTC
    variant["bizTransactionList"] = list(reversed(variant["bizTransactionList"]))
    variant["eventID"] = "urn:uuid:9d3c3f1e-0000-4000-8000-000000000000"  # not hashed
    variant["recordTime"] = "2030-01-01T00:00:00Z"  # not hashed
    assert hash_id(variant, namespaces) == base
    changed = copy.deepcopy(event)
    changed["action"] = "ADD"
    assert hash_id(changed, namespaces) != base


def test_prehash_of_the_reference_event() -> None:
    event = _event("ReferenceEventHashAlgorithm2.jsonld")
    assert prehash(event).startswith(
        "eventType=ObjectEventeventTime=2020-04-01T14:00:00.000ZeventTimeZoneOffset=+01:00"
        "epcListepc=https://id.gs1.org/01/04012345111118/21/9876action=OBSERVE"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.9995Z", "2023-02-02T11:04:04.000Z"),
        ("2019-10-21T00:05:00-06:00", "2019-10-21T06:05:00.000Z"),
        ("2020-12-31T23:59:59.9999+00:00", "2021-01-01T00:00:00.000Z"),
    ],
    ids=["round-half-up", "carry", "offset", "year-carry"],
)
def test_times(text: str, expected: str) -> None:
    assert format_time(text) == expected


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
        ("urn:epc:id:sgln:0614141.00000.0", "https://id.gs1.org/414/0614141000005"),
        ("urn:epc:id:pgln:0614141.00001", "https://id.gs1.org/417/0614141000012"),
        (
            "urn:epc:class:lgtin:4012345.012345.998877",
            "https://id.gs1.org/01/04012345123456/10/998877",
        ),
        ("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"),
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
        ("urn:epc:id:sgtin:0614141.10734.2017", None),
    ],
    ids=["sgtin", "sscc", "sgln-ext", "sgln", "pgln", "lgtin", "idpat", "grai", "bad-length"],
)
def test_epc_uris_to_digital_link(uri: str, link: str | None) -> None:
    assert epc_to_digital_link(uri) == link


def test_digital_link_constrained() -> None:
    assert (
        constrain_digital_link("https://brand.example/01/9520123456788/10/ABC/21/12345?17=201225")
        == "https://id.gs1.org/01/09520123456788/21/12345"
    )
    assert constrain_digital_link("https://example.org/taxonomy/1126011") is None


def test_gln_check_digits() -> None:
    assert check_digit("061414100000") == "5"
    assert is_valid_gln("0614141000005")
    assert not is_valid_gln("0614141000006")
    assert not is_valid_gln("061414100000")
    assert gln_of_location("urn:epc:id:sgln:0614141.00001.7") == "0614141000012"
    assert gln_of_location("https://id.gs1.org/414/0614141000012/254/7") == "0614141000012"
    assert gln_of_location("https://id.gs1.org/414/0614141000013") is None


def test_rec20_units_convert_exactly() -> None:
    assert from_rec20("KGM") == "kg"
    assert from_rec20("MGM") == "MGM"
    assert to_rec20("pcs") == "H87"
    assert Quantity(Decimal(1), "TNE") == Quantity(Decimal(1000), "kg")
    assert Quantity(Decimal(16), "ONZ") == Quantity(Decimal(1), "LBR")
    assert Quantity(Decimal(1), "DZN") == Quantity(Decimal(12), "pcs")
    assert Quantity(Decimal(1), "GLL").base == Decimal("3.785411784")
    with pytest.raises(StatementError) as caught:
        from_rec20("XYZ")
    assert caught.value.code == "invalid_statement.unknown_unit"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.jsonld"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "EPCISDocument", "schemaVersion": "1.2", "epcisBody": {"eventList": []}}',
         "invalid_epcis.schema_version"),
        ('{"type": "Other", "schemaVersion": "2.0"}', "invalid_epcis.not_a_document"),
        ('{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisHeader": {"a": 1, "a": 2},'
         ' "epcisBody": {"eventList": []}}', "invalid_epcis.bad_json"),
        ('{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": [{"a": '
         + "[" * 100 + "]" * 100 + "}]}}", "invalid_epcis.bad_json"),
        ('{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": [NaN]}}',
         "invalid_epcis.bad_json"),
        ("[1, 2]", "invalid_epcis.not_a_document"),
        ('{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": [',
         "invalid_epcis.bad_json"),
    ],
    ids=["version", "type", "duplicate-key", "deep", "nan", "array", "truncated"],
)  # fmt: skip
def test_hostile_documents_are_refused(tmp_path: Path, text: str, code: str) -> None:
    path = _write(tmp_path, text)

    def read() -> None:
        read_head(path)
        list(iter_events(path))

    with pytest.raises(EpcisError) as caught:
        read()
    assert caught.value.code == code


def test_duplicate_key_inside_an_event_names_the_event(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '{"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": '
        '[{"type": "ObjectEvent"}, {"action": "ADD", "action": "OBSERVE"}]}}',
    )
    with pytest.raises(EpcisError) as caught:
        list(iter_events(path))
    assert caught.value.details["event"] == 1
