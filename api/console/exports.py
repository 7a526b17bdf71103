"""Evidence bundles exported from the console: the list a party sees on a lot's page.

The bundle itself is :meth:`provenance.context.VerificationContext.export_bundle`'s
zip (the same as ``GET /v1/lots/{lot}/bundle`` and ``custody bundle export``), kept
in the home under ``console-exports/<id>.zip``; the table ``console_exports``
(in the ledger's database, in a metadata of its own like the API's token tables)
records who exported which lot, when, for which CBP entry, and the verdict at
export. A party lists and downloads only its own exports.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, Engine, Index, String, insert, select
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from ledger.errors import NotFoundError


class ConsoleModel(SQLModel, registry=registry()):
    """Base of the console's own tables (a metadata apart from the ledger's)."""


class ExportRow(ConsoleModel, table=True):
    __tablename__ = "console_exports"
    __table_args__ = (Index("ix_console_exports_party_lot", "party", "lot"),)
    id: str = Field(sa_column=Column(String(32), primary_key=True))
    party: str = Field(sa_column=Column(String(64), nullable=False))
    lot: str = Field(sa_column=Column(String(200), nullable=False))
    entry_number: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    verdict: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))


EXPORTS = ExportRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Export:
    id: str
    party: str
    lot: str
    entry_number: str | None
    verdict: str
    created_at: int
    size: int

    @property
    def created(self) -> str:
        return datetime.fromtimestamp(self.created_at / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


class ExportStore:
    """The console's record of exported bundles, and their files under ``folder``."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder

    def create_schema(self) -> None:
        ConsoleModel.metadata.create_all(self.engine, tables=[EXPORTS])

    def drop_schema(self) -> None:
        ConsoleModel.metadata.drop_all(self.engine, tables=[EXPORTS])

    def new_path(self) -> tuple[str, Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        export_id = secrets.token_hex(16)
        return export_id, self.folder / f"{export_id}.zip"

    def add(
        self, export_id: str, party: str, lot: str, entry_number: str | None, verdict: str
    ) -> Export:
        size = (self.folder / f"{export_id}.zip").stat().st_size
        row = Export(export_id, party, lot, entry_number, verdict, int(time.time() * 1000), size)
        with self.engine.connect() as conn:
            conn = conn.execution_options(custody_write=True)
            with conn.begin():
                conn.execute(insert(EXPORTS).values(**row.__dict__))
        return row

    def of(self, party: str, lot: str | None = None) -> list[Export]:
        q = select(EXPORTS).where(EXPORTS.c.party == party)
        if lot is not None:
            q = q.where(EXPORTS.c.lot == lot)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q.order_by(EXPORTS.c.created_at.desc()).limit(200)))
            conn.rollback()
        return [
            Export(r.id, r.party, r.lot, r.entry_number, r.verdict, int(r.created_at), int(r.size))
            for r in rows
        ]

    def file(self, party: str, export_id: str) -> tuple[Export, Path]:
        """The export ``export_id`` of ``party`` and its zip; NotFoundError otherwise."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(EXPORTS).where(EXPORTS.c.id == export_id, EXPORTS.c.party == party)
            ).first()
            conn.rollback()
        path = self.folder / f"{export_id}.zip"
        if r is None or not path.is_file():
            raise NotFoundError("no such export of yours", details={"export": export_id})
        export = Export(
            r.id, r.party, r.lot, r.entry_number, r.verdict, int(r.created_at), int(r.size)
        )
        return export, path
