"""Step 2c of offline bundle verification: a quorum of witness cosignatures.

With ``--witness VKEY...`` the auditor names the witnesses it trusts
(cosignature/v1 verifier keys, :mod:`ledger.cosignature`) and with
``--quorum N`` how many of them must have cosigned the bundle's checkpoint
(default: all of them). Every leaf is proven against that one checkpoint
(step 3), so cosignatures over it cover every leaf. One key is one vote
(the same key given twice, or under two names, counts once); a line that names a
trusted witness but does not verify counts for nothing and is reported.
Too few is an ``INTEGRITY`` error: the checkpoint may be a split view that no
trusted witness saw.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.cosignature import CosignerVerifier, count_cosigners, parse_cosigner_key
from ledger.errors import CustodyError, InputError
from provenance.bundle.manifest import MANIFEST
from provenance.bundle.results import WitnessCheck
from provenance.bundle.state import BundleState

__all__ = ["check_quorum", "parse_witnesses"]


def parse_witnesses(
    vkeys: Sequence[str], quorum: int | None
) -> tuple[tuple[CosignerVerifier, ...], int]:
    """The trusted witnesses (distinct keys) and the quorum; usage errors raise."""
    if quorum is not None and not vkeys:
        raise InputError("--quorum needs at least one --witness key", code="invalid_input.quorum")
    witnesses: list[CosignerVerifier] = []
    for vkey in vkeys:
        w = parse_cosigner_key(vkey)
        if all(w.public_key != x.public_key for x in witnesses):
            witnesses.append(w)
    wanted = len(witnesses) if quorum is None else quorum
    if vkeys and not 1 <= wanted <= len(witnesses):
        raise InputError(
            f"--quorum {wanted} cannot be met by {len(witnesses)} distinct witness key(s)",
            code="invalid_input.quorum",
            details={"quorum": wanted, "witnesses": len(witnesses)},
        )
    return tuple(witnesses), wanted


def check_quorum(check: BundleState) -> None:
    """Count the trusted cosignatures on the manifest's checkpoint (after step 2b)."""
    if not check.witnesses:
        return
    assert check.manifest is not None
    try:
        counted = count_cosigners(check.manifest.checkpoint, check.witnesses)
    except CustodyError as e:  # the note already opened in step 2b; defensive
        check.flag("witness", f"{MANIFEST}: the checkpoint's cosignatures: {e.message}")
        return
    result = WitnessCheck(check.quorum, counted.valid, counted.invalid, counted.missing)
    check.witness_check = result
    for vkey in counted.invalid:
        check.flag(
            "witness",
            f"{MANIFEST}: the cosignature by witness {vkey.split('+')[0]} does not verify "
            "under its key; not counted",
            severity="warning",
            details={"vkey": vkey},
        )
    names = ", ".join(k.split("+")[0] for k, _ in counted.valid) or "no trusted witness"
    if result.met:
        check.flag(
            "witness",
            f"{MANIFEST}: checkpoint cosigned by {names} ({counted.count} of the "
            f"{check.quorum} required)",
            severity="info",
            details=result.to_json(),
        )
    else:
        check.flag(
            "witness",
            f"{MANIFEST}: checkpoint cosigned by {names}: {counted.count} of the "
            f"{check.quorum} witness cosignature(s) required; the operator may have shown "
            "this history to no one else (a split view)",
            details=result.to_json(),
        )
