"""Offline bundle verification never loads the ledger's storage stack: an auditor's
fresh `custody bundle verify` process pays only for what verification uses."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from provenance.bundle import verify_bundle
import cli.bundle_cmds
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'psycopg'})
loaded = sorted(m for m in ('ledger.store', 'ledger.log', 'ledger.proofs') if m in sys.modules)
print(','.join(heavy + loaded))
"""


def test_offline_verification_imports_no_storage() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == ""
