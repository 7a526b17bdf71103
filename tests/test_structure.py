"""The structure check (``tests/check_structure.py``, ``make structure``): no module
over 400 lines, no import cycle, on this checkout and on synthetic trees that break
each rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parent / "check_structure.py"


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *args], capture_output=True, text=True, check=False
    )


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_checkout_has_no_long_module_and_no_import_cycle() -> None:
    done = run_check()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no import cycles" in done.stdout


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    write(tmp_path, "synth_ok/__init__.py", "from synth_ok import a\n")
    write(tmp_path, "synth_ok/a.py", "import json\n\nfrom synth_ok import b\n")
    write(tmp_path, "synth_ok/b.py", "x = 1\n" * 400)
    write(tmp_path, "scripts/run.py", "import helper\n")
    write(tmp_path, "scripts/helper.py", "import os\n")
    done = run_check("--root", str(tmp_path), "--packages", "synth_ok", "--scripts", "scripts")
    assert done.returncode == 0, done.stdout + done.stderr


def test_fails_on_every_module_over_400_lines(tmp_path: Path) -> None:
    write(tmp_path, "synth_long/__init__.py", "")
    write(tmp_path, "synth_long/exactly_400.py", "x = 1\n" * 400)
    write(tmp_path, "synth_long/deep/__init__.py", "")
    write(tmp_path, "synth_long/deep/long_401.py", "x = 1\n" * 401)
    write(tmp_path, "synth_long/long_999.py", "x = 1\n" * 999)
    write(tmp_path, "scripts/long_script.py", "x = 1\n" * 450)
    done = run_check("--root", str(tmp_path), "--packages", "synth_long", "--scripts", "scripts")
    assert done.returncode == 1
    out = done.stdout
    assert "3 module(s) over 400 lines" in out
    assert "synth_long/long_999.py: 999 lines" in out
    assert "synth_long/deep/long_401.py: 401 lines" in out
    assert "scripts/long_script.py: 450 lines" in out
    assert "exactly_400" not in out
    assert "import cycle" not in out


def test_fails_on_every_import_cycle_including_type_only_and_inside_a_package(
    tmp_path: Path,
) -> None:
    # 1. a cycle through an import that runs only under TYPE_CHECKING, across packages
    write(tmp_path, "synth_app/__init__.py", "")
    write(tmp_path, "synth_app/factory.py", "from synth_app.routes import one\n")
    write(tmp_path, "synth_app/routes/__init__.py", "")
    write(tmp_path, "synth_app/routes/one.py", "from synth_app import deps\n")
    write(
        tmp_path,
        "synth_app/deps.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from synth_app.factory import Thing\n",
    )
    # 2. a cycle inside one subpackage, through a relative import and the package itself
    write(tmp_path, "synth_lib/__init__.py", "")
    write(tmp_path, "synth_lib/inner/__init__.py", "from synth_lib.inner.x import X\n")
    write(tmp_path, "synth_lib/inner/x.py", "from . import y\nX = 1\n")
    write(tmp_path, "synth_lib/inner/y.py", "def f():\n    from synth_lib.inner import X\n")
    # 3. two scripts of a folder that is not a package importing each other
    write(tmp_path, "scripts/ping.py", "import pong\n")
    write(tmp_path, "scripts/pong.py", "from ping import main\n")
    write(tmp_path, "scripts/alone.py", "import os\n")
    done = run_check(
        "--root", str(tmp_path), "--packages", "synth_app", "synth_lib", "--scripts", "scripts"
    )
    assert done.returncode == 1
    out = done.stdout
    assert "3 import cycle(s)" in out
    assert "cycle of 3 modules: synth_app.deps, synth_app.factory, synth_app.routes.one" in out
    assert "synth_app.deps -> synth_app.factory (line 4)" in out
    assert "cycle of 3 modules: synth_lib.inner, synth_lib.inner.x, synth_lib.inner.y" in out
    assert "cycle of 2 modules: scripts/ping, scripts/pong" in out
    assert "alone" not in out
    assert "over 400 lines" not in out
