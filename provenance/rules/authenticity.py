"""Rule family "authenticity": SIGNATURE and INTEGRITY (SPEC §6, §3 "Signatures", §5).

* ``SIGNATURE`` (error): a signature that does not verify, by a key unknown or
  revoked at its point of the ledger (keys are judged by ledger order, as at
  append), a refused ``party`` / ``key`` / ``revoke`` statement (they decide
  which keys are trusted), and a signature by a key revoked as
  ``compromised`` with an ``effective`` time at or before the statement's
  ledger time (:class:`provenance.replay.VoidedSignature`).
* ``INTEGRITY`` (error): a leaf that does not parse, a chain link (``prev``
  of seq n+1 against the leaf hash of seq n, where both are present), and,
  when verifying from storage, a stored leaf hash or Merkle leaf node that
  does not match the leaf bytes. These are found while reading the leaves
  (:mod:`provenance.verify`); the rule reports them.
"""

from __future__ import annotations

from collections.abc import Iterator

from ledger.statements import format_time
from provenance.rules.base import Context, Finding, RuleBase, rejections_for
from provenance.rules.util import jsonable

__all__ = ["IntegrityRule", "SignatureRule"]


class SignatureRule(RuleBase):
    """SIGNATURE: refused signatures and keys, and signatures voided by a compromise."""

    id = "SIGNATURE"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for r in rejections_for(ctx, self.id):
            yield self.finding(
                f"seq {r.seq} ({r.type} by {r.issuer}): {r.message}",
                [r.digest],
                seq=r.seq,
                code=r.code,
                **jsonable(r.details),
            )
        for v in ctx.replay.voided:
            yield self.finding(
                f"seq {v.seq} is signed by {v.party}'s key {v.kid[:16]}…, revoked as compromised "
                f"with effect from {format_time(v.effective)} (seq {v.revoke_seq}); the statement "
                f"was appended at {format_time(v.received_at)}, so its signature is void",
                [v.digest, v.revoke_digest],
                seq=v.seq,
                code="bad_signature.compromised",
                kid=v.kid,
                party=v.party,
                revoke_seq=v.revoke_seq,
                effective=format_time(v.effective),
            )


class IntegrityRule(RuleBase):
    """INTEGRITY: leaves and chain links that do not hold."""

    id = "INTEGRITY"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        yield from ctx.problems
