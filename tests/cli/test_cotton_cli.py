"""A cotton supply chain built only through the ``custody`` command, run for real.

The first run of every command is a subprocess of the installed ``custody``
script with ``--home`` in a temporary folder (repeats of a command run the same
typer app in the test's process), read as a user would read it: exit codes (0 ok, 1
rejected, 2 usage), the one-line outputs, and ``--json`` documents.

1. ``test_cotton_chain_through_attest``: farm → gin → two spinners (a partial
   dispatch each) → mill → garment factory → importer, with shipping
   documents, evidence, a CBP import, key rotation, rejections, ``lots show``
   / ``lots held``, ``--out`` + ``submit`` and a clean ``ledger audit``.

Hand-written statements are in ``test_cotton_cli_statements.py``; the helpers
in ``tests/cli/support.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tests.cli.support import Cli, new_cli, seq_line


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    # each command's first run is a real process; its repeats run in this process
    return new_cli(tmp_path, repeat_in_process=True)


@pytest.mark.slow
def test_cotton_chain_through_attest(cli: Cli) -> None:
    names = ("farm", "gin", "spinner", "spinner2", "mill", "factory", "importer", "gin-2027",
             "stranger")  # fmt: skip
    kids = cli.parallel([("keys", "generate", "--out", str(cli.dir / n)) for n in names])
    assert all(len(k.split()[0]) == 64 for k in kids)
    assert (cli.dir / "farm.key").stat().st_mode & 0o777 == 0o600
    cli.register(
        "farm", "Lubbock Cotton Farm", "US", "--subdivision", "US-TX", "--role", "supplier"
    )
    cli.register("gin", "Plains Gin Co", "US", "--subdivision", "US-TX", "--role", "supplier",
                 "--duns", "123456789")  # fmt: skip
    cli.register(
        "spinner", "Carolina Spinning", "US", "--subdivision", "US-NC", "--role", "supplier"
    )
    cli.register("spinner2", "Georgia Yarns", "US", "--subdivision", "US-GA", "--role", "supplier")
    cli.register("mill", "Piedmont Weaving", "US", "--subdivision", "US-SC", "--role", "supplier")
    cli.register("factory", "San Pedro Garments", "HN", "--role", "supplier",
                 "--address", "Zona Libre, San Pedro Sula")  # fmt: skip
    seq = cli.register("importer", "Acme Apparel Inc", "US", "--role", "importer,supplier",
                       "--lei", "5493001KJTIIGC8Y1R12")  # fmt: skip
    assert seq == 7

    # the farm harvests: human output is "seq N  sha256:..."
    out = cli.run(
        "attest", "origin", "--key", "farm.key", "--lot", "farm/seed-2026-1",
        "--material", "cotton.seed", "--quantity", "12000", "--unit", "kg",
        "--site", "Lubbock farm", "--country", "US", "--subdivision", "US-TX",
        "--lat", "33.5779", "--lon", "-101.8552", "--time", "2026-09-01T14:00:00Z",
    )  # fmt: skip
    seq, digest = seq_line(out.stdout)
    assert seq == 8
    assert digest.startswith("sha256:")

    # farm -> gin, 12 t with a bill of lading; the gin receives everything
    (cli.dir / "bol-farm-gin.pdf").write_bytes(b"%PDF-1.4 bill of lading TX-0001\n")
    d = cli.attest(
        "dispatch", "--key", "farm.key", "--lot", "farm/seed-2026-1", "--quantity", "12",
        "--unit", "t", "--to", "gin", "--document", "bol-farm-gin.pdf:bill_of_lading",
        "--time", "2026-09-03T09:00:00Z",
    )  # fmt: skip
    sha_bol = hashlib.sha256(b"%PDF-1.4 bill of lading TX-0001\n").hexdigest()
    assert (cli.home / "documents" / sha_bol).is_file()
    held = cli.json("lots", "held", "--party", "gin")
    assert held["holdings"] == []
    assert [(x["lot"], x["from"], x["quantity"]) for x in held["in_transit_in"]] == [
        ("farm/seed-2026-1", "farm", "12000")
    ]
    r = cli.attest(
        "receipt", "--key", "gin.key", "--dispatch", d["digest"], "--time", "2026-09-04T08:00:00Z"
    )
    assert r["seq"] == d["seq"] + 1
    seed = cli.json("lots", "show", "farm/seed-2026-1")
    assert (seed["creator"], seed["quantity"], seed["unit"]) == ("farm", "12000", "kg")
    assert seed["holdings"] == [{"party": "gin", "quantity": "12000"}]  # 12 t, received in full
    assert (seed["statements"][0]["seq"], seed["statements"][0]["id"]) == (
        8,
        "origin/farm/seed-2026-1",
    )

    # ginning: seed cotton into lint and cottonseed
    cli.attest(
        "transform", "--key", "gin.key", "--process", "cotton.ginning",
        "--input", "farm/seed-2026-1:12000kg",
        "--output", "gin/lint-1:cotton.lint:4200kg",
        "--output", "gin/cottonseed-1:cotton.cottonseed:7000kg",
        "--site", "Plains gin", "--country", "US", "--subdivision", "US-TX",
        "--time", "2026-09-06T10:00:00Z",
    )  # fmt: skip

    # partial dispatches of the lint to two buyers, 200 kg stay at the gin
    to_s1 = cli.attest(
        "dispatch", "--key", "gin.key", "--lot", "gin/lint-1", "--quantity", "2500",
        "--unit", "kg", "--to", "spinner", "--time", "2026-09-08T10:00:00Z",
    )  # fmt: skip
    to_s2 = cli.attest(
        "dispatch", "--key", "gin.key", "--lot", "gin/lint-1", "--quantity", "1.5",
        "--unit", "t", "--to", "spinner2", "--time", "2026-09-08T11:00:00Z",
    )  # fmt: skip
    lint = cli.json("lots", "show", "gin/lint-1")
    assert lint["quantity"] == "4200"
    assert lint["unit"] == "kg"
    assert lint["holdings"] == [{"party": "gin", "quantity": "200"}]
    assert sorted((x["to"], x["quantity"]) for x in lint["in_transit"]) == [
        ("spinner", "2500"),
        ("spinner2", "1500"),
    ]
    # a third dispatch would be a double-spend: rejected, exit 1, nothing appended
    bad = cli.run(
        "attest", "dispatch", "--key", "gin.key", "--lot", "gin/lint-1", "--quantity", "201",
        "--unit", "kg", "--to", "spinner2", "--time", "2026-09-08T12:00:00Z", code=1,
    )  # fmt: skip
    assert "rejected.overdraw" in bad.stderr
    assert "gin holds 200 kg of lot 'gin/lint-1' but draws 201 kg" in bad.stderr
    cli.attest("receipt", "--key", "spinner.key", "--dispatch", to_s1["digest"],
               "--quantity", "2500", "--unit", "kg", "--time", "2026-09-10T08:00:00Z")  # fmt: skip
    short = cli.attest("receipt", "--key", "spinner2.key", "--dispatch", to_s2["digest"],
                       "--quantity", "1495", "--unit", "kg",
                       "--time", "2026-09-10T09:00:00Z")  # fmt: skip
    assert "error" not in short
    # receiving the other spinner's dispatch: not the addressee
    err = cli.attest("receipt", "--key", "spinner2.key", "--dispatch", to_s1["digest"],
                     "--quantity", "1", "--unit", "kg", "--id", "receipt/stolen",
                     code=1)  # fmt: skip
    assert err["error"]["code"] == "rejected.not_addressee"
    assert err["digest"].startswith("sha256:")

    # spinning, with 100 kg of lint bought outside the ledger
    cli.attest(
        "transform", "--key", "spinner.key", "--process", "spinning",
        "--input", "gin/lint-1:2500kg",
        "--external", "cotton.lint:100kg:US:US-TX:West Texas Gin LLC",
        "--output", "spin/yarn-1:yarn.cotton:2300kg",
        "--site", "Carolina spinning mill", "--country", "US", "--subdivision", "US-NC",
        "--time", "2026-09-15T10:00:00Z",
    )  # fmt: skip
    d = cli.attest("dispatch", "--key", "spinner.key", "--lot", "spin/yarn-1",
                   "--quantity", "2300", "--unit", "kg", "--to", "mill",
                   "--time", "2026-09-16T10:00:00Z")  # fmt: skip
    cli.attest("receipt", "--key", "mill.key", "--dispatch", d["digest"],
               "--time", "2026-09-17T10:00:00Z")  # fmt: skip

    # weaving: fabric measured in metres, with its mass
    cli.attest(
        "transform", "--key", "mill.key", "--process", "weaving",
        "--input", "spin/yarn-1:2300kg", "--output", "mill/fabric-1:fabric.cotton:9000m=2200kg",
        "--site", "Piedmont weaving", "--country", "US", "--subdivision", "US-SC",
        "--time", "2026-09-20T10:00:00Z",
    )  # fmt: skip
    d = cli.attest("dispatch", "--key", "mill.key", "--lot", "mill/fabric-1",
                   "--quantity", "9000", "--unit", "m", "--to", "factory",
                   "--time", "2026-09-21T10:00:00Z")  # fmt: skip
    cli.attest("receipt", "--key", "factory.key", "--dispatch", d["digest"],
               "--quantity", "9000", "--unit", "m", "--time", "2026-09-28T10:00:00Z")  # fmt: skip
    # a dispatch in kg of a lot measured in metres is of the wrong dimension
    wrong = cli.attest("dispatch", "--key", "factory.key", "--lot", "mill/fabric-1",
                       "--quantity", "10", "--unit", "kg", "--to", "importer", code=1)  # fmt: skip
    assert wrong["error"]["code"] == "rejected.unit_dimension"

    # sewing t-shirts
    cli.attest(
        "transform", "--key", "factory.key", "--process", "sewing",
        "--input", "mill/fabric-1:9000m=2200kg",
        "--output", "factory/tee-1:apparel.tshirt:10000pcs=1980kg",
        "--site", "San Pedro Sula plant", "--country", "HN", "--subdivision", "HN-CR",
        "--time", "2026-10-02T10:00:00Z",
    )  # fmt: skip
    (cli.dir / "invoice-0042.pdf").write_bytes(b"%PDF-1.4 commercial invoice 0042\n")
    (cli.dir / "packing-0042.csv").write_text("carton,pcs\n1,6000\n")
    ship = cli.attest(
        "dispatch", "--key", "factory.key", "--lot", "factory/tee-1", "--quantity", "6000",
        "--unit", "pcs", "--to", "importer",
        "--document", "invoice-0042.pdf:commercial_invoice",
        "--document", "packing-0042.csv:packing_list", "--time", "2026-10-05T10:00:00Z",
    )  # fmt: skip
    later = cli.attest(
        "dispatch", "--key", "factory.key", "--lot", "factory/tee-1", "--quantity", "1000",
        "--unit", "pcs", "--to", "importer", "--time", "2026-10-06T10:00:00Z",
    )  # fmt: skip
    cli.attest("receipt", "--key", "importer.key", "--dispatch", ship["digest"],
               "--time", "2026-10-20T10:00:00Z")  # fmt: skip

    # evidence: the invoice bound to the finished lot, kept out of the ledger
    ev = cli.attest(
        "evidence", "--key", "importer.key", "--lots", "factory/tee-1", "--kind", "invoice",
        "--file", "invoice-0042.pdf", "--claim", "po=PO-7781", "--claim", "pieces=6000",
        "--time", "2026-10-21T10:00:00Z",
    )  # fmt: skip
    leaf = cli.json("ledger", "show", "--seq", str(ev["seq"]))
    evidence = json.loads(base64.b64decode(leaf["envelope"]["payload"]))
    sha_inv = hashlib.sha256(b"%PDF-1.4 commercial invoice 0042\n").hexdigest()
    assert evidence["document"] == {
        "sha256": sha_inv,
        "name": "invoice-0042.pdf",
        "media_type": "application/pdf",
        "size": 33,
    }
    assert evidence["claims"] == {"po": "PO-7781", "pieces": 6000}
    assert (cli.home / "documents" / sha_inv).read_bytes() == b"%PDF-1.4 commercial invoice 0042\n"
    assert b"commercial invoice" not in (cli.home / "ledger.db").read_bytes()

    # the CBP entry
    imp = cli.run(
        "attest", "import", "--key", "importer.key", "--lot", "factory/tee-1",
        "--quantity", "6000", "--unit", "pcs", "--entry-number", "AAC-1234567-8",
        "--hts", "6109.10.0012", "--port", "Los Angeles", "--country-of-origin", "HN",
        "--time", "2026-10-22T10:00:00Z",
    )  # fmt: skip
    imp_seq, _ = seq_line(imp.stdout)
    again = cli.attest(
        "import", "--key", "importer.key", "--lot", "factory/tee-1", "--quantity", "1",
        "--unit", "pcs", "--entry-number", "AAC-1234567-9", "--time", "2026-10-22T11:00:00Z",
        code=1,
    )  # fmt: skip
    assert again["error"]["code"] == "rejected.not_held"

    tee = cli.json("lots", "show", "factory/tee-1")
    assert tee["creator"] == "factory"
    assert tee["material"] == "apparel.tshirt"
    assert tee["holdings"] == [{"party": "factory", "quantity": "3000"}]
    assert [(x["to"], x["quantity"], x["seq"]) for x in tee["in_transit"]] == [
        ("importer", "1000", later["seq"])
    ]
    assert [(s["type"], s["issuer"], s["role"]) for s in tee["statements"]] == [
        ("transform", "factory", "output"),
        ("dispatch", "factory", "dispatch"),
        ("dispatch", "factory", "dispatch"),
        ("receipt", "importer", "receipt"),
        ("evidence", "importer", "evidence"),
        ("import", "importer", "import"),
    ]
    assert tee["statements"][-1]["seq"] == imp_seq
    text = cli.run("lots", "show", "factory/tee-1").stdout
    assert "lot factory/tee-1  apparel.tshirt  10000 pcs  created by factory" in text
    assert "factory -> importer  1000 pcs" in text
    assert f"seq {imp_seq}" in text

    importer = cli.json("lots", "held", "--party", "importer")
    assert importer["holdings"] == []  # all 6000 declared to CBP
    assert [(x["lot"], x["from"], x["quantity"], x["unit"]) for x in importer["in_transit_in"]] == [
        ("factory/tee-1", "factory", "1000", "pcs")
    ]
    gin = cli.json("lots", "held", "--party", "gin")
    assert [(h["lot"], h["quantity"], h["unit"]) for h in gin["holdings"]] == [
        ("gin/cottonseed-1", "7000", "kg"),
        ("gin/lint-1", "200", "kg"),
    ]

    # key rotation: the gin adds a key, revokes the old one; the old one no longer signs
    cli.attest("key", "--key", "gin.key", "--party", "gin", "--public-key", "gin-2027.pub")
    rev = cli.run("attest", "revoke", "--key", "gin-2027.key", "--party", "gin",
                  "--public-key", "gin.pub", "--reason", "superseded")  # fmt: skip
    assert rev.stdout.startswith("seq ")
    old = cli.attest(
        "dispatch", "--key", "gin.key", "--issuer", "gin", "--lot", "gin/lint-1",
        "--quantity", "10", "--unit", "kg", "--to", "spinner2", code=1,
    )  # fmt: skip
    assert old["error"]["code"] == "bad_signature.revoked"
    new = cli.attest("dispatch", "--key", "gin-2027.key", "--lot", "gin/lint-1",
                     "--quantity", "10", "--unit", "kg", "--to", "spinner2")  # fmt: skip
    assert "seq" in new
    lint = cli.json("lots", "show", "gin/lint-1")
    assert [(x["to"], x["quantity"]) for x in lint["in_transit"]] == [("spinner2", "10")]
    assert [(x["to"], x.get("received", "-")) for x in lint["dispatches"]] == [
        ("spinner", "2500"),
        ("spinner2", "1495"),
        ("spinner2", "-"),
    ]
    # the operator revokes a compromised key of spinner2 (default signer: operator.key)
    cli.attest("revoke", "--party", "spinner2", "--public-key", "spinner2.pub",
               "--reason", "compromised", "--effective", "2026-10-01T00:00:00Z")  # fmt: skip
    stale = cli.attest("receipt", "--key", "spinner2.key", "--issuer", "spinner2",
                       "--dispatch", new["digest"], code=1)  # fmt: skip
    assert stale["error"]["code"] == "bad_signature.revoked"
    assert "(compromised)" in stale["error"]["message"]

    # --out writes the envelope; submit appends it; submitting again is idempotent
    cli.attest(
        "origin", "--key", "farm.key", "--lot", "farm/seed-2026-2", "--material", "cotton.seed",
        "--quantity", "800", "--unit", "lb", "--site", "Lubbock farm", "--country", "US",
        "--time", "2026-10-01T10:00:00Z", "--out", "origin-2.json",
    )  # fmt: skip
    first = cli.json("submit", "origin-2.json")
    replay = cli.json("submit", "origin-2.json")
    assert replay == [{**first[0], "duplicate": True}]
    seed2 = cli.json("lots", "show", "farm/seed-2026-2")
    assert seed2["quantity"] == "362.873896"  # 800 lb, exactly
    assert seed2["unit"] == "kg"

    # usage errors are exit 2, with the reason
    bad_unit = cli.run("attest", "transform", "--key", "gin-2027.key", "--process", "x",
                       "--input", "gin/lint-1:5bales", "--output", "gin/y:cotton.lint:5kg",
                       "--site", "s", "--country", "US", code=2)  # fmt: skip
    assert "unit must be one of" in bad_unit.stderr
    # a key the ledger does not know, without --issuer
    unknown = cli.run("attest", "origin", "--key", "stranger.key", "--lot", "x/1", "--material",
                      "cotton.seed", "--quantity", "5", "--unit", "kg", "--site", "s",
                      "--country", "US", code=1)  # fmt: skip
    assert "is not registered in the ledger" in unknown.stderr
    # missing lots
    assert cli.json("lots", "show", "no/such-lot", code=1)["error"]["code"] == "not_found"

    assert cli.run("ledger", "audit").stdout.startswith("ok: ")


def test_attest_help_documents_the_item_syntax(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    text = cli.run("attest", "transform", "--help", home=False).stdout
    for needle in ("LOT:AMOUNT", "LOT:MATERIAL:AMOUNT", "MATERIAL:AMOUNT:COUNTRY", "=MASSkg"):
        assert needle in text, needle
    assert "FILE:KIND" in cli.run("attest", "dispatch", "--help", home=False).stdout
    listing = cli.run("attest", "--help", home=False).stdout
    for command in ("origin", "transform", "dispatch", "receipt", "evidence", "import", "key",
                    "revoke"):  # fmt: skip
        assert command in listing
