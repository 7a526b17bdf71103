"""The serialised append transaction: entries, tree nodes, derived state, head,
checkpoint in one batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, update

from ledger.custody import Changes
from ledger.store.bulk import (
    DISPATCHES_BULK,
    ENTRIES_BULK,
    HOLDINGS_BULK,
    KEYS_BULK,
    LOT_REFS_BULK,
    LOTS_BULK,
    NODES_BULK,
    PARTIES_BULK,
    PARTY_REFS_BULK,
)
from ledger.store.read import ReadTx
from ledger.store.records import EntryTuple, Head
from ledger.store.tables import CHECKPOINTS, HEAD, META


class WriteTx(ReadTx):
    """Reads and writes inside the serialised append transaction."""

    def set_meta(self, name: str, value: str) -> None:
        self.conn.execute(delete(META).where(META.c.name == name))
        self.conn.execute(insert(META).values(name=name, value=value))

    def append_rows(
        self,
        entries: Sequence[EntryTuple],
        nodes: Sequence[tuple[int, bytes]],
        lot_refs: Sequence[tuple[str, int, str]],
        party_refs: Sequence[tuple[str, int]],
        head: Head,
        changes: Changes,
        checkpoint: tuple[int, str] | None,
    ) -> None:
        """Write one batch with the rows already built: entries in
        :data:`~ledger.store.bulk.ENTRY_COLUMNS` order, nodes as ``(node_id, hash)``, lot refs as
        ``(lot, seq, role)`` and party refs as ``(party, seq)``, each without
        repeats."""
        if not entries:
            return
        bulk, conn = self.bulk, self.conn
        bulk.insert(conn, ENTRIES_BULK, entries)
        bulk.insert(conn, NODES_BULK, nodes)
        bulk.insert(conn, LOT_REFS_BULK, lot_refs)
        bulk.insert(conn, PARTY_REFS_BULK, party_refs)
        self._write_state(changes)
        self._set_head(head)
        if checkpoint is not None:
            self.conn.execute(
                insert(CHECKPOINTS),
                [{"size": checkpoint[0], "note": checkpoint[1]}],
            )

    def _set_head(self, head: Head) -> None:
        values = {
            "size": head.size,
            "last_leaf_hash": head.last_leaf_hash,
            "received_at": head.received_at,
        }
        done = self.conn.execute(update(HEAD).where(HEAD.c.id == 1).values(**values))
        if done.rowcount == 0:
            self.conn.execute(insert(HEAD).values(id=1, **values))

    def _write_state(self, ch: Changes) -> None:
        """Upsert the state rows a batch changed (one statement per table)."""
        if ch.operator is not None:
            self.set_meta("operator", ch.operator)
        bulk, conn = self.bulk, self.conn
        bulk.insert(
            conn,
            PARTIES_BULK,
            [
                (p.id, p.name, p.country, p.subdivision, ",".join(p.roles), p.seq)
                for p in ch.parties.values()
            ],
        )
        bulk.insert(
            conn,
            KEYS_BULK,
            [
                (
                    k.kid,
                    k.party,
                    k.public_key,
                    k.added_seq,
                    k.revoked_seq,
                    k.reason,
                    None if k.effective is None else k.effective.isoformat(),
                )
                for k in ch.keys.values()
            ],
        )
        bulk.insert(
            conn,
            LOTS_BULK,
            [
                (lot.id, lot.creator, lot.material, lot.unit, str(lot.quantity), lot.seq)
                for lot in ch.lots.values()
            ],
        )
        bulk.insert(
            conn,
            DISPATCHES_BULK,
            [
                (
                    d.digest,
                    d.seq,
                    d.lot,
                    d.sender,
                    d.to,
                    str(d.quantity),
                    None if d.received is None else str(d.received),
                    d.receipt_seq,
                )
                for d in ch.dispatches.values()
            ],
        )
        bulk.insert(conn, HOLDINGS_BULK, [(lot, p, str(q)) for (lot, p), q in ch.holdings.items()])
