"""The witness's own folder (``--dir``, ``CUSTODY_WITNESS_HOME``, default
``./custody-witness``), separate from any ledger home:

* ``witness.key`` — the witness's Ed25519 key (PKCS#8 PEM, mode 0600);
* ``witness.json`` — its name (the cosigner name of its cosignature lines);
* ``state.db`` — :mod:`ledger.witness.state`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ledger.cosignature import Cosigner, cosigner_verifier_key
from ledger.errors import ConfigError, InputError
from ledger.home import host_label, resolve_dir
from ledger.note import is_valid_name
from ledger.witness.state import WitnessState

__all__ = ["WITNESS_HOME_ENV", "WitnessHome", "default_witness_name", "resolve_witness_home"]

WITNESS_HOME_ENV = "CUSTODY_WITNESS_HOME"
DEFAULT_WITNESS_HOME = "custody-witness"


def resolve_witness_home(option: Path | str | None = None) -> Path:
    return resolve_dir(option, WITNESS_HOME_ENV, DEFAULT_WITNESS_HOME)


def default_witness_name() -> str:
    return f"witness.{host_label()}/w1"


@dataclass(frozen=True)
class WitnessHome:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / "witness.key"

    @property
    def config_path(self) -> Path:
        return self.path / "witness.json"

    @property
    def state_path(self) -> Path:
        return self.path / "state.db"

    def exists(self) -> bool:
        return self.key_path.exists() and self.config_path.exists()

    def init(self, name: str | None = None) -> Cosigner:
        """Create the folder, the key, the name and an empty state. Refuses to overwrite."""
        from ledger.keys import PrivateKey, save_private_key

        name = name or default_witness_name()
        if not is_valid_name(name):
            raise InputError(
                f"invalid witness name {name!r}: no spaces, no '+', not empty",
                code="invalid_input.name",
            )
        if self.key_path.exists():
            raise ConfigError(f"{self.path} already holds a witness; refusing to overwrite it")
        self.path.mkdir(parents=True, exist_ok=True)
        key = PrivateKey.generate()
        save_private_key(self.key_path, key)
        self.config_path.write_text(json.dumps({"name": name}) + "\n", encoding="utf-8")
        self.state().close()
        return Cosigner(name, key)

    def name(self) -> str:
        if not self.exists():
            raise ConfigError(
                f"no witness in {self.path}; run `custody witness init` or point --dir / "
                f"{WITNESS_HOME_ENV} at one"
            )
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
            name = data["name"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{self.config_path}: not a witness configuration ({e})") from e
        if not isinstance(name, str) or not is_valid_name(name):
            raise ConfigError(f"{self.config_path}: invalid witness name")
        return name

    def cosigner(self) -> Cosigner:
        from ledger.keys import load_private_key

        name = self.name()
        return Cosigner(name, load_private_key(self.key_path))

    def vkey(self) -> str:
        c = self.cosigner()
        return cosigner_verifier_key(c.name, c.key.public_key)

    def state(self) -> WitnessState:
        return WitnessState(self.state_path)
