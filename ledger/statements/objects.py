"""Parsers of the sub-objects statements are built from: sites, party info,
lots, transform inputs and outputs, documents."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from ledger.epcis.gs1 import is_valid_gln
from ledger.statements.fields import (
    _IDENTIFIERS,
    _MEDIA_TYPE,
    _array,
    _check_keys,
    _coordinate,
    _country,
    _fail,
    _hex64,
    _join,
    _lot_id,
    _mass_kg,
    _match,
    _material,
    _nonempty,
    _object,
    _optional_subdivision,
    _party_id,
    _quantity,
    _show,
    _string,
    _text,
    _unique_list,
    _vocabulary,
)
from ledger.statements.models import (
    ROLES,
    Document,
    EvidenceDocument,
    ExternalInput,
    OriginLot,
    PartyInfo,
    Site,
    TransformInput,
    TransformOutput,
)

_SITE_REQUIRED: Final = ("name", "country")
_SITE_ALLOWED: Final = frozenset({"name", "country", "subdivision", "lat", "lon"})


def _site(value: object, path: str) -> Site:
    obj = _object(value, path)
    _check_keys(obj, path, _SITE_REQUIRED, _SITE_ALLOWED)
    name = _text(obj["name"], _join(path, "name"))
    country = _country(obj["country"], _join(path, "country"))
    return Site(
        name=name,
        country=country,
        subdivision=_optional_subdivision(obj, path, country),
        lat=_coordinate(obj, path, "lat", 90),
        lon=_coordinate(obj, path, "lon", 180),
    )


_PARTY_REQUIRED: Final = ("id", "name", "country", "roles")
_PARTY_ALLOWED: Final = frozenset(
    {*_PARTY_REQUIRED, "subdivision", "address", "identifiers", "glns"}
)


def _party_info(value: object, path: str) -> PartyInfo:
    obj = _object(value, path)
    _check_keys(obj, path, _PARTY_REQUIRED, _PARTY_ALLOWED)
    party_id = _party_id(obj["id"], _join(path, "id"))
    name = _text(obj["name"], _join(path, "name"))
    country = _country(obj["country"], _join(path, "country"))
    subdivision = _optional_subdivision(obj, path, country)
    address = _text(obj["address"], _join(path, "address")) if "address" in obj else None
    roles_path = _join(path, "roles")
    roles = _array(obj["roles"], roles_path)
    _nonempty(roles, roles_path)
    for index, role in enumerate(roles):
        role_path = f"{roles_path}[{index}]"
        if _string(role, role_path) not in ROLES:
            _fail(
                "unknown_role",
                role_path,
                f"must be one of {', '.join(sorted(ROLES))}, got {_show(role)}",
            )
    _unique_list(roles, roles_path, "role")
    identifiers: dict[str, str] = {}
    if "identifiers" in obj:
        ids_path = _join(path, "identifiers")
        ids = _object(obj["identifiers"], ids_path)
        _check_keys(ids, ids_path, (), frozenset(_IDENTIFIERS))
        for scheme, (pattern, expected) in _IDENTIFIERS.items():
            if scheme in ids:
                identifiers[scheme] = _match(
                    ids[scheme], _join(ids_path, scheme), pattern, "bad_value", expected
                )
    return PartyInfo(
        id=party_id,
        name=name,
        country=country,
        roles=tuple(roles),
        subdivision=subdivision,
        address=address,
        identifiers=MappingProxyType(identifiers),
        glns=_glns(obj, path) if "glns" in obj else (),
    )


def _glns(obj: dict[str, Any], path: str) -> tuple[str, ...]:
    """``glns``: GS1 Global Location Numbers, 13 digits with a valid check digit each."""
    glns_path = _join(path, "glns")
    glns = _array(obj["glns"], glns_path)
    _nonempty(glns, glns_path)
    for index, gln in enumerate(glns):
        gln_path = f"{glns_path}[{index}]"
        if not is_valid_gln(_string(gln, gln_path)):
            _fail(
                "bad_gln",
                gln_path,
                f"must be a GLN: 13 digits whose last is the GS1 check digit, got {_show(gln)}",
            )
    _unique_list(glns, glns_path, "GLN")
    return tuple(glns)


_LOT_REQUIRED: Final = ("id", "material", "quantity", "unit")
_LOT_ALLOWED: Final = frozenset(_LOT_REQUIRED)


def _origin_lot(value: object, path: str) -> OriginLot:
    obj = _object(value, path)
    _check_keys(obj, path, _LOT_REQUIRED, _LOT_ALLOWED)
    return OriginLot(
        id=_lot_id(obj["id"], _join(path, "id")),
        material=_material(obj["material"], _join(path, "material")),
        quantity=_quantity(obj, path),
    )


_INPUT_REQUIRED: Final = ("lot", "quantity", "unit")
_INPUT_ALLOWED: Final = frozenset({*_INPUT_REQUIRED, "mass_kg"})


def _transform_input(value: object, path: str) -> TransformInput:
    obj = _object(value, path)
    _check_keys(obj, path, _INPUT_REQUIRED, _INPUT_ALLOWED)
    lot = _lot_id(obj["lot"], _join(path, "lot"))
    quantity = _quantity(obj, path)
    return TransformInput(lot=lot, quantity=quantity, mass_kg=_mass_kg(obj, path, quantity))


_EXTERNAL_REQUIRED: Final = ("material", "quantity", "unit", "country")
_EXTERNAL_ALLOWED: Final = frozenset({*_EXTERNAL_REQUIRED, "supplier", "subdivision", "mass_kg"})


def _external_input(value: object, path: str) -> ExternalInput:
    obj = _object(value, path)
    _check_keys(obj, path, _EXTERNAL_REQUIRED, _EXTERNAL_ALLOWED)
    material = _material(obj["material"], _join(path, "material"))
    quantity = _quantity(obj, path)
    country = _country(obj["country"], _join(path, "country"))
    return ExternalInput(
        material=material,
        quantity=quantity,
        country=country,
        supplier=_text(obj["supplier"], _join(path, "supplier")) if "supplier" in obj else None,
        subdivision=_optional_subdivision(obj, path, country),
        mass_kg=_mass_kg(obj, path, quantity),
    )


_OUTPUT_REQUIRED: Final = ("id", "material", "quantity", "unit")
_OUTPUT_ALLOWED: Final = frozenset({*_OUTPUT_REQUIRED, "mass_kg"})


def _transform_output(value: object, path: str) -> TransformOutput:
    obj = _object(value, path)
    _check_keys(obj, path, _OUTPUT_REQUIRED, _OUTPUT_ALLOWED)
    lot = _lot_id(obj["id"], _join(path, "id"))
    material = _material(obj["material"], _join(path, "material"))
    quantity = _quantity(obj, path)
    return TransformOutput(
        id=lot,
        material=material,
        quantity=quantity,
        mass_kg=_mass_kg(obj, path, quantity),
    )


_DOCUMENT_REQUIRED: Final = ("sha256", "kind", "name")
_DOCUMENT_ALLOWED: Final = frozenset(_DOCUMENT_REQUIRED)


def _document(value: object, path: str) -> Document:
    obj = _object(value, path)
    _check_keys(obj, path, _DOCUMENT_REQUIRED, _DOCUMENT_ALLOWED)
    return Document(
        sha256=_hex64(obj["sha256"], _join(path, "sha256")),
        kind=_vocabulary(obj["kind"], _join(path, "kind"), "bill_of_lading"),
        name=_text(obj["name"], _join(path, "name")),
    )


_EVIDENCE_DOC_REQUIRED: Final = ("sha256", "name", "media_type", "size")
_EVIDENCE_DOC_ALLOWED: Final = frozenset(_EVIDENCE_DOC_REQUIRED)


def _evidence_document(value: object, path: str) -> EvidenceDocument:
    obj = _object(value, path)
    _check_keys(obj, path, _EVIDENCE_DOC_REQUIRED, _EVIDENCE_DOC_ALLOWED)
    size_path = _join(path, "size")
    size = obj["size"]
    if type(size) is not int:
        _fail("wrong_type", size_path, f"must be an integer, got {_show(size)}")
    if size < 0:
        _fail("bad_value", size_path, f"must be 0 or more, got {size}")
    return EvidenceDocument(
        sha256=_hex64(obj["sha256"], _join(path, "sha256")),
        name=_text(obj["name"], _join(path, "name")),
        media_type=_match(
            obj["media_type"],
            _join(path, "media_type"),
            _MEDIA_TYPE,
            "bad_value",
            "a media type like application/pdf",
        ),
        size=size,
    )
