"""Configuration of the HTTP API: where the ledger lives, and the limits it enforces.

The server reads the same home folder and database URL as the CLI
(``CUSTODY_HOME`` / ``CUSTODY_DB_URL``, SPEC §8). The limits below are the
documented defaults (``docs/api.md``); each may be changed through the
environment variable named next to it, which is how ``custody serve`` hands
configuration to uvicorn's worker processes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ledger.envelope import MAX_ENVELOPE_BYTES
from ledger.errors import ConfigError
from ledger.home import DB_URL_ENV, HOME_ENV, Home, resolve_home


@dataclass(frozen=True)
class Limits:
    """Request limits, all per server process (see ``docs/api.md``)."""

    max_batch_items: int = 1000
    """Envelopes in one ``POST /v1/entries/batch`` (``CUSTODY_API_MAX_BATCH``)."""
    max_batch_bytes: int = 16 * 1024 * 1024
    """Body of a batch (``CUSTODY_API_MAX_BATCH_BYTES``)."""
    max_envelope_bytes: int = MAX_ENVELOPE_BYTES
    """Body of ``POST /v1/entries`` (one envelope; fixed by the ledger)."""
    max_body_bytes: int = 64 * 1024
    """Body of any other request (``CUSTODY_API_MAX_BODY_BYTES``)."""
    submit_rate: float = 2000.0
    """Envelopes per second per client address, sustained; 0 disables
    (``CUSTODY_API_SUBMIT_RATE``)."""
    submit_burst: int = 4000
    """Token-bucket capacity for submissions (``CUSTODY_API_SUBMIT_BURST``)."""
    auth_rate: float = 5.0
    """Auth requests (challenge, token) per second per client address, sustained;
    0 disables (``CUSTODY_API_AUTH_RATE``)."""
    auth_burst: int = 30
    """Token-bucket capacity for auth requests (``CUSTODY_API_AUTH_BURST``)."""
    token_ttl: int = 900
    """Lifetime of a bearer token in seconds (``CUSTODY_API_TOKEN_TTL``)."""
    challenge_ttl: int = 120
    """Lifetime of an unanswered challenge in seconds (``CUSTODY_API_CHALLENGE_TTL``)."""
    clock_skew: int = 300
    """How far a signed auth timestamp may be from the server clock, in seconds."""
    page_size: int = 100
    """Default page size of ``GET /v1/statements``."""
    max_page_size: int = 1000
    """Largest page size of ``GET /v1/statements``."""
    threads: int = 12
    """Worker threads serving blocking reads (``CUSTODY_API_THREADS``); keep it
    below the database connection pool."""
    max_document_bytes: int = 20 * 1024 * 1024
    """Body of ``PUT /v1/documents/{sha256}``, one uploaded document
    (``CUSTODY_API_MAX_DOCUMENT_BYTES``)."""
    upload_ttl: int = 3600
    """Seconds an upload no visible statement names is kept before it is dropped
    (``CUSTODY_API_UPLOAD_TTL``)."""


_ENV: dict[str, str] = {
    "max_batch_items": "CUSTODY_API_MAX_BATCH",
    "max_batch_bytes": "CUSTODY_API_MAX_BATCH_BYTES",
    "max_body_bytes": "CUSTODY_API_MAX_BODY_BYTES",
    "submit_rate": "CUSTODY_API_SUBMIT_RATE",
    "submit_burst": "CUSTODY_API_SUBMIT_BURST",
    "auth_rate": "CUSTODY_API_AUTH_RATE",
    "auth_burst": "CUSTODY_API_AUTH_BURST",
    "token_ttl": "CUSTODY_API_TOKEN_TTL",
    "challenge_ttl": "CUSTODY_API_CHALLENGE_TTL",
    "threads": "CUSTODY_API_THREADS",
    "max_document_bytes": "CUSTODY_API_MAX_DOCUMENT_BYTES",
    "upload_ttl": "CUSTODY_API_UPLOAD_TTL",
}
LIMIT_ENV_VARS: tuple[str, ...] = tuple(_ENV.values())


def _number(name: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a valid {kind.__name__}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name}={text!r} must be a finite number >= 0")
    return value


def limits_from_env(environ: Mapping[str, str]) -> Limits:
    base = Limits()
    changes: dict[str, int | float] = {}
    for f in fields(Limits):
        var = _ENV.get(f.name)
        if var is None or not environ.get(var):
            continue
        kind = float if isinstance(getattr(base, f.name), float) else int
        changes[f.name] = _number(var, environ[var], kind)
    limits = replace(base, **changes)  # type: ignore[arg-type]
    for name in ("max_batch_items", "token_ttl", "challenge_ttl", "threads"):
        if getattr(limits, name) < 1:
            raise ConfigError(f"{_ENV[name]} must be at least 1")
    return limits


@dataclass(frozen=True)
class Settings:
    """Everything :func:`api.app.create_app` needs."""

    home: Path
    db_url: str | None = None
    """SQLAlchemy URL of the ledger; ``None``: the home's (``CUSTODY_DB_URL`` or SQLite)."""
    limits: Limits = field(default_factory=Limits)

    @property
    def database_url(self) -> str:
        return self.db_url or Home(self.home).db_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env[HOME_ENV]) if env.get(HOME_ENV) else resolve_home(None)
        return cls(
            home=home,
            db_url=env.get(DB_URL_ENV) or None,
            limits=limits_from_env(env),
        )
