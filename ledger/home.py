"""The home folder: where a ledger's files live (SPEC §8).

``--home`` / ``CUSTODY_HOME`` / ``./custody-data`` holds ``ledger.db`` (the
SQLite ledger, unless ``CUSTODY_DB_URL`` points elsewhere), ``operator.key``
(the operator's private key, mode 0600), ``documents/<sha256>`` (the
content-addressed document store) and an optional ``screening.json``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import ConfigError, InputError, NotFoundError

if TYPE_CHECKING:
    from ledger.keys import PrivateKey
    from ledger.log import Ledger, SubmitResult

# The ledger, its store and the key code are imported where they are used: a
# command that only reads the home's paths (``custody --help``) starts quickly.

HOME_ENV = "CUSTODY_HOME"
DB_URL_ENV = "CUSTODY_DB_URL"
DEFAULT_HOME = "custody-data"


def resolve_dir(option: Path | str | None, env_name: str, default: str) -> Path:
    """A directory given as an option, else by the environment variable, else the default."""
    if option:
        return Path(option)
    env = os.environ.get(env_name)
    return Path(env) if env else Path(default)


def resolve_home(option: Path | str | None = None) -> Path:
    return resolve_dir(option, HOME_ENV, DEFAULT_HOME)


def host_label() -> str:
    """This host's short name, lower case, usable in a log or witness name."""
    host = socket.gethostname().split(".")[0].lower() or "localhost"
    return "".join(c if c.isalnum() or c in "-." else "-" for c in host)


def default_origin() -> str:
    return f"custody.{host_label()}/ledger"


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def db_url(self) -> str:
        return os.environ.get(DB_URL_ENV) or f"sqlite:///{(self.path / 'ledger.db').resolve()}"

    @property
    def operator_key_path(self) -> Path:
        return self.path / "operator.key"

    @property
    def documents(self) -> Path:
        return self.path / "documents"

    def exists(self) -> bool:
        return self.operator_key_path.exists()

    def operator_key(self) -> PrivateKey:
        if not self.operator_key_path.exists():
            raise ConfigError(
                f"no ledger in {self.path} (no operator.key); run `custody init` "
                f"or point --home / {HOME_ENV} at an existing home"
            )
        from ledger.keys import load_private_key

        return load_private_key(self.operator_key_path)

    def open(self, *, with_key: bool = True) -> Ledger:
        """Open the ledger; the operator key is needed only to append."""
        from ledger.log import Ledger
        from ledger.store import Store

        key = self.operator_key() if with_key else None
        if not with_key and not self.exists() and DB_URL_ENV not in os.environ:
            raise ConfigError(f"no ledger in {self.path}; run `custody init` first")
        store = Store(self.db_url)
        return Ledger(store, key)

    def init(
        self,
        *,
        origin: str | None = None,
        operator_id: str = "operator",
        operator_name: str = "Ledger operator",
        country: str = "US",
        time: datetime | None = None,
    ) -> tuple[Ledger, SubmitResult]:
        """Create the home, the operator key and entry 0. Refuses to overwrite."""
        from ledger.envelope import sign_envelope
        from ledger.keys import PrivateKey, save_private_key
        from ledger.log import Ledger, utcnow
        from ledger.statements import build_statement, format_time
        from ledger.store import Store

        if self.operator_key_path.exists():
            raise ConfigError(f"{self.path} already holds a ledger; refusing to overwrite it")
        self.path.mkdir(parents=True, exist_ok=True)
        self.documents.mkdir(exist_ok=True)
        key = PrivateKey.generate()
        save_private_key(self.operator_key_path, key)
        try:
            ledger = Ledger(Store(self.db_url), key)
            ledger.initialise(origin or default_origin())
            payload = build_statement(
                "party",
                f"party/{operator_id}",
                operator_id,
                format_time(time or utcnow()),
                party={
                    "id": operator_id,
                    "name": operator_name,
                    "country": country,
                    "roles": ["operator"],
                },
                keys=[key.public_key_b64],
            )
            (result,) = ledger.submit([sign_envelope(payload, [key])])
        except Exception:
            self.operator_key_path.unlink(missing_ok=True)
            raise
        if result.error is not None:
            raise result.error
        return ledger, result

    # ---------------------------------------------------------- documents

    def store_document(self, source: Path) -> tuple[str, int]:
        """Copy ``source`` into the content-addressed store; return (sha256, size)."""
        try:
            data = source.read_bytes()
        except OSError as e:
            raise InputError(
                f"cannot read {source}: {e.strerror}", code="invalid_input.file"
            ) from e
        digest = hashlib.sha256(data).hexdigest()
        self.documents.mkdir(parents=True, exist_ok=True)
        target = self.documents / digest
        if not target.exists():
            with tempfile.NamedTemporaryFile(dir=self.documents, delete=False) as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            shutil.move(tmp.name, target)
        return digest, len(data)

    def document(self, sha256: str) -> Path:
        path = self.documents / sha256
        if len(sha256) != 64 or not path.is_file():
            raise NotFoundError(f"document {sha256} is not in the document store")
        return path
