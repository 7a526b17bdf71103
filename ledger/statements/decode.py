"""Statements from their verbatim payload bytes: :func:`parse_statement`,
:func:`parse_header` and :func:`statement_digest`."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, NoReturn

from ledger import strictjson
from ledger.errors import StatementError
from ledger.statements.bodies import (
    _SCHEMAS,
    _Common,
)
from ledger.statements.corrections import REPLACEABLE, REPLACES, parse_replaces
from ledger.statements.fast import fast_statement
from ledger.statements.fields import (
    _COMMON,
    _check_keys,
    _fail,
    _join,
    _party_id,
    _show,
    _statement_id,
    _string,
)
from ledger.statements.models import (
    MAX_PAYLOAD_BYTES,
    SPEC,
    Header,
    Statement,
)
from ledger.statements.times import parse_time
from ledger.strictjson import JsonError


class _DuplicateKeyError(JsonError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}", reason="duplicate_key")
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> NoReturn:
    raise JsonError(f"not valid JSON: {name} is not a JSON number", reason="constant")


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=Decimal, parse_constant=_no_constant
)


def _parse(text: str) -> Any:
    """:data:`_DECODER` for :func:`ledger.strictjson.loads` (which adds the depth limit)."""
    try:
        return _DECODER.decode(text)
    except ArithmeticError:
        raise JsonError("not valid JSON: a number is out of range", reason="syntax") from None


class _Duplicated(dict[str, Any]):
    """Marks the object holding a duplicate key while locating it (slow path)."""

    duplicate: str = ""


def _marking_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    try:
        return _pairs(pairs)
    except _DuplicateKeyError as error:
        marked = _Duplicated(pairs)
        marked.duplicate = error.key
        return marked


_MARKING_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_marking_pairs, parse_float=Decimal, parse_constant=_no_constant
)


def _find_duplicate(tree: Any) -> str | None:
    """The dotted path of the first duplicate key in ``tree``, depth first, in order."""
    stack: list[tuple[Any, str]] = [(tree, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Duplicated):
            return _join(path, value.duplicate)
        if isinstance(value, dict):
            items = [(item, _join(path, key)) for key, item in value.items()]
        elif type(value) is list:
            items = [(item, f"{path}[{index}]") for index, item in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return None


def _duplicate_path(text: str, key: str) -> str:
    try:
        tree = strictjson.loads(text, decoder=_MARKING_DECODER.decode)
    except (JsonError, ArithmeticError):
        return key
    return _find_duplicate(tree) or key


def _decode(payload: bytes) -> dict[str, Any]:
    if type(payload) is not bytes:
        payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise StatementError(
            f"statement is {len(payload)} bytes, more than the {MAX_PAYLOAD_BYTES} allowed",
            code="invalid_statement.too_large",
            details={"size": len(payload), "limit": MAX_PAYLOAD_BYTES},
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StatementError(
            f"statement is not UTF-8: {error.reason} at byte {error.start}",
            code="invalid_statement.bad_encoding",
        ) from error
    try:
        tree = strictjson.loads(text, decoder=_parse)
    except _DuplicateKeyError as error:
        where = _duplicate_path(text, error.key)
        raise StatementError(
            f"{where}: duplicate key {_show(error.key)}",
            field=where,
            code="invalid_statement.duplicate_key",
        ) from error
    except JsonError as error:
        # the text is UTF-8 already: an "encoding" reason here is a byte order mark
        said = error.message
        if not said.startswith(("not valid JSON", "nested")):
            said = f"not valid JSON: it {said}"
        raise StatementError(
            f"statement is {said}",
            code="invalid_statement.bad_json",
            details={"reason": error.reason},
        ) from error
    if type(tree) is not dict:
        raise StatementError(
            f"statement must be a JSON object, got {_show(tree)}",
            code="invalid_statement.bad_json",
        )
    return tree


def _common(obj: dict[str, Any]) -> tuple[str, str, str, datetime]:
    for name in _COMMON:
        if name not in obj:
            _fail("missing_field", name, "is required")
    spec = obj["spec"]
    if spec != SPEC or type(spec) is not str:
        _fail("bad_spec", "spec", f'must be "{SPEC}", got {_show(spec)}')
    kind = _string(obj["type"], "type")
    if kind not in _SCHEMAS:
        _fail(
            "unknown_type",
            "type",
            f"must be one of {', '.join(_SCHEMAS)}, got {_show(kind)}",
        )
    return (
        kind,
        _statement_id(obj["id"], "id"),
        _party_id(obj["issuer"], "issuer"),
        parse_time(obj["time"], "time"),
    )


def statement_digest(payload: bytes) -> str:
    """``"sha256:" + hex(sha256(payload))``: how statements reference each other."""
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def parse_header(payload: bytes) -> Header:
    """Decode ``payload`` and check only the common fields (SPEC §3).

    The payload must still be a well-formed statement object (size, UTF-8,
    JSON, no duplicate keys); the type-specific fields are not checked.
    """
    obj = _decode(payload)
    kind, statement_id, issuer, time = _common(obj)
    return Header(spec=SPEC, type=kind, id=statement_id, issuer=issuer, time=time)


_ALLOWED: Final = {
    kind: schema.allowed | {REPLACES} if kind in REPLACEABLE else schema.allowed
    for kind, schema in _SCHEMAS.items()
}
"""Each type's allowed keys, ``replaces`` included where a statement may correct another."""


def parse_statement(payload: bytes) -> Statement:
    """Parse and validate the verbatim ``payload`` of a statement (SPEC §3).

    Raises :class:`~ledger.errors.StatementError` with a specific ``code`` and
    the dotted ``field`` path of the first problem found.

    A payload in the encoders' form (compact, sorted keys, no escapes) is read by
    :func:`~ledger.statements.fast.fast_statement`; anything else, and every error,
    by the full strict path (:func:`parse_statement_strict`): the same model or error.
    """
    statement = fast_statement(payload)
    return parse_statement_strict(payload) if statement is None else statement


def parse_statement_strict(payload: bytes) -> Statement:
    """:func:`parse_statement` through strict JSON and the per-field validators alone."""
    obj = _decode(payload)
    kind, statement_id, issuer, time = _common(obj)
    schema = _SCHEMAS[kind]
    _check_keys(obj, "", schema.required, _ALLOWED[kind])
    common: _Common = {
        "id": statement_id,
        "issuer": issuer,
        "time": time,
        "payload": bytes(payload),
        "digest": statement_digest(payload),
        **parse_replaces(obj),
    }
    return schema.parse(obj, common)
