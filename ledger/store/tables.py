"""The SQLModel tables of the ledger database and their SQLAlchemy ``Table`` objects.

``entries``, ``nodes``, ``head``, ``meta`` and ``checkpoints`` hold the log
itself, ``cosignatures`` the witnesses' cosignatures of its checkpoints;
``parties``, ``keys``, ``lots``, ``holdings``, ``dispatches``,
``lot_refs`` and ``party_refs`` are derived from the leaves (``ledger audit``
re-derives and compares every one of them).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Column, Index, LargeBinary, String, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class EntryRow(SQLModel, table=True):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("issuer", "stmt_id", name="uq_entries_issuer_id"),
        Index("ix_entries_digest", "digest"),
        Index("ix_entries_type_issuer", "type", "issuer"),
    )
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    digest: str = Field(sa_column=Column(String(71), nullable=False))
    issuer: str = Field(sa_column=Column(String(64), nullable=False))
    stmt_id: str = Field(sa_column=Column(String(128), nullable=False))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    received_at: str = Field(sa_column=Column(String(40), nullable=False))


NODE_INDEX_BITS = 48


def node_id(level: int, idx: int) -> int:
    """One integer key per perfect subtree: ``level << 48 | idx`` (a single-column
    primary key keeps proof lookups to one index probe per node)."""
    return (level << NODE_INDEX_BITS) | idx


class NodeRow(SQLModel, table=True):
    """Hash of the perfect subtree (level, idx); level 0 are the leaf hashes."""

    __tablename__ = "nodes"
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class HeadRow(SQLModel, table=True):
    """The single row naming the log head; also the PostgreSQL append lock."""

    __tablename__ = "head"
    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: str = Field(sa_column=Column(String(40), nullable=False))


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"
    name: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoints"
    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    note: str = Field(sa_column=Column(Text, nullable=False))


class CosignatureRow(SQLModel, table=True):
    """A witness's cosignature/v1 line over the checkpoint of ``size`` (not derived
    from the leaves: the witnesses' answers, kept as received and checked)."""

    __tablename__ = "cosignatures"
    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    witness: str = Field(sa_column=Column(String(600), primary_key=True))
    line: str = Field(sa_column=Column(Text, nullable=False))
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))


class PartyRow(SQLModel, table=True):
    __tablename__ = "parties"
    id: str = Field(primary_key=True)
    name: str
    country: str
    subdivision: str | None = None
    roles: str  # comma-separated
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class KeyRow(SQLModel, table=True):
    __tablename__ = "keys"
    kid: str = Field(primary_key=True)
    party: str = Field(index=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    added_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    revoked_seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    reason: str | None = None
    effective: str | None = None


class LotRow(SQLModel, table=True):
    __tablename__ = "lots"
    id: str = Field(primary_key=True)
    creator: str = Field(index=True)
    material: str
    unit: str
    quantity: str  # exact decimal, base unit
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class HoldingRow(SQLModel, table=True):
    __tablename__ = "holdings"
    __table_args__ = (Index("ix_holdings_party", "party"),)
    lot: str = Field(primary_key=True)
    party: str = Field(primary_key=True)
    quantity: str  # exact decimal, base unit


class DispatchRow(SQLModel, table=True):
    __tablename__ = "dispatches"
    digest: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    lot: str = Field(index=True)
    sender: str
    to: str = Field(index=True)
    quantity: str
    received: str | None = None
    receipt_seq: int | None = Field(default=None, sa_column=Column(BigInteger))


class LotRefRow(SQLModel, table=True):
    """Which statements mention which lot, and how (provenance index)."""

    __tablename__ = "lot_refs"
    __table_args__ = (Index("ix_lot_refs_seq", "seq"),)
    lot: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(primary_key=True)


class PartyRefRow(SQLModel, table=True):
    """Which statements register or change a party's keys (party, key, revoke)."""

    __tablename__ = "party_refs"
    party: str = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


ENTRIES = _table(EntryRow)
NODES = _table(NodeRow)
HEAD = _table(HeadRow)
META = _table(MetaRow)
CHECKPOINTS = _table(CheckpointRow)
COSIGNATURES = _table(CosignatureRow)
PARTIES = _table(PartyRow)
KEYS = _table(KeyRow)
LOTS = _table(LotRow)
HOLDINGS = _table(HoldingRow)
DISPATCHES = _table(DispatchRow)
LOT_REFS = _table(LotRefRow)
PARTY_REFS = _table(PartyRefRow)


STATE_TABLES = ("parties", "keys", "lots", "holdings", "dispatches", "lot_refs", "party_refs")
