"""Supply chains for the provenance tests, and ways to edit a ledger behind its back.

:func:`cotton` appends a small, clean cotton chain with real signed statements
(farm origin → gin → spinner → importer, with partial dispatches), with knobs
for the scenarios each rule needs. The tamper helpers write to the ledger's
tables directly, as an attacker with database access would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from ledger import merkle
from ledger.envelope import Envelope
from ledger.leaf import leaf_bytes
from ledger.statements import parse_statement
from ledger.store import StoredEntry
from provenance.graph import collect
from provenance.rules.profile import load_profile
from provenance.verify import Report, verify_entries, verify_lot
from tests.support import Actor, World, q, site

CUSTODY_ONLY = load_profile("custody-only")


@dataclass
class Chain:
    world: World
    farm: Actor
    gin: Actor
    spin: Actor
    imp: Actor
    subject: str
    seqs: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    def verify(self, **kw: Any) -> Report:
        """Verify the subject; these chains carry no trade documents, so the profile
        defaults to ``custody-only`` (the document rules have tests of their own)."""
        kw.setdefault("profile", CUSTODY_ONLY)
        return verify_lot(self.world.ledger.store, self.subject, **kw)

    def rules(self, **kw: Any) -> set[str]:
        return {f.rule for f in self.verify(**kw).findings}


def record(chain: Chain, name: str, result: Any) -> str:
    chain.seqs[name] = result.seq
    chain.digests[name] = result.digest
    return str(result.digest)


def cotton(
    world: World,
    *,
    farm_name: str = "Lubbock Farm",
    farm_site: dict[str, Any] | None = None,
    gin_name: str = "Plains Gin",
    spin_name: str = "Carolina Spinning",
    lint_kg: int = 3600,
    yarn_kg: int = 2600,
    external: dict[str, Any] | None = None,
    receipt_time_shift: int = 0,
    import_lot: bool = True,
) -> Chain:
    """A clean chain: 10 t of seed cotton → 3.6 t of lint (3 t to the spinner on the
    path, the rest to another buyer) → 2.6 t of yarn → the importer, who imports it."""
    farm = world.party("farm", farm_name, subdivision="US-TX")
    gin = world.party("gin", gin_name, subdivision="US-TX")
    spin = world.party("spin", spin_name, subdivision="US-NC")
    other = world.party("other", "Other Mill", subdivision="US-SC")
    imp = world.party("imp", "Acme Imports", roles=("importer",))
    chain = Chain(world, farm, gin, spin, imp, "spin/yarn-1")
    record(
        chain,
        "origin",
        farm.submit(
            "origin",
            lot={
                "id": "farm/seed-1",
                "material": "cotton.seed",
                "quantity": q(10000),
                "unit": "kg",
            },
            site=farm_site or site("Lubbock farm", "US", "US-TX"),
        ),
    )
    d = record(
        chain,
        "dispatch_seed",
        farm.submit("dispatch", lot="farm/seed-1", quantity=q(10000), unit="kg", to="gin"),
    )
    record(chain, "receipt_seed", gin.submit("receipt", dispatch=d, quantity=q(10000), unit="kg"))
    record(
        chain,
        "ginning",
        gin.submit(
            "transform",
            process="cotton.ginning",
            inputs=[{"lot": "farm/seed-1", "quantity": q(10000), "unit": "kg"}],
            outputs=[
                {
                    "id": "gin/lint-1",
                    "material": "cotton.lint",
                    "quantity": q(lint_kg),
                    "unit": "kg",
                },
                {
                    "id": "gin/cottonseed-1",
                    "material": "cotton.seed",
                    "quantity": q(5800),
                    "unit": "kg",
                },
            ],
            site=site("Plains gin", "US", "US-TX"),
        ),
    )
    # a partial dispatch: 3 t to the spinner on the path, the rest to another buyer
    d = record(
        chain,
        "dispatch_lint",
        gin.submit("dispatch", lot="gin/lint-1", quantity=q(3000), unit="kg", to="spin"),
    )
    t = world.tick()
    record(
        chain,
        "receipt_lint",
        spin.submit(
            "receipt",
            dispatch=d,
            quantity=q(3000),
            unit="kg",
            time=t + timedelta(minutes=receipt_time_shift),
        ),
    )
    d2 = record(
        chain,
        "dispatch_sibling",
        gin.submit("dispatch", lot="gin/lint-1", quantity=q(lint_kg - 3000), unit="kg", to="other"),
    )
    record(
        chain,
        "receipt_sibling",
        other.submit("receipt", dispatch=d2, quantity=q(lint_kg - 3000), unit="kg"),
    )
    body: dict[str, Any] = {
        "process": "yarn.spinning",
        "inputs": [{"lot": "gin/lint-1", "quantity": q(3000), "unit": "kg"}],
        "outputs": [
            {"id": "spin/yarn-1", "material": "yarn.cotton", "quantity": q(yarn_kg), "unit": "kg"}
        ],
        "site": site("Carolina mill", "US", "US-NC"),
    }
    if external is not None:
        body["external_inputs"] = [external]
    record(chain, "spinning", spin.submit("transform", **body))
    d = record(
        chain,
        "dispatch_yarn",
        spin.submit("dispatch", lot="spin/yarn-1", quantity=q(yarn_kg), unit="kg", to="imp"),
    )
    record(chain, "receipt_yarn", imp.submit("receipt", dispatch=d, quantity=q(yarn_kg), unit="kg"))
    if import_lot:
        record(
            chain,
            "import",
            imp.submit(
                "import",
                lot="spin/yarn-1",
                quantity=q(yarn_kg),
                unit="kg",
                entry_number="ABC-1234567-8",
            ),
        )
    return chain


# ------------------------------------------------------------------ tampering


def stored(world: World, seq: int) -> StoredEntry:
    with world.ledger.store.read() as r:
        return r.entry(seq)


def rewrite_leaf(world: World, seq: int, envelope: Envelope, *, fix_hashes: bool) -> bytes:
    """Replace the envelope in the leaf at ``seq`` (same seq, prev and received_at).

    With ``fix_hashes`` the stored leaf hash and Merkle leaf node are updated
    too (a careful attacker); without, only the leaf bytes change.
    """
    old = json.loads(stored(world, seq).leaf)
    leaf = leaf_bytes(seq, old["prev"], old["received_at"], envelope.to_json_obj())
    st = parse_statement(envelope.payload)
    with world.ledger.store.engine.begin() as conn:
        values: dict[str, Any] = {
            "seq": seq,
            "leaf": leaf,
            "digest": st.digest,
            "issuer": st.issuer,
            "id": st.id,
            "type": st.type,
        }
        sql = (
            "UPDATE entries SET leaf = :leaf, digest = :digest, issuer = :issuer, "
            "stmt_id = :id, type = :type"
        )
        if fix_hashes:
            values["hash"] = merkle.leaf_hash(leaf)
            sql += ", leaf_hash = :hash"
            conn.execute(text("UPDATE nodes SET hash = :hash WHERE id = :seq"), values)
        conn.execute(text(sql + " WHERE seq = :seq"), values)
    return leaf


def append_raw(world: World, envelope: Envelope, refs: list[tuple[str, str]]) -> int:
    """Append an entry without the custody checks: leaf, hash chain, Merkle leaf
    node and lot index rows, as a database editor would. Returns its seq."""
    st = parse_statement(envelope.payload)
    with world.ledger.store.read() as r:
        head = r.head()
    seq = head.size
    leaf = leaf_bytes(seq, head.last_leaf_hash.hex(), head.received_at, envelope.to_json_obj())
    lh = merkle.leaf_hash(leaf)
    with world.ledger.store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entries (seq, leaf_hash, leaf, digest, issuer, stmt_id, type, "
                "received_at) VALUES (:seq, :lh, :leaf, :digest, :issuer, :id, :type, :at)"
            ),
            {
                "seq": seq,
                "lh": lh,
                "leaf": leaf,
                "digest": st.digest,
                "issuer": st.issuer,
                "id": st.id,
                "type": st.type,
                "at": head.received_at,
            },
        )
        conn.execute(
            text("INSERT INTO nodes (id, hash) VALUES (:id, :hash)"), {"id": seq, "hash": lh}
        )
        for lot, role in refs:
            conn.execute(
                text("INSERT INTO lot_refs (lot, seq, role) VALUES (:lot, :seq, :role)"),
                {"lot": lot, "seq": seq, "role": role},
            )
        conn.execute(
            text("UPDATE head SET size = :size, last_leaf_hash = :lh WHERE id = 1"),
            {"size": seq + 1, "lh": lh},
        )
    return seq


def collected_leaves(world: World, lot: str) -> list[tuple[int, bytes]]:
    with world.ledger.store.read() as r:
        return [(e.seq, e.leaf) for e in collect(r, lot).entries]


def rechain(
    pairs: list[tuple[int, bytes]], seq: int, envelope: Envelope
) -> list[tuple[int, bytes]]:
    """Hand-built evidence: the leaf at ``seq`` carries ``envelope`` and every later
    consecutive leaf is re-linked, so that the hash chain holds (a rewritten history)."""
    out: list[tuple[int, bytes]] = []
    prev_hash: bytes | None = None
    prev_seq: int | None = None
    for s, leaf in pairs:
        obj = json.loads(leaf)
        if s == seq:
            obj["envelope"] = envelope.to_json_obj()
        if prev_hash is not None and prev_seq == s - 1 and s > seq:
            obj["prev"] = prev_hash.hex()
        data = leaf_bytes(obj["seq"], obj["prev"], obj["received_at"], obj["envelope"])
        out.append((s, data))
        prev_hash, prev_seq = merkle.leaf_hash(data), s
    return out


def append_leaf(
    pairs: list[tuple[int, bytes]], envelope: Envelope, *, received_at: str | None = None
) -> list[tuple[int, bytes]]:
    """Hand-built evidence: one more leaf after the last, chained to it."""
    last_seq, last = pairs[-1]
    obj = json.loads(last)
    leaf = leaf_bytes(
        last_seq + 1,
        merkle.leaf_hash(last).hex(),
        received_at or obj["received_at"],
        envelope.to_json_obj(),
    )
    return [*pairs, (last_seq + 1, leaf)]


def verify_pairs(pairs: list[tuple[int, bytes]], subject: str, **kw: Any) -> Report:
    kw.setdefault("profile", CUSTODY_ONLY)
    return verify_entries(pairs, subject, **kw)


def share(value: str) -> Decimal:
    return Decimal(value)
