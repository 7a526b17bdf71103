"""Step 2c of offline bundle verification: a quorum of witness cosignatures.

With ``--witness VKEY...`` the auditor names the witnesses it trusts
(cosignature/v1 verifier keys, :mod:`ledger.cosignature`) and with
``--quorum N`` how many of them must have cosigned the bundle's checkpoint
(default: all of them). Every leaf is proven against that one checkpoint
(step 3), so cosignatures over it cover every leaf; so do cosignatures over a
later checkpoint the bundle proves consistent with it (:mod:`.consistency`). One key is one vote
(the same key given twice, or under two names, counts once); a line that names a
trusted witness but does not verify counts for nothing and is reported.
Too few is an ``INTEGRITY`` error: the checkpoint may be a split view that no
trusted witness saw.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.cosignature import (
    CosignatureCount,
    CosignerVerifier,
    count_cosigners,
    parse_cosigner_key,
)
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
        later = [(size, count_cosigners(note, check.witnesses)) for size, note in check.later]
    except CustodyError as e:  # the notes already opened in steps 2b and 2c; defensive
        check.flag("witness", f"{MANIFEST}: the checkpoint's cosignatures: {e.message}")
        return
    counted, sizes = _merge(counted, later)
    result = WitnessCheck(check.quorum, counted.valid, counted.invalid, counted.missing, sizes)
    check.witness_check = result
    for vkey in counted.invalid:
        check.flag(
            "witness",
            f"{MANIFEST}: the cosignature by witness {vkey.split('+')[0]} does not verify "
            "under its key; not counted",
            severity="warning",
            details={"vkey": vkey},
        )
    names = ", ".join(
        k.split("+")[0] + ("" if size is None else f" (on the later checkpoint of size {size})")
        for (k, _), size in zip(counted.valid, sizes, strict=True)
    )
    names = names or "no trusted witness"
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


def _merge(
    first: CosignatureCount, later: Sequence[tuple[int, CosignatureCount]]
) -> tuple[CosignatureCount, tuple[int | None, ...]]:
    """One vote per witness over the bundle's checkpoint and the later ones proven
    consistent with it (:mod:`.consistency`), with the size it cosigned (None: the
    bundle's own checkpoint)."""
    valid = list(first.valid)
    sizes: list[int | None] = [None] * len(valid)
    for size, c in later:
        for vkey, t in c.valid:
            if all(vkey != k for k, _ in valid):
                valid.append((vkey, t))
                sizes.append(size)
    counted = {k for k, _ in valid}
    invalid = tuple(k for k in first.invalid if k not in counted)
    missing = tuple(k for k in first.missing if k not in counted)
    return CosignatureCount(tuple(valid), invalid, missing), tuple(sizes)
