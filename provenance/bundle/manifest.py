"""The bundle manifest: its names, its strict schema, and how export writes it.

``manifest.json`` is unsigned: nothing in it is believed until checked against
the signed checkpoint (proofs) or the members (hashes). Before any of it is
used, :func:`parse_manifest` reads it with :mod:`ledger.strictjson` (UTF-8, no
duplicate keys, no ``NaN``, bounded depth) and validates the whole document
against the schema below; anything else is a :class:`ManifestError` whose
message names the field::

    spec               "custody-bundle/1"
    subject            non-empty string        (unsigned: a claim, see --entry-number)
    entry_number       string or null          (optional)
    created            non-empty string
    checkpoint         non-empty string        (the signed note)
    verifier_key       non-empty string
    entries            [{seq: int >= 0, leaf_hash: hex64, proof: [hex64] (<= 64),
                         path: string}]
    documents          [{sha256: hex64, name: str, kind: str, media_type: str|null,
                         size: int >= 0 | null, path: "documents/<sha256>"}]  (optional)
    missing_documents  [{sha256: hex64, name: str, kind: str,
                         referenced_by: [str]}]                               (optional)
    report             {json: str, html: str}                                  (optional)
    key_rotations      [{seq, leaf_hash, proof, path: "rotations/<seq>.json"}] (optional;
                        operator key rotations in the tree, docs/decisions/0006)
    consistency        [{checkpoint: non-empty string, proof: [hex64] (<= 64)}] (optional;
                        later cosigned checkpoints, :mod:`provenance.bundle.consistency`)

Unknown keys are refused at every level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ledger import strictjson
from ledger.leaf import format_received_at as format_time

if TYPE_CHECKING:  # the report renderer loads only when a bundle is exported
    from provenance.report.html import DocumentRef

__all__ = [
    "INTEGRITY",
    "MANIFEST",
    "REPORT_HTML",
    "REPORT_JSON",
    "SPEC",
    "Manifest",
    "ManifestConsistency",
    "ManifestDocument",
    "ManifestEntry",
    "ManifestError",
    "MissingDocument",
    "build_manifest",
    "json_bytes",
    "manifest_bytes",
    "parse_manifest",
]

SPEC: Final = "custody-bundle/1"
MANIFEST: Final = "manifest.json"
REPORT_JSON: Final = "report.json"
REPORT_HTML: Final = "report.html"
INTEGRITY: Final = "INTEGRITY"

LEAF_NAME: Final = re.compile(r"leaves/(0|[1-9][0-9]{0,17})\.json")
DOC_NAME: Final = re.compile(r"documents/([0-9a-f]{64})")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_PROOF = 64


class ManifestError(ValueError):
    """The manifest is not valid JSON or does not match the schema."""


@dataclass(frozen=True)
class ManifestEntry:
    seq: int
    leaf_hash: str
    proof: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class ManifestDocument:
    sha256: str
    name: str
    kind: str
    media_type: str | None
    size: int | None
    path: str


@dataclass(frozen=True)
class MissingDocument:
    sha256: str
    name: str
    kind: str
    referenced_by: tuple[str, ...]


@dataclass(frozen=True)
class ManifestConsistency:
    """A later checkpoint (a note, with cosignatures) and the consistency proof to it."""

    checkpoint: str
    proof: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    """A manifest that passed the schema (its contents still unverified)."""

    subject: str
    entry_number: str | None
    created: str
    checkpoint: str
    verifier_key: str
    entries: tuple[ManifestEntry, ...]
    documents: tuple[ManifestDocument, ...]
    missing_documents: tuple[MissingDocument, ...]
    key_rotations: tuple[ManifestEntry, ...] = ()
    """Operator key rotations in the checkpoint's tree (:mod:`.rotations`)."""
    profile: str | None = None
    """The document policy profile the exporter verified with (information only)."""
    consistency: tuple[ManifestConsistency, ...] = ()
    """Later cosigned checkpoints with consistency proofs (:mod:`.consistency`)."""


# ---------------------------------------------------------------- reading


def _object(value: Any, where: str, required: Sequence[str], optional: Sequence[str]) -> None:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} is not an object")
    unknown = sorted(k for k in value if k not in required and k not in optional)
    if unknown:
        shown = ", ".join(repr(k[:60]) for k in unknown[:5])
        raise ManifestError(f"{where} has unknown key(s) {shown}")
    for key in required:
        if key not in value:
            raise ManifestError(f"{_at(where, key)} is missing")


def _at(where: str, key: str) -> str:
    return key if where == "the manifest" else f"{where}.{key}"


