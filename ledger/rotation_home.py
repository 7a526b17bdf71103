"""``custody ledger rotate-key --new-key FILE``: rotate the operator key of a home.

1. the home's operator key must be the checkpoint key in force (or the new key
   already is, after an interrupted rotation: then only step 4 runs);
2. one batch is appended with the new key signing its checkpoint: the rotation (a
   ``key`` statement by the operator for itself adding the new key, signed by the old
   and the new key, :mod:`ledger.rotation`) and the old key's retirement (a
   ``revoke`` with reason ``superseded``, signed by the new key), so the old key can
   sign nothing more in this ledger;
3. the old private key is kept in ``retired/operator-<kid16>.key`` (0600) for the
   operator to destroy or archive offline;
4. the new key replaces ``operator.key`` atomically (written beside it, fsynced,
   renamed over it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.envelope import sign_envelope
from ledger.errors import ConfigError, CustodyError
from ledger.home import Home
from ledger.keys import PrivateKey, save_private_key
from ledger.log import Ledger, utcnow
from ledger.statements import build_statement, format_time


@dataclass(frozen=True)
class RotationResult:
    old_kid: str
    new_kid: str
    rotation_seq: int | None  # None: the log had rotated already (an interrupted run)
    retire_seq: int | None
    verifier_key: str
    retired_path: Path | None

    def to_json(self) -> dict[str, object]:
        return {
            "old_kid": self.old_kid,
            "new_kid": self.new_kid,
            "rotation_seq": self.rotation_seq,
            "retire_seq": self.retire_seq,
            "verifier_key": self.verifier_key,
            "retired_key": None if self.retired_path is None else str(self.retired_path),
        }


def _install(home: Home, old: PrivateKey, new: PrivateKey) -> Path:
    retired = home.path / "retired"
    retired.mkdir(mode=0o700, exist_ok=True)
    kept = retired / f"operator-{old.kid[:16]}.key"
    if not kept.exists():
        save_private_key(kept, old)
    tmp = home.path / ".operator.key.new"
    tmp.unlink(missing_ok=True)
    save_private_key(tmp, new)
    os.replace(tmp, home.operator_key_path)
    fd = os.open(home.path, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)
    return kept


def rotate_operator_key(
    home: Home, new: PrivateKey, *, time: datetime | None = None
) -> RotationResult:
    """Rotate the home's operator key to ``new`` (see the module docstring)."""
    old = home.operator_key()
    if old.public_key == new.public_key:
        raise ConfigError("the new key is the operator key already", code="config.same_key")
    ledger = home.open(with_key=False)
    try:
        in_force = ledger.operator_public_key()
        if in_force == new.public_key:  # the log rotated, the home was not updated
            return RotationResult(
                old.kid, new.kid, None, None, ledger.verifier_key(), _install(home, old, new)
            )
        if in_force != old.public_key:
            raise ConfigError(
                f"the home's operator key {old.kid[:16]}… is not the key in force; "
                "nothing was rotated",
                code="config.operator_key",
            )
        with ledger.store.read() as r:
            operator = r.meta("operator")
        if operator is None:
            raise ConfigError("the ledger has no operator yet (run `custody init`)")
        stamp = format_time(time or utcnow())
        rotation = build_statement(
            "key",
            f"operator-key/{new.kid[:16]}",
            operator,
            stamp,
            party=operator,
            public_key=new.public_key_b64,
        )
        retire = build_statement(
            "revoke",
            f"operator-key-retired/{old.kid[:16]}",
            operator,
            stamp,
            party=operator,
            public_key=old.public_key_b64,
            reason="superseded",
        )
        appender = Ledger(ledger.store, new, clock=ledger.clock)
        results = appender.submit(
            [sign_envelope(rotation, [old, new]), sign_envelope(retire, [new])]
        )
        for res in results:
            if res.error is not None:
                raise res.error
        vkey = appender.verifier_key()
    except CustodyError:
        ledger.store.close()
        raise
    ledger.store.close()
    kept = _install(home, old, new)
    return RotationResult(old.kid, new.kid, results[0].seq, results[1].seq, vkey, kept)
