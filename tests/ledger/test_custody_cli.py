"""Issue 10 item 9 through the real entry point: ``custody submit`` (a process) of a
transform that consumes the lot it produces is a custody-rule rejection, in the words
of the rules, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.envelope import sign_envelope
from tests.ledger.custody_world import make_ctx, raw, transform_body
from tests.ledger.test_envelope_cli import custody
from tests.support import q


def test_submit_of_a_self_consuming_transform_is_a_custody_rejection(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    size = ctx.world.ledger.size()
    home = ctx.world.home.path
    ctx.world.close()
    payload = raw(ctx.gin, "transform", **transform_body("farm/seed-1", q(10), "farm/seed-1"))
    file = tmp_path / "self.json"
    file.write_text(sign_envelope(payload, [ctx.gin.key]).to_json())
    proc = custody(home, "submit", str(file), "--json")
    assert proc.returncode == 1, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["error"]["code"] == "rejected.self_transform"
    assert result["error"]["message"] == (
        "outputs[0].id: transform cannot consume the lot it produces: farm/seed-1"
    )
    shown = custody(home, "ledger", "show", "--seq", str(size), "--json")
    assert shown.returncode != 0  # nothing was appended
    plain = custody(home, "submit", str(file))
    assert plain.returncode == 1
    assert "transform cannot consume the lot it produces" in plain.stdout + plain.stderr
    assert "Traceback" not in plain.stderr
