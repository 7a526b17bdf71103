"""Login challenges and bearer tokens, stored next to the ledger but apart from it.

Two tables of the API's own (the ledger package knows nothing of them), in
their own SQLModel metadata, created by :func:`api.app.create_app`:

* ``api_challenges``: a nonce handed to a client for one (party, kid); used at
  most once, and only before it expires;
* ``api_tokens``: the SHA-256 of each bearer token issued (never the token
  itself), with its party, key id and expiry.

They live in the ledger's database so that several server processes sharing
one PostgreSQL ledger accept each other's challenges and tokens. Times are
integer milliseconds since the epoch.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Engine, Index, String, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from ledger.errors import ConfigError

PURGE_EVERY_MS = 60_000


class ApiModel(SQLModel, registry=registry()):
    """Base of the API's own tables (a metadata apart from the ledger's)."""


class ChallengeRow(ApiModel, table=True):
    __tablename__ = "api_challenges"
    __table_args__ = (Index("ix_api_challenges_expires", "expires_at"),)
    nonce: str = Field(sa_column=Column(String(64), primary_key=True))
    party: str = Field(sa_column=Column(String(64), nullable=False))
    kid: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class TokenRow(ApiModel, table=True):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_expires", "expires_at"),)
    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    party: str = Field(sa_column=Column(String(64), nullable=False))
    kid: str = Field(sa_column=Column(String(64), nullable=False))
    issued_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))


CHALLENGES = ChallengeRow.__table__  # type: ignore[attr-defined]
TOKENS = TokenRow.__table__  # type: ignore[attr-defined]
API_TABLES = (CHALLENGES, TOKENS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class TokenRecord:
    party: str
    kid: str
    expires_at: int


class TokenStore:
    """Challenges and tokens in the ledger's database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], int] = now_ms) -> None:
        self.engine = engine
        self.clock = clock
        self._last_purge = 0
        self._purge_lock = threading.Lock()

    def create_schema(self) -> None:
        """Create the tables if missing. Several workers may start at once and race
        to create them: the loser's error is retried after the winner's commit."""
        for attempt in range(5):
            try:
                ApiModel.metadata.create_all(self.engine, tables=list(API_TABLES))
            except SQLAlchemyError as e:
                if attempt == 4:
                    raise ConfigError(f"cannot create the API's tables: {e}") from e
                time.sleep(0.2 * (attempt + 1))
            else:
                return

    def drop_schema(self) -> None:
        ApiModel.metadata.drop_all(self.engine, tables=list(API_TABLES))

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # ``custody_write`` makes the ledger's SQLite engine open the transaction
        # with BEGIN IMMEDIATE (no read-to-write upgrade); PostgreSQL ignores it.
        with self.engine.connect() as conn:
            conn = conn.execution_options(custody_write=True)
            with conn.begin():
                yield conn

    def _maybe_purge(self, conn: Connection, now: int) -> None:
        with self._purge_lock:
            if now - self._last_purge < PURGE_EVERY_MS:
                return
            self._last_purge = now
        conn.execute(delete(CHALLENGES).where(CHALLENGES.c.expires_at <= now))
        conn.execute(delete(TOKENS).where(TOKENS.c.expires_at <= now))

    # ------------------------------------------------------------ challenges

    def new_challenge(self, party: str, kid: str, ttl_s: int) -> tuple[str, int]:
        """A fresh 256-bit nonce for (party, kid); returns (nonce hex, expiry ms)."""
        nonce = secrets.token_hex(32)
        now = self.clock()
        expires = now + ttl_s * 1000
        with self._write() as conn:
            self._maybe_purge(conn, now)
            conn.execute(
                insert(CHALLENGES).values(nonce=nonce, party=party, kid=kid, expires_at=expires)
            )
        return nonce, expires

    def consume_challenge(self, nonce: str, party: str, kid: str) -> bool:
        """Delete the live challenge; True only for the first caller (no replay)."""
        now = self.clock()
        with self._write() as conn:
            done = conn.execute(
                delete(CHALLENGES).where(
                    CHALLENGES.c.nonce == nonce,
                    CHALLENGES.c.party == party,
                    CHALLENGES.c.kid == kid,
                    CHALLENGES.c.expires_at > now,
                )
            )
            return done.rowcount == 1

    # ---------------------------------------------------------------- tokens

    def issue(self, party: str, kid: str, ttl_s: int) -> tuple[str, int]:
        """A new bearer token; only its hash is stored. Returns (token, expiry ms)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + ttl_s * 1000
        with self._write() as conn:
            conn.execute(
                insert(TOKENS).values(
                    token_hash=token_hash(token),
                    party=party,
                    kid=kid,
                    issued_at=now,
                    expires_at=expires,
                )
            )
        return token, expires

    def lookup(self, token: str) -> TokenRecord | None:
        """The live token's record, or None (unknown, revoked or expired)."""
        now = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(TOKENS.c.party, TOKENS.c.kid, TOKENS.c.expires_at).where(
                    TOKENS.c.token_hash == token_hash(token)
                )
            ).first()
            conn.rollback()
        if row is None or int(row.expires_at) <= now:
            return None
        return TokenRecord(str(row.party), str(row.kid), int(row.expires_at))

    def revoke(self, token: str) -> None:
        with self._write() as conn:
            conn.execute(delete(TOKENS).where(TOKENS.c.token_hash == token_hash(token)))
