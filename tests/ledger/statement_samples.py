"""Sample statements for the statement tests: one good statement of every type
(``GOOD``) and helpers that break them (``mutated``, ``raw``, ``missing``)."""

from __future__ import annotations

import base64
import copy
from decimal import Decimal
from typing import Any

from ledger.statements import (
    MAX_PAYLOAD_BYTES,
    encode_statement,
)

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
DIGEST = "sha256:" + "ab" * 32
HEX = "cd" * 32


def common(kind: str, issuer: str = "gin.example") -> dict[str, Any]:
    return {
        "spec": "custody/1",
        "type": kind,
        "id": f"{issuer}/{kind}-1",
        "issuer": issuer,
        "time": "2026-03-01T10:00:00Z",
    }


GOOD: dict[str, dict[str, Any]] = {
    "party": {
        **common("party", "operator.example"),
        "party": {
            "id": "gin.example",
            "name": "Example Gin Co.",
            "country": "UZ",
            "subdivision": "UZ-BU",
            "address": "1 Cotton Road, Bukhara",
            "roles": ["supplier"],
            "identifiers": {"lei": "5493001KJTIIGC8Y1R12", "duns": "123456789"},
        },
        "keys": [KEY_A, KEY_B],
    },
    "key": {**common("key"), "party": "gin.example", "public_key": KEY_B},
    "revoke": {
        **common("revoke"),
        "party": "gin.example",
        "public_key": KEY_A,
        "reason": "compromised",
        "effective": "2026-02-28T00:00:00.5Z",
    },
    "origin": {
        **common("origin", "farm.example"),
        "lot": {"id": "farm/seed-1", "material": "cotton.seed", "quantity": 12000, "unit": "kg"},
        "site": {
            "name": "North field",
            "country": "UZ",
            "subdivision": "UZ-BU",
            "lat": Decimal("39.77"),
            "lon": Decimal("64.42"),
        },
    },
    "transform": {
        **common("transform"),
        "process": "ginning",
        "inputs": [{"lot": "farm/seed-1", "quantity": 12000, "unit": "kg"}],
        "external_inputs": [
            {
                "material": "packaging.bale_wrap",
                "quantity": 40,
                "unit": "pcs",
                "supplier": "Wraps Ltd",
                "country": "CN",
                "subdivision": "CN-JS",
                "mass_kg": Decimal("12.5"),
            }
        ],
        "outputs": [
            {"id": "gin/lint-1", "material": "cotton.lint", "quantity": 4200, "unit": "kg"},
            {
                "id": "gin/seed-1",
                "material": "cotton.seed",
                "quantity": Decimal("7.5"),
                "unit": "t",
                "mass_kg": 7500,
            },
        ],
        "site": {"name": "Gin 1", "country": "UZ"},
    },
    "dispatch": {
        **common("dispatch"),
        "lot": "gin/lint-1",
        "quantity": Decimal("4200.25"),
        "unit": "kg",
        "to": "spinner.example",
        "documents": [{"sha256": HEX, "kind": "bill_of_lading", "name": "BL-1.pdf"}],
    },
    "receipt": {
        **common("receipt", "spinner.example"),
        "dispatch": DIGEST,
        "quantity": Decimal("9259.7"),
        "unit": "lb",
    },
    "evidence": {
        **common("evidence", "lab.example"),
        "lots": ["gin/lint-1", "farm/seed-1"],
        "kind": "isotope_test",
        "document": {
            "sha256": HEX,
            "name": "report.pdf",
            "media_type": "application/pdf",
            "size": 1024,
        },
        "claims": {"origin_consistent_with": ["UZ"], "confidence": Decimal("0.95")},
    },
    "import": {
        **common("import", "importer.example"),
        "lot": "factory/shirts-1",
        "quantity": 5000,
        "unit": "pcs",
        "entry_number": "ABC-1234567-8",
        "hts": "6109.10.0012",
        "port": "2704",
        "country_of_origin": "BD",
    },
}


def encode(obj: dict[str, Any]) -> bytes:
    return encode_statement(obj)


DELETE = object()


def mutated(kind: str, *changes: tuple[tuple[Any, ...], Any]) -> bytes:
    obj = copy.deepcopy(GOOD[kind])
    for path, value in changes:
        target: Any = obj
        for step in path[:-1]:
            target = target[step]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return encode(obj)


def raw(kind: str, old: str, new: str) -> bytes:
    text = encode(GOOD[kind]).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def missing(kind: str, *path: Any) -> tuple[bytes, str, str | None]:
    field = ".".join(str(p) for p in path).replace(".0", "[0]").replace(".1", "[1]")
    return mutated(kind, (path, DELETE)), "missing_field", field


REQUIRED = {
    "party": ["party", "keys"],
    "key": ["party", "public_key"],
    "revoke": ["party", "public_key", "reason"],
    "origin": ["lot", "site"],
    "transform": ["process", "inputs", "outputs", "site"],
    "dispatch": ["lot", "quantity", "unit", "to"],
    "receipt": ["dispatch", "quantity", "unit"],
    "evidence": ["lots", "kind", "document"],
    "import": ["lot", "quantity", "unit", "entry_number"],
}

BIG = encode(GOOD["key"])[:-1] + b',"pad":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
