"""The witnesses a ledger asks to cosign its checkpoints: ``witnesses.json`` in
the ledger's home (``custody witness add URL VKEY``).

Each entry is the witness's submission URL prefix (``POST <url>/add-checkpoint``)
and its cosigner verifier key (:func:`ledger.cosignature.parse_cosigner_key`).
The file is written atomically; a key is listed at most once.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ledger.cosignature import CosignerVerifier, parse_cosigner_key
from ledger.errors import ConfigError, InputError

__all__ = ["WITNESSES_FILE", "WitnessEndpoint", "add_witness", "load_witnesses", "remove_witness"]

WITNESSES_FILE = "witnesses.json"


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the log submits to: URL prefix and cosigner key."""

    url: str
    verifier: CosignerVerifier

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def name(self) -> str:
        return self.verifier.name

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "vkey": self.vkey}


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"witness URL {url!r} is not an http(s) URL", code="invalid_input.url")
    return url.rstrip("/")


def load_witnesses(home: Path) -> list[WitnessEndpoint]:
    """The configured witnesses (none when the file does not exist)."""
    path = home / WITNESSES_FILE
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["witnesses"]
        return [WitnessEndpoint(_check_url(w["url"]), parse_cosigner_key(w["vkey"])) for w in items]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a witness list ({e})") from e
    except InputError as e:
        raise ConfigError(f"{path}: {e.message}") from e


def _save(home: Path, witnesses: list[WitnessEndpoint]) -> None:
    body = json.dumps({"witnesses": [w.to_json() for w in witnesses]}, indent=2) + "\n"
    with tempfile.NamedTemporaryFile("w", dir=home, delete=False, encoding="utf-8") as tmp:
        tmp.write(body)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, home / WITNESSES_FILE)


def add_witness(home: Path, url: str, vkey: str) -> WitnessEndpoint:
    """Add (or re-point) a witness by its key; returns the entry."""
    endpoint = WitnessEndpoint(_check_url(url), parse_cosigner_key(vkey))
    current = [
        w for w in load_witnesses(home) if w.verifier.public_key != endpoint.verifier.public_key
    ]
    _save(home, [*current, endpoint])
    return endpoint


def remove_witness(home: Path, name_or_vkey: str) -> WitnessEndpoint:
    """Remove the witness with that name or verifier key."""
    current = load_witnesses(home)
    gone = [w for w in current if name_or_vkey in (w.name, w.vkey)]
    if not gone:
        raise InputError(f"no witness {name_or_vkey!r} is configured", code="not_found.witness")
    _save(home, [w for w in current if w not in gone])
    return gone[0]
