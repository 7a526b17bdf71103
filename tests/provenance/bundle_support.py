"""Shared by the bundle tests: the multi-tier chain, the exported bundle, zip helpers.

The chain (``build_chain``) is realistic and multi-tier: two farms (one in
Texas, one in Xinjiang) → a gin (which also sells lint to another spinner) →
a spinner (with polyester bought outside the ledger) → a weaving mill → a
garment factory in Honduras → an exporter that only holds and ships on → the
importer, who declares CBP entry ``ABC-1234567-8``. Shipments carry bills of
lading and invoices; a lab binds an isotope test to the lint. Its verdict is
``fail`` (HIGH-RISK-REGION) with an UNTRACED gap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provenance.bundle import (
    BundleVerification,
    export_bundle,
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
    if "CUSTODY_PROFILE" in os.environ:  # the document profile the tests chose
        env["CUSTODY_PROFILE"] = os.environ["CUSTODY_PROFILE"]
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
