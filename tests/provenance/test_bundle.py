"""Evidence bundles: export, offline verification in a fresh process, tampering, zip safety.

The chain (``build_chain``) is realistic and multi-tier: two farms (one in
Texas, one in Xinjiang) → a gin (which also sells lint to another spinner) →
a spinner (with polyester bought outside the ledger) → a weaving mill → a
garment factory in Honduras → an exporter that only holds and ships on → the
importer, who declares CBP entry ``ABC-1234567-8``. Shipments carry bills of
lading and invoices; a lab binds an isotope test to the lint. Its verdict is
``fail`` (HIGH-RISK-REGION) with an UNTRACED gap.

Each tampering test alters a copy of one exported bundle the way an attacker
would and checks that ``verify_bundle`` names the member and what is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.checkpoint import NoteSigner, sign_note, split_note
from ledger.errors import InputError
from ledger.keys import PrivateKey
from provenance.bundle import (
    SPEC,
    BundleVerification,
    UnsafeBundleError,
    ZipLimits,
    export_bundle,
    read_zip,
    verify_bundle,
)
from tests.support import Actor, World, q, site

BIN = Path(sys.executable).with_name("custody")
CUSTODY = str(BIN) if BIN.exists() else (shutil.which("custody") or "custody")
CREATED = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)

ENTRY = "ABC-1234567-8"
SUBJECT = "importer/tshirts-1"


@dataclass
class Chain:
    world: World
    subject: str = SUBJECT
    entry: str = ENTRY
    documents: dict[str, str] = field(default_factory=dict)  # name -> sha256
    digests: dict[str, str] = field(default_factory=dict)


def _doc(world: World, tmp: Path, name: str, body: bytes) -> str:
    path = tmp / name
    path.write_bytes(body)
    sha, _ = world.home.store_document(path)
    return sha


def _ship(
    sender: Actor,
    receiver: Actor,
    lot: str,
    quantity: str,
    unit: str,
    documents: list[dict[str, Any]] | None = None,
    received: str | None = None,
) -> tuple[str, str]:
    body: dict[str, Any] = {"lot": lot, "quantity": q(quantity), "unit": unit, "to": receiver.id}
    if documents:
        body["documents"] = documents
    d = sender.submit("dispatch", **body)
    assert d.digest is not None
    r = receiver.submit("receipt", dispatch=d.digest, quantity=q(received or quantity), unit=unit)
    assert r.digest is not None
    return d.digest, r.digest


def build_chain(world: World, tmp: Path, *, xinjiang: bool = True, external: bool = True) -> Chain:
    chain = Chain(world)
    docs = tmp / "docs"
    docs.mkdir(exist_ok=True)
    farm = world.party("farm-tx", "Lubbock Cotton Farm LLC", "US", subdivision="US-TX",
                       address="4102 County Road 7300, Lubbock, TX 79423")  # fmt: skip
    farm2 = world.party("farm-xj", "Aksu Cotton Cooperative", "CN", subdivision="CN-XJ",
                        address="Aksu Prefecture, Xinjiang")  # fmt: skip
    gin = world.party("gin", "Plains Gin Co", "US", subdivision="US-TX",
                      address="1 Gin Road, Levelland, TX 79336")  # fmt: skip
    spinner = world.party("spinner", "Carolina Spinning Inc", "US", subdivision="US-NC",
                          address="200 Mill St, Gastonia, NC 28052")  # fmt: skip
    other = world.party("spinner2", "Georgia Yarns", "US", subdivision="US-GA")
    mill = world.party("mill", "Piedmont Weaving Co", "US", subdivision="US-SC",
                       address="55 Loom Ave, Spartanburg, SC 29301")  # fmt: skip
    factory = world.party("factory", "San Pedro Garments S.A.", "HN",
                          address="Zona Libre, San Pedro Sula, Cortés")  # fmt: skip
    exporter = world.party("exporter", "Caribe Logistics S. de R.L.", "HN",
                           address="Puerto Cortés")  # fmt: skip
    importer = world.party("importer", "Acme Apparel Inc", "US", roles=("importer", "supplier"),
                           address="350 Fifth Avenue, New York, NY 10118")  # fmt: skip
    lab = world.party("lab", "Oritain Testing Lab", "NZ", roles=("lab",))
    # unrelated to the subject: neither its party nor its lot belong in the bundle
    world.party("farm-ca", "Central Valley Farms", "US", subdivision="US-CA").submit(
        "origin",
        lot={"id": "farm-ca/seed-1", "material": "cotton.seed", "quantity": q(5000), "unit": "kg"},
        site=site("Fresno farm", "US", "US-CA"),
    )

    farm.submit("origin", lot={"id": "farm-tx/seed-1", "material": "cotton.seed",
                               "quantity": q(80000), "unit": "kg"},
                site=site("Lubbock farm", "US", "US-TX"))  # fmt: skip
    bol1 = _doc(world, docs, "bol-farm-gin.pdf", b"%PDF-1.4\nBill of lading TX-0001\n")
    _ship(farm, gin, "farm-tx/seed-1", "80", "t",
          [{"sha256": bol1, "kind": "bill_of_lading", "name": "bol-farm-gin.pdf"}])  # fmt: skip
    inputs = [{"lot": "farm-tx/seed-1", "quantity": q(80000), "unit": "kg"}]
    if xinjiang:
        farm2.submit("origin", lot={"id": "farm-xj/seed-1", "material": "cotton.seed",
                                    "quantity": q(20000), "unit": "kg"},
                     site=site("Aksu field 12", "CN", "CN-XJ"))  # fmt: skip
        _ship(farm2, gin, "farm-xj/seed-1", "20", "t")
        inputs.append({"lot": "farm-xj/seed-1", "quantity": q(20000), "unit": "kg"})
    lint_kg = 35000 if xinjiang else 28000
    gin.submit("transform", process="cotton.ginning", inputs=inputs,
               outputs=[{"id": "gin/lint-1", "material": "cotton.lint",
                         "quantity": q(lint_kg), "unit": "kg"},
                        {"id": "gin/cottonseed-1", "material": "cotton.cottonseed",
                         "quantity": q(lint_kg + lint_kg // 2), "unit": "kg"}],
               site=site("Plains gin", "US", "US-TX"))  # fmt: skip
    iso = _doc(world, docs, "isotope-test-lint-1.pdf", b"%PDF-1.4\nIsotope origin test: lint-1\n")
    lab.submit("evidence", lots=["gin/lint-1"], kind="isotope_test",
               document={"sha256": iso, "name": "isotope-test-lint-1.pdf",
                         "media_type": "application/pdf", "size": 34},
               claims={"consistent_with": "US-TX"})  # fmt: skip
    inv = _doc(world, docs, "invoice-gin-spinner.pdf", b"%PDF-1.4\nInvoice G-77\n")
    _ship(gin, spinner, "gin/lint-1", "20000", "kg",
          [{"sha256": inv, "kind": "invoice", "name": "invoice-gin-spinner.pdf"}])  # fmt: skip
    _ship(gin, other, "gin/lint-1", "5000", "kg")
    spin: dict[str, Any] = {
        "process": "yarn.spinning",
        "inputs": [{"lot": "gin/lint-1", "quantity": q(20000), "unit": "kg"}],
        "outputs": [{"id": "spinner/yarn-1", "material": "yarn.cotton",
                     "quantity": q(18000), "unit": "kg"}],
        "site": site("Gastonia mill", "US", "US-NC"),
    }  # fmt: skip
    if external:
        spin["external_inputs"] = [{"material": "fiber.polyester", "quantity": q(1000),
                                    "unit": "kg", "supplier": "Hai Long Fibers",
                                    "country": "VN"}]  # fmt: skip
    spinner.submit("transform", **spin)
    _ship(spinner, mill, "spinner/yarn-1", "18", "t")
    mill.submit("transform", process="fabric.weaving",
                inputs=[{"lot": "spinner/yarn-1", "quantity": q(18000), "unit": "kg"}],
                outputs=[{"id": "mill/fabric-1", "material": "fabric.cotton",
                          "quantity": q(16500), "unit": "kg"}],
                site=site("Spartanburg plant", "US", "US-SC"))  # fmt: skip
    bol2 = _doc(world, docs, "bol-mill-factory.pdf", b"%PDF-1.4\nOcean bill of lading MSC-42\n")
    _ship(mill, factory, "mill/fabric-1", "16500", "kg",
          [{"sha256": bol2, "kind": "bill_of_lading", "name": "bol-mill-factory.pdf"}])  # fmt: skip
    factory.submit("transform", process="apparel.cut_and_sew",
                   inputs=[{"lot": "mill/fabric-1", "quantity": q(16500), "unit": "kg"}],
                   outputs=[{"id": SUBJECT, "material": "apparel.tshirt",
                             "quantity": q(60000), "unit": "pcs", "mass_kg": q(13200)}],
                   site=site("San Pedro Sula plant", "HN"))  # fmt: skip
    pl = _doc(world, docs, "packing-list.pdf", b"%PDF-1.4\nPacking list PL-9\n")
    _ship(factory, exporter, SUBJECT, "60000", "pcs",
          [{"sha256": pl, "kind": "packing_list", "name": "packing-list.pdf"}])  # fmt: skip
    bol3 = _doc(world, docs, "bol-export.pdf", b"%PDF-1.4\nBill of lading HN-US 7\n")
    _ship(exporter, importer, SUBJECT, "60000", "pcs",
          [{"sha256": bol3, "kind": "bill_of_lading", "name": "bol-export.pdf"}])  # fmt: skip
    importer.submit("import", lot=SUBJECT, quantity=q(60000), unit="pcs", entry_number=ENTRY,
                    hts="6109.10.0012", port="Savannah, GA", country_of_origin="HN")  # fmt: skip
    chain.documents = {
        "bol-farm-gin.pdf": bol1,
        "isotope-test-lint-1.pdf": iso,
        "invoice-gin-spinner.pdf": inv,
        "bol-mill-factory.pdf": bol2,
        "packing-list.pdf": pl,
        "bol-export.pdf": bol3,
    }
    return chain


# --------------------------------------------------------------------------- fixtures


@dataclass
class Exported:
    world: World
    chain: Chain
    path: Path
    key: str
    summary: Any
    tmp: Path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    tmp = tmp_path_factory.mktemp("bundle")
    world = World(tmp / "home")
    chain = build_chain(world, tmp)
    out = tmp / "entry.zip"
    summary = export_bundle(
        world.ledger,
        SUBJECT,
        out,
        entry_number=ENTRY,
        documents_dir=world.home.documents,
        created=CREATED,
    )
    return Exported(world, chain, out, world.ledger.verifier_key(), summary, tmp)


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Another ledger with the same origin name (its leaves must not pass for ours)."""
    world = World(tmp_path_factory.mktemp("foreign") / "home")
    farm = world.party("farm-tx", "Lubbock Cotton Farm LLC", "US", subdivision="US-TX")
    for i in range(40):
        farm.submit("origin", lot={"id": f"farm-tx/other-{i}", "material": "cotton.seed",
                                   "quantity": q(100 + i), "unit": "kg"},
                    site=site("Lubbock farm", "US", "US-TX"))  # fmt: skip
    return world


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_members(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def manifest_of(members: dict[str, bytes]) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(members["manifest.json"])
    return manifest


def put_manifest(members: dict[str, bytes], manifest: dict[str, Any]) -> None:
    members["manifest.json"] = json.dumps(manifest, indent=1).encode()


def tamper(exported: Exported, tmp: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    members = read_members(exported.path)
    edit(members)
    return write_members(tmp / "tampered.zip", members)


def messages(result: BundleVerification, rule: str = "INTEGRITY") -> list[str]:
    return [f.message for f in result.findings if f.rule == rule]


def middle_seq(members: dict[str, bytes]) -> int:
    entries = manifest_of(members)["entries"]
    return int(entries[len(entries) // 2]["seq"])


def run_cli(*args: str, cwd: Path, code: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    proc = subprocess.run(
        [CUSTODY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if code is not None:
        assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def finding_keys(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (f["rule"], f["severity"], f["message"], tuple(f["statements"])) for f in doc["findings"]
    ]


# --------------------------------------------------------------------------- export


def test_bundle_holds_manifest_leaves_documents_and_reports_in_order(exported: Exported):
    with zipfile.ZipFile(exported.path) as zf:
        names = [i.filename for i in zf.infolist()]
        assert all(i.date_time == (2026, 4, 1, 12, 0, 0) for i in zf.infolist())
    manifest = json.loads(read_members(exported.path)["manifest.json"])
    seqs = [e["seq"] for e in manifest["entries"]]
    shas = sorted(exported.chain.documents.values())
    assert names == [
        "manifest.json",
        *(f"leaves/{s}.json" for s in seqs),
        *(f"documents/{s}" for s in shas),
        "report.json",
        "report.html",
    ]
    assert seqs == sorted(seqs)
    assert seqs[0] == 0
    assert manifest["spec"] == SPEC == "custody-bundle/1"
    assert manifest["subject"] == SUBJECT
    assert manifest["entry_number"] == ENTRY
    assert manifest["created"] == "2026-04-01T12:00:00.000000Z"
    assert manifest["verifier_key"] == exported.key
    assert manifest["checkpoint"] == exported.world.ledger.checkpoint()
    assert manifest["missing_documents"] == []
    assert {d["sha256"] for d in manifest["documents"]} == set(shas)
    for e in manifest["entries"]:
        assert e["path"] == f"leaves/{e['seq']}.json"
        assert e["leaf_hash"] == exported.world.ledger.prove(e["seq"]).leaf_hash.hex()
        assert e["proof"] == [h.hex() for h in exported.world.ledger.prove(e["seq"]).proof]
    # the verbatim leaf bytes, and every statement the verification needs (not the whole ledger)
    members = read_members(exported.path)
    for s in seqs:
        assert members[f"leaves/{s}.json"] == exported.world.ledger.leaf(s)
    assert len(seqs) < exported.world.ledger.size()
    assert exported.summary.entries == len(seqs)
    assert exported.summary.documents == 6
    assert exported.summary.checkpoint.size == exported.world.ledger.size()


def test_export_is_deterministic(exported: Exported, tmp_path: Path):
    again = export_bundle(
        exported.world.ledger,
        SUBJECT,
        tmp_path / "again.zip",
        entry_number=ENTRY,
        documents_dir=exported.world.home.documents,
        created=CREATED,
    )
    assert again.path.read_bytes() == exported.path.read_bytes()


def test_entry_number_must_match_an_import_of_the_lot(exported: Exported, tmp_path: Path):
    with pytest.raises(InputError) as e:
        export_bundle(
            exported.world.ledger, SUBJECT, tmp_path / "x.zip", entry_number="XYZ-0000000-0"
        )
    assert e.value.code == "invalid_input.entry_number"
    assert "XYZ-0000000-0" in e.value.message
    assert ENTRY in e.value.message  # says which entry the lot is declared as
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lot_without_import_can_be_bundled(exported: Exported, tmp_path: Path):
    out = tmp_path / "fabric.zip"
    summary = export_bundle(
        exported.world.ledger, "mill/fabric-1", out, documents_dir=exported.world.home.documents
    )
    result = verify_bundle(out, operator_key=exported.key)
    assert messages(result) == []
    assert result.subject == "mill/fabric-1"
    assert result.entry_number is None
    assert result.verdict == summary.verdict


def test_documents_missing_from_the_store_are_listed_and_flagged(
    exported: Exported, tmp_path: Path
):
    out = tmp_path / "nodocs.zip"
    summary = export_bundle(exported.world.ledger, SUBJECT, out, entry_number=ENTRY)
    assert sorted(summary.missing_documents) == sorted(exported.chain.documents.values())
    manifest = manifest_of(read_members(out))
    assert manifest["documents"] == []
    assert {d["sha256"] for d in manifest["missing_documents"]} == set(
        exported.chain.documents.values()
    )
    result = verify_bundle(out, operator_key=exported.key)
    # documents not produced are a DOCUMENT gap (or info for outsiders), never INTEGRITY
    absent = [m for m in messages(result, "DOCUMENT") if "is not produced" in m]
    assert len(absent) == 6
    assert not [m for m in messages(result) if "document" in m]
    assert result.verdict == "fail"  # HIGH-RISK-REGION, not the documents


# --------------------------------------------------------------------------- round trip


def test_round_trip_offline_in_a_fresh_process_matches_custody_verify(
    exported: Exported, tmp_path: Path
):
    home = str(exported.world.home.path)
    online = run_cli("verify", SUBJECT, "--home", home, "--json", cwd=tmp_path)
    expected = json.loads(online.stdout)
    # a fresh process, in an empty folder, with no home and no ledger: only the zip and the key
    offline = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", exported.key, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert not (tmp_path / "custody-data").exists()
    got = json.loads(offline.stdout)
    assert got["verdict"] == expected["verdict"] == "fail"
    assert offline.returncode == online.returncode == 1
    assert finding_keys(got) == finding_keys(expected)
    assert {f["rule"] for f in got["findings"]} >= {"HIGH-RISK-REGION", "UNTRACED"}
    assert got["composition"] == expected["composition"]
    assert got["untraced_share"] == expected["untraced_share"]
    assert got["subject"] == SUBJECT
    assert got["pinned"] is True
    cp = exported.summary.checkpoint
    assert got["checkpoint"] == {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}
    assert "not pinned" not in offline.stderr.lower()
    # the human form prints the same verdict, findings and composition
    text = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", exported.key, cwd=tmp_path,
        code=1,
    )  # fmt: skip
    assert "verdict: fail" in text.stdout
    assert "HIGH-RISK-REGION" in text.stdout
    assert "composition" in text.stdout


def test_report_json_in_the_bundle_is_the_report_at_export(exported: Exported):
    result = verify_bundle(exported.path, operator_key=exported.key)
    assert result.report is not None
    stored = json.loads(read_members(exported.path)["report.json"])
    assert stored == json.loads(json.dumps(result.report.to_json(), default=str))
    assert messages(result) == []


def test_a_clean_chain_passes_with_exit_0(tmp_path: Path):
    world = World(tmp_path / "home")
    build_chain(world, tmp_path, xinjiang=False, external=False)
    out = tmp_path / "clean.zip"
    export_bundle(
        world.ledger, SUBJECT, out, entry_number=ENTRY, documents_dir=world.home.documents
    )
    proc = run_cli(
        "bundle", "verify", str(out), "--operator-key", world.ledger.verifier_key(), "--json",
        cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert [f for f in doc["findings"] if f["severity"] in ("error", "gap")] == []
    assert (doc["verdict"], proc.returncode) == ("pass", 0)


def test_without_a_pinned_key_the_cli_warns_loudly(exported: Exported, tmp_path: Path):
    proc = run_cli("bundle", "verify", str(exported.path), "--json", cwd=tmp_path, code=1)
    assert "WARNING" in proc.stderr
    assert "not pinned" in proc.stderr
    assert json.loads(proc.stdout)["pinned"] is False


def test_operator_key_may_be_a_file(exported: Exported, tmp_path: Path):
    key_file = tmp_path / "operator.vkey"
    key_file.write_text("# custody.test operator\n" + exported.key + "\n")
    proc = run_cli(
        "bundle", "verify", str(exported.path), "--operator-key", str(key_file), "--json",
        cwd=tmp_path, code=1,
    )  # fmt: skip
    assert json.loads(proc.stdout)["pinned"] is True


def test_cli_export_prints_where_size_entries_and_verdict(exported: Exported, tmp_path: Path):
    out = tmp_path / "cli.zip"
    proc = run_cli(
        "bundle", "export", SUBJECT, "-o", str(out), "--entry-number", ENTRY,
        "--home", str(exported.world.home.path), cwd=tmp_path, code=0,
    )  # fmt: skip
    assert str(out) in proc.stdout
    assert f"size {exported.world.ledger.size()}" in proc.stdout
    assert f"{exported.summary.entries} ledger entries" in proc.stdout
    assert "verdict at export: fail" in proc.stdout
    bad = run_cli(
        "bundle", "export", SUBJECT, "-o", str(tmp_path / "bad.zip"), "--entry-number", "NOPE-1",
        "--home", str(exported.world.home.path), cwd=tmp_path, code=1,
    )  # fmt: skip
    assert "invalid_input.entry_number" in bad.stderr
    assert not (tmp_path / "bad.zip").exists()


# --------------------------------------------------------------------------- tampering


def _flip_leaf_byte(m: dict[str, bytes]) -> None:
    name = f"leaves/{middle_seq(m)}.json"
    data = bytearray(m[name])
    i = data.index(b'"received_at":"') + len(b'"received_at":"') + 3
    data[i] = ord("7") if data[i] != ord("7") else ord("8")
    m[name] = bytes(data)


def _remove_leaf(m: dict[str, bytes]) -> None:
    del m[f"leaves/{middle_seq(m)}.json"]


def _flip_proof(m: dict[str, bytes]) -> None:
    manifest = manifest_of(m)
    entry = next(e for e in manifest["entries"] if e["seq"] == middle_seq(m))
    h = entry["proof"][0]
    entry["proof"][0] = ("1" if h[0] != "1" else "2") + h[1:]
    put_manifest(m, manifest)


def _edit_checkpoint(line: int, value: Callable[[str], str]) -> Callable[[dict[str, bytes]], None]:
    def edit(m: dict[str, bytes]) -> None:
        manifest = manifest_of(m)
        text, _ = split_note(manifest["checkpoint"])
        lines = text.split("\n")
        lines[line] = value(lines[line])
        manifest["checkpoint"] = manifest["checkpoint"].replace(text, "\n".join(lines), 1)
        put_manifest(m, manifest)

    return edit


def _other_root(b64: str) -> str:
    return base64.b64encode(hashlib.sha256(b64.encode()).digest()).decode()


def _resign(m: dict[str, bytes]) -> None:
    from ledger.checkpoint import verifier_key

    manifest = manifest_of(m)
    text, _ = split_note(manifest["checkpoint"])
    origin = text.split("\n")[0]
    impostor = NoteSigner(origin, PrivateKey.generate().seed)
    manifest["checkpoint"] = sign_note(text, origin, impostor.sign, impostor.public_key)
    manifest["verifier_key"] = verifier_key(origin, impostor.public_key)
    put_manifest(m, manifest)


def _doc_name(m: dict[str, bytes], file: str) -> str:
    manifest = manifest_of(m)
    sha = next(d["sha256"] for d in manifest["documents"] if d["name"] == file)
    return f"documents/{sha}"


def _change_document(m: dict[str, bytes]) -> None:
    name = _doc_name(m, "invoice-gin-spinner.pdf")
    m[name] = m[name].replace(b"G-77", b"G-78")


def _remove_document(m: dict[str, bytes]) -> None:
    del m[_doc_name(m, "bol-mill-factory.pdf")]


def _expect_leaf(m: dict[str, bytes]) -> str:
    return f"leaves/{middle_seq(m)}.json"


def _says_leaf_hash(m: dict[str, bytes]) -> str:
    return f"{_expect_leaf(m)}: leaf hash does not match the manifest"


def _says_leaf_missing(m: dict[str, bytes]) -> str:
    return f"{_expect_leaf(m)}: listed in the manifest but missing from the bundle"


def _says_proof(m: dict[str, bytes]) -> str:
    seq = middle_seq(m)
    return f"manifest.json: inclusion proof for seq {seq} does not verify against the checkpoint"


def _says_checkpoint(m: dict[str, bytes]) -> str:
    return "manifest.json: the checkpoint is not validly signed by the operator key"


def _says_document_hash(m: dict[str, bytes]) -> str:
    return f"{_doc_name(m, 'invoice-gin-spinner.pdf')}: content hash is "


def _says_document_absent(m: dict[str, bytes]) -> str:
    name = _doc_name(m, "bol-mill-factory.pdf")
    return f"{name}: 'bol-mill-factory.pdf' (bill_of_lading) is referenced by 1 statement(s)"


TAMPERING = [
    pytest.param(_flip_leaf_byte, _says_leaf_hash, id="leaf-byte-changed"),
    pytest.param(_remove_leaf, _says_leaf_missing, id="leaf-removed"),
    pytest.param(_flip_proof, _says_proof, id="proof-hash-changed"),
    pytest.param(_resign, _says_checkpoint, id="checkpoint-resigned-with-another-key"),
    pytest.param(
        _edit_checkpoint(1, lambda s: str(int(s) + 1)),
        _says_checkpoint,
        id="checkpoint-size-edited",
    ),
    pytest.param(_edit_checkpoint(2, _other_root), _says_checkpoint, id="checkpoint-root-edited"),
    pytest.param(_change_document, _says_document_hash, id="document-bytes-changed"),
    pytest.param(_remove_document, _says_document_absent, id="document-removed"),
]


@pytest.mark.parametrize(("edit", "expected"), TAMPERING)
def test_tampering_is_detected_and_named(
    exported: Exported,
    tmp_path: Path,
    edit: Callable[[dict[str, bytes]], None],
    expected: Callable[[dict[str, bytes]], str],
):
    original = read_members(exported.path)
    want = expected(original)
    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    found = messages(result)
    assert any(m.startswith(want) for m in found), found
    assert result.verdict == "fail"
    assert all(f.severity == "error" for f in result.findings if f.message.startswith(want))


def test_a_leaf_from_another_ledger_is_refused(exported: Exported, foreign: World, tmp_path: Path):
    members = read_members(exported.path)
    manifest = manifest_of(members)
    present = {e["seq"] for e in manifest["entries"]}
    seq = next(s for s in range(1, foreign.ledger.size()) if s not in present)
    proof = foreign.ledger.prove(seq)
    members[f"leaves/{seq}.json"] = foreign.ledger.leaf(seq)
    manifest["entries"].append(
        {
            "seq": seq,
            "leaf_hash": proof.leaf_hash.hex(),
            "proof": [h.hex() for h in proof.proof],
            "path": f"leaves/{seq}.json",
        }
    )
    put_manifest(members, manifest)
    result = verify_bundle(write_members(tmp_path / "t.zip", members), operator_key=exported.key)
    assert (
        f"manifest.json: inclusion proof for seq {seq} does not verify against the checkpoint"
        in " ".join(messages(result))
    )
    assert result.verdict == "fail"
    # the foreign statement was left out of the rules: its lot appears nowhere
    assert result.report is not None
    assert "farm-tx/other" not in json.dumps(result.to_json())


def test_a_leaf_added_without_a_manifest_entry_is_flagged(
    exported: Exported, foreign: World, tmp_path: Path
):
    members = read_members(exported.path)
    members["leaves/999.json"] = foreign.ledger.leaf(3)
    result = verify_bundle(write_members(tmp_path / "t.zip", members), operator_key=exported.key)
    assert "leaves/999.json: not listed in the manifest; ignored" in messages(result)
    assert result.verdict == "fail"


def test_a_resigned_checkpoint_verifies_only_when_the_key_is_not_pinned(
    exported: Exported, tmp_path: Path
):
    path = tamper(exported, tmp_path, _resign)
    unpinned = verify_bundle(path)
    assert unpinned.pinned is False
    assert not any("checkpoint" in m for m in messages(unpinned))
    pinned = verify_bundle(path, operator_key=exported.key)
    assert pinned.pinned is True
    assert any("not validly signed" in m for m in messages(pinned))


def test_report_json_edited_to_pass_does_not_change_the_verdict(exported: Exported, tmp_path: Path):
    clean = verify_bundle(exported.path, operator_key=exported.key)

    def edit(m: dict[str, bytes]) -> None:
        report = json.loads(m["report.json"])
        report["verdict"] = "pass"
        report["findings"] = []
        m["report.json"] = json.dumps(report).encode()

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict == clean.verdict == "fail"
    warning = [f for f in result.findings if f.message.startswith("report.json:")]
    assert len(warning) == 1
    assert warning[0].rule == "INTEGRITY"
    assert warning[0].severity == "warning"
    assert "it says verdict 'pass', recomputed 'fail'" in warning[0].message
    rest = [f for f in result.findings if f is not warning[0]]
    assert [f.to_json() for f in rest] == [f.to_json() for f in clean.findings]


def test_report_html_edited_is_flagged_and_ignored(exported: Exported, tmp_path: Path):
    def edit(m: dict[str, bytes]) -> None:
        m["report.html"] = m["report.html"].replace(b"verdict-fail", b"verdict-pass")

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict == "fail"
    assert any(m.startswith("report.html: differs") for m in messages(result))


def test_removing_the_xinjiang_evidence_entirely_cannot_make_it_pass(
    exported: Exported, tmp_path: Path
):
    """What a bundle cannot prove offline: omissions. Still, a lot without its
    origin does not trace, so the verdict never becomes ``pass``."""

    def edit(m: dict[str, bytes]) -> None:
        manifest = manifest_of(m)
        keep = []
        for e in manifest["entries"]:
            leaf = m[e["path"]]
            if b"farm-xj" in base64.b64decode(json.loads(leaf)["envelope"]["payload"]) and (
                b'"transform"' not in base64.b64decode(json.loads(leaf)["envelope"]["payload"])
            ):
                del m[e["path"]]
                continue
            keep.append(e)
        manifest["entries"] = keep
        put_manifest(m, manifest)

    result = verify_bundle(tamper(exported, tmp_path, edit), operator_key=exported.key)
    assert result.verdict != "pass"
    assert "HIGH-RISK-REGION" not in {f.rule for f in result.findings}
    assert any("farm-xj/seed-1" in f.message for f in result.findings if f.rule == "UNTRACED")


# --------------------------------------------------------------------------- zip safety


def _zip_with(tmp: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    path = tmp / "evil.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we want
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_path_traversal_is_refused_and_nothing_is_written(exported: Exported, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    members = read_members(exported.path)
    members["../x"] = b"escaped"
    members["../../tmp/evil"] = b"escaped"
    path = write_members(work / "traversal.zip", members)
    before = _snapshot(tmp_path)
    result = verify_bundle(path, operator_key=exported.key)
    assert result.verdict == "fail"
    assert messages(result) == [
        "../x: member name walks out of the bundle (path traversal); the bundle was refused "
        "and nothing in it was read"
    ]
    assert result.report is None
    proc = run_cli("bundle", "verify", str(path), "--operator-key", exported.key, cwd=work, code=1)
    assert "path traversal" in proc.stdout
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "x").exists()
    assert not Path("/tmp/evil").exists()


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path):
    path = _zip_with(
        tmp_path, [("manifest.json", b"{}"), ("documents/" + "0" * 64, bytes(64 << 20))]
    )
    assert path.stat().st_size < 1 << 20
    result = verify_bundle(path)
    assert result.verdict == "fail"
    (message,) = messages(result)
    assert message.startswith(f"documents/{'0' * 64}: compression ratio ")
    assert "zip bomb" in message


def _lying_sizes(tmp: Path) -> Path:
    """A member that declares 100 bytes but inflates to 8 MiB."""
    path = _zip_with(tmp, [("report.html", bytes(8 << 20))])
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _zip_of(*entries: tuple[zipfile.ZipInfo | str, bytes]) -> Callable[[Path], Path]:
    return lambda tmp: _zip_with(tmp, list(entries))


def _garbage(tmp: Path) -> Path:
    path = tmp / "evil.zip"
    path.write_bytes(b"PK\x03\x04 not a zip")
    return path


UNSAFE = [
    pytest.param(_zip_of(("../x", b"x")), "path traversal", id="dot-dot"),
    pytest.param(_zip_of(("leaves/../../x", b"x")), "path traversal", id="dot-dot-inside"),
    pytest.param(_zip_of(("/etc/passwd", b"x")), "absolute path", id="absolute"),
    pytest.param(_zip_of(("C:/x", b"x")), "absolute path", id="drive-letter"),
    pytest.param(_zip_of(("..\\x", b"x")), "backslash", id="backslash"),
    pytest.param(_zip_of((_symlink("documents/link"), b"/etc/passwd")), "symlink", id="symlink"),
    pytest.param(_zip_of(("leaves/", b"")), "not a regular file", id="directory"),
    pytest.param(_zip_of(("a", b"1"), ("a", b"2")), "duplicate member name", id="duplicate"),
    pytest.param(
        _zip_of(*((f"leaves/{i}.json", b"{}") for i in range(11))),
        "more than 10 members",
        id="too-many-members",
    ),
    pytest.param(
        _zip_of(*((f"documents/{i}", os.urandom(400)) for i in range(4))),
        "more than 1000 bytes uncompressed",
        id="too-many-bytes",
    ),
    pytest.param(_zip_of(("report.html", bytes(5000))), "compression ratio", id="ratio"),
    pytest.param(_lying_sizes, "not a readable zip archive", id="size-lie"),
    pytest.param(_garbage, "not a readable zip archive", id="garbage"),
]


@pytest.mark.parametrize(("make", "reason"), UNSAFE)
def test_unsafe_zips_are_refused(tmp_path: Path, make: Callable[[Path], Path], reason: str):
    limits = ZipLimits(max_members=10, max_total_bytes=1000, max_ratio=20, ratio_floor=1000)
    path = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(UnsafeBundleError) as e:
        read_zip(path, limits)
    assert reason in str(e.value)
    result = verify_bundle(path, limits=limits)
    assert result.verdict == "fail"
    assert reason in messages(result)[0]
    assert _snapshot(tmp_path) == before


def test_default_limits_read_the_exported_bundle(exported: Exported):
    members = read_zip(exported.path)
    assert set(members) == set(read_members(exported.path))
