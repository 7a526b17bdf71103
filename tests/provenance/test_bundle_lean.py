"""Offline bundle verification does not load the exporter or the report renderer
(jinja2, the HTML views) on import: they load when ``report.html`` is compared
(the default; ``--no-check-html`` skips it) or a bundle is exported."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from provenance.bundle import verify_bundle
import cli.bundle_cmds
loaded = sorted(
    m for m in ('jinja2', 'provenance.report.html', 'provenance.bundle.export') if m in sys.modules
)
print(','.join(loaded))
from provenance.bundle import export_bundle  # on first use
print(export_bundle.__module__)
"""


def test_offline_verification_loads_no_renderer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == ["", "provenance.bundle.export"]