def _string(value: Any, where: str, *, empty: bool = True, null: bool = False) -> str | None:
    if value is None and null:
        return None
    if not isinstance(value, str) or (not empty and not value):
        what = "a non-empty string" if not empty else "a string"
        raise ManifestError(f"{where} is not {what}" + (" or null" if null else ""))
    return value


def _hex64(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ManifestError(f"{where} is not 64 lowercase hex digits")
    return value


def _count(value: Any, where: str, *, null: bool = False) -> int | None:
    if value is None and null:
        return None
    if type(value) is not int or value < 0:
        raise ManifestError(f"{where} is not a non-negative integer" + (" or null" if null else ""))
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ManifestError(f"{where} is not a list")
    return value


_ENTRY_KEYS: Final = frozenset(("seq", "leaf_hash", "proof", "path"))
_HEX: Final = re.compile(r"[0-9a-f]*")


def _entry(value: Any, where: str) -> ManifestEntry:
    # the common case checked in bulk; anything else takes the field-by-field
    # path below, which names what is wrong
    if type(value) is dict and value.keys() == _ENTRY_KEYS:
        seq, leaf, proof, path = value["seq"], value["leaf_hash"], value["proof"], value["path"]
        if (
            type(seq) is int
            and seq >= 0
            and type(leaf) is str
            and len(leaf) == 64
            and type(path) is str
            and type(proof) is list
            and len(proof) <= _MAX_PROOF
            and _hex_list(leaf, proof)
        ):
            return ManifestEntry(seq=seq, leaf_hash=leaf, proof=tuple(proof), path=path)
    return _entry_checked(value, where)


def _hex_list(leaf: str, proof: list[Any]) -> bool:
    """True when every item of ``proof`` is 64 lowercase hex digits, as ``leaf`` is."""
    try:
        joined = leaf + "".join(proof)
    except TypeError:  # an item that is not a string
        return False
    return {64}.issuperset(map(len, proof)) and _HEX.fullmatch(joined) is not None


def _entry_checked(value: Any, where: str) -> ManifestEntry:
    _object(value, where, ("seq", "leaf_hash", "proof", "path"), ())
    proof = _list(value["proof"], f"{where}.proof")
    if len(proof) > _MAX_PROOF:
        raise ManifestError(f"{where}.proof is longer than any tree allows")
    return ManifestEntry(
        seq=_count(value["seq"], f"{where}.seq") or 0,
        leaf_hash=_hex64(value["leaf_hash"], f"{where}.leaf_hash"),
        proof=tuple(_hex64(h, f"{where}.proof[{i}]") for i, h in enumerate(proof)),
        path=_string(value["path"], f"{where}.path") or "",
    )


def _consistency(value: Any, where: str) -> ManifestConsistency:
    _object(value, where, ("checkpoint", "proof"), ())
    proof = _list(value["proof"], f"{where}.proof")
    if len(proof) > _MAX_PROOF:
        raise ManifestError(f"{where}.proof is longer than any tree allows")
    return ManifestConsistency(
        checkpoint=_string(value["checkpoint"], f"{where}.checkpoint", empty=False) or "",
        proof=tuple(_hex64(h, f"{where}.proof[{i}]") for i, h in enumerate(proof)),
    )


def _document(value: Any, where: str) -> ManifestDocument:
    _object(value, where, ("sha256", "name", "kind", "path"), ("media_type", "size"))
    sha = _hex64(value["sha256"], f"{where}.sha256")
    path = _string(value["path"], f"{where}.path") or ""
    if path != f"documents/{sha}":
        raise ManifestError(f"{where}.path is not documents/<its sha256>")
    return ManifestDocument(
        sha256=sha,
        name=_string(value["name"], f"{where}.name") or "",
        kind=_string(value["kind"], f"{where}.kind") or "",
        media_type=_string(value.get("media_type"), f"{where}.media_type", null=True),
        size=_count(value.get("size"), f"{where}.size", null=True),
        path=path,
    )


def _missing(value: Any, where: str) -> MissingDocument:
    _object(value, where, ("sha256", "name", "kind"), ("referenced_by",))
    refs = _list(value.get("referenced_by", []), f"{where}.referenced_by")
    return MissingDocument(
        sha256=_hex64(value["sha256"], f"{where}.sha256"),
        name=_string(value["name"], f"{where}.name") or "",
        kind=_string(value["kind"], f"{where}.kind") or "",
        referenced_by=tuple(
            _string(r, f"{where}.referenced_by[{i}]") or "" for i, r in enumerate(refs)
        ),
    )


_TOP_REQUIRED = ("spec", "subject", "created", "checkpoint", "verifier_key", "entries")
_TOP_OPTIONAL = (
    "entry_number",
    "documents",
    "missing_documents",
    "report",
    "key_rotations",
    "profile",
    "consistency",
)


def parse_manifest(raw: bytes) -> Manifest:
    """``manifest.json`` parsed strictly and checked against the whole schema."""
    try:
        m = strictjson.loads(raw)
    except strictjson.JsonError as e:
        raise ManifestError(f"not valid JSON ({e.message})") from None
    if not isinstance(m, dict):
        raise ManifestError("not a JSON object")
    if m.get("spec") != SPEC:
        shown = repr(m.get("spec"))[:80]
        raise ManifestError(f"spec is {shown}, not {SPEC!r}")
    _object(m, "the manifest", _TOP_REQUIRED, _TOP_OPTIONAL)
    report = m.get("report")
    if report is not None:
        _object(report, "report", (), ("json", "html"))
        for key, val in report.items():
            _string(val, f"report.{key}")
    return Manifest(
        subject=_string(m["subject"], "subject", empty=False) or "",
        entry_number=_string(m.get("entry_number"), "entry_number", null=True),
        created=_string(m["created"], "created", empty=False) or "",
        checkpoint=_string(m["checkpoint"], "checkpoint", empty=False) or "",
        verifier_key=_string(m["verifier_key"], "verifier_key", empty=False) or "",
        entries=tuple(
            _entry(e, f"entries[{i}]") for i, e in enumerate(_list(m["entries"], "entries"))
        ),
        documents=tuple(
            _document(d, f"documents[{i}]")
            for i, d in enumerate(_list(m.get("documents", []), "documents"))
        ),
        missing_documents=tuple(
            _missing(d, f"missing_documents[{i}]")
            for i, d in enumerate(_list(m.get("missing_documents", []), "missing_documents"))
        ),
        key_rotations=tuple(
            _entry(e, f"key_rotations[{i}]")
            for i, e in enumerate(_list(m.get("key_rotations", []), "key_rotations"))
        ),
        profile=_string(m.get("profile"), "profile", null=True),
        consistency=tuple(
            _consistency(c, f"consistency[{i}]")
            for i, c in enumerate(_list(m.get("consistency", []), "consistency"))
        ),
    )


# ---------------------------------------------------------------- writing


def build_manifest(
    lot: str,
    entry_number: str | None,
    created: datetime,
    note: str,
    verifier_key: str,
    hashes: Mapping[int, bytes],
    proofs: Mapping[int, Sequence[bytes]],
    documents: Sequence[DocumentRef],
) -> dict[str, Any]:
    """The manifest of an export, as a JSON-ready dict (see the module docstring)."""
    return {
        "spec": SPEC,
        "subject": lot,
        "entry_number": entry_number,
        "created": format_time(created),
        "checkpoint": note,
        "verifier_key": verifier_key,
        "entries": [
            {
                "seq": seq,
                "leaf_hash": hashes[seq].hex(),
                "proof": [h.hex() for h in proofs[seq]],
                "path": f"leaves/{seq}.json",
            }
            for seq in sorted(hashes)
        ],
        "documents": [
            {
                "sha256": d.sha256,
                "name": d.name,
                "kind": d.kind,
                "media_type": d.media_type,
                "size": d.size,
                "path": f"documents/{d.sha256}",
            }
            for d in documents
            if d.present
        ],
        "missing_documents": [
            {
                "sha256": d.sha256,
                "name": d.name,
                "kind": d.kind,
                "referenced_by": list(d.referenced_by),
            }
            for d in documents
            if not d.present
        ],
        "report": {"json": REPORT_JSON, "html": REPORT_HTML},
    }


def json_bytes(obj: Any) -> bytes:
    """Indented UTF-8 JSON with a final newline (``report.json``)."""
    return (json.dumps(obj, indent=1, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as indented JSON with one line per entry (readable, and fast to write:
    the long ``entries`` list goes through the C encoder, which does not indent)."""
    head = json_bytes({k: v for k, v in manifest.items() if k != "entries"}).decode("utf-8")
    lines = ",\n  ".join(
        json.dumps(e, separators=(", ", ": "), ensure_ascii=False) for e in manifest["entries"]
    )
    body = f' "entries": [\n  {lines}\n ]' if lines else ' "entries": []'
    text = head.rstrip()[:-1].rstrip() + ",\n" + body + "\n}\n"
    return text.encode("utf-8")
