"""The README stays true: its command blocks run, in order, as a new user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def test_quick_start_shows_the_two_commands():
    assert "make demo" in README
    assert "make test" in README


def test_every_linked_doc_exists():
    for link in re.findall(r"\]\((docs/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link


@pytest.mark.slow
def test_walkthrough_blocks_run_in_order(tmp_path: Path):
    blocks = sh_blocks(README)
    assert len(blocks) >= 6
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    for i, block in enumerate(blocks):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (
            f"README block {i + 1} failed ({done.returncode}):\n{block}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
    # the story told by the walkthrough holds
    verify = subprocess.run(
        ["custody", "verify", "gin/lint-2026-001", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode in (0, 3), verify.stderr
