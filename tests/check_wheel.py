"""Build the wheel and check that it ships the four import packages, every subpackage
of them found in the source tree, and the data files."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("ledger/__init__.py", "provenance/__init__.py", "api/__init__.py", "cli/__init__.py")


def source_packages() -> list[str]:
    """``pkg/sub/__init__.py`` of every (sub)package of the four in the checkout."""
    found = []
    for top in ("ledger", "provenance", "api", "cli"):
        for init in sorted((ROOT / top).rglob("__init__.py")):
            if "__pycache__" not in init.parts:
                found.append(init.relative_to(ROOT).as_posix())
    return found


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                tmp,
                str(ROOT),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(done.stdout, done.stderr)
            return 1
        (wheel,) = Path(tmp).glob("custody-*.whl")
        names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in (*REQUIRED, *source_packages()) if n not in names]
    data = [n for n in names if n.startswith("provenance/data/") and n.endswith(".json")]
    if missing:
        print(f"wheel {wheel.name} lacks: {', '.join(missing)}")
        return 1
    if not data:
        print(f"wheel {wheel.name} lacks the provenance data files")
        return 1
    print(
        f"wheel {wheel.name}: {len(names)} files, packages ledger/provenance/api/cli "
        f"and their {len(source_packages()) - 4} subpackages present"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
