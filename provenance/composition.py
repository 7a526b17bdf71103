"""The subject's mass share by origin (SPEC §6, "Composition").

An ``origin`` lot is 100% its own (site country, subdivision, lot material).
A ``transform`` output is the mass-weighted mix of the transform's inputs:
each ledger input weighs its consumed mass (its quantity's mass, else its
``mass_kg``), each external input likewise and counts as *untraced* (with
the country it declares). Custody hand-offs (dispatch, receipt) keep a lot's
composition; every output of one transform shares it.

Instead of carrying a composition vector down every lot, the shares are
computed *backwards* from the subject: the subject has weight 1; a lot
passes its weight to its creator; a transform passes its weight to its
inputs in proportion to their mass. A lot reached by several paths (a
diamond) collects the sum of its paths' weights before passing it on, which
a topological order (Kahn's algorithm over the traced lots and transforms)
guarantees. This costs one exact operation per edge, whatever the number of
origins. Arithmetic is exact (``fractions.Fraction`` over the statements'
exact decimals); shares are converted to :class:`~decimal.Decimal` at the
end (50 significant digits), so traced shares and the untraced share sum to 1.

Untraced mass is reported, never dropped: external inputs (kind
``external``), lots without a creating statement in the evidence
(``unknown``), transforms none of whose inputs can be weighed
(``unweighable``), and lots on a cycle (only in corrupt evidence). Inputs
that cannot be weighed while others can are listed in
:attr:`Composition.unweighable`; the mix is then over the weighable ones.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

from ledger.statements import Origin, Transform
from ledger.units import ROUNDED

__all__ = [
    "Composition",
    "Share",
    "UntracedShare",
    "Unweighable",
    "compose",
    "to_decimal",
]

log = logging.getLogger(__name__)

Creator = Origin | Transform


@dataclass(frozen=True, slots=True)
class Share:
    """A share of the subject's mass from one origin place and material."""

    country: str
    subdivision: str | None
    material: str
    share: Decimal


@dataclass(frozen=True, slots=True)
class UntracedShare:
    """A share of the subject's mass that does not trace to an origin.

    ``kind``: ``external`` (an external input: ``digest`` and ``index`` name
    it, with its declared ``country``), ``unknown`` (a lot without a creator
    in the evidence), ``unweighable`` (a transform whose inputs cannot be
    weighed) or ``cycle``.
    """

    kind: str
    share: Decimal
    digest: str | None = None
    index: int | None = None
    lot: str | None = None
    material: str | None = None
    country: str | None = None
    subdivision: str | None = None
    supplier: str | None = None
    mass_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Unweighable:
    """An input of a traced transform that has no mass (not a mass unit, no ``mass_kg``)."""

    digest: str
    lot: str | None
    index: int | None
    external: bool
    unit: str


@dataclass(frozen=True)
class Composition:
    """Traced shares by (country, subdivision, material), and what is untraced."""

    shares: list[Share]
    untraced: list[UntracedShare]
    untraced_share: Decimal
    unweighable: list[Unweighable] = field(default_factory=list)


def to_decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal of 50 significant digits."""
    if value.denominator == 1:
        return Decimal(value.numerator)
    return ROUNDED.divide(Decimal(value.numerator), Decimal(value.denominator))


_OriginKey = tuple[str, str | None, str]


class _Flow:
    """Kahn's algorithm over lots and transforms, from the subject upstream."""

    def __init__(self, subject: str, creators: Mapping[str, Creator]) -> None:
        self.subject = subject
        self.creators = creators
        self.lot_weight: dict[str, Fraction] = defaultdict(Fraction)
        self.tx_weight: dict[str, Fraction] = defaultdict(Fraction)
        self.lot_pending: dict[str, int] = defaultdict(int)
        self.tx_pending: dict[str, int] = defaultdict(int)
        self.transforms: dict[str, Transform] = {}
        self.origins: dict[_OriginKey, Fraction] = defaultdict(Fraction)
        self.untraced: dict[tuple[str, str, int | None], Fraction] = defaultdict(Fraction)
        self.untraced_info: dict[tuple[str, str, int | None], UntracedShare] = {}
        self.unweighable: list[Unweighable] = []

    def reachable(self) -> set[str]:
        """Traced lots; counts, for each, its consumers, and each transform's traced outputs."""
        lots = {self.subject}
        queue = [self.subject]
        while queue:
            lot = queue.pop()
            creator = self.creators.get(lot)
            if not isinstance(creator, Transform):
                continue
            digest = creator.digest
            self.tx_pending[digest] += 1
            if digest in self.transforms:
                continue
            self.transforms[digest] = creator
            for item in creator.inputs:
                self.lot_pending[item.lot] += 1
                if item.lot not in lots:
                    lots.add(item.lot)
                    queue.append(item.lot)
        return lots

    def run(self) -> None:
        self.reachable()
        self.lot_weight[self.subject] = Fraction(1)
        lots = [self.subject] if self.lot_pending[self.subject] == 0 else []
        while lots:
            lot = lots.pop()
            weight = self.lot_weight[lot]
            creator = self.creators.get(lot)
            if isinstance(creator, Origin):
                site = creator.site
                self.origins[(site.country, site.subdivision, creator.lot.material)] += weight
            elif isinstance(creator, Transform):
                digest = creator.digest
                self.tx_weight[digest] += weight
                self.tx_pending[digest] -= 1
                if self.tx_pending[digest] == 0:
                    lots.extend(self._spread(creator))
            else:
                self._untraced("unknown", lot, None, weight, _blank("unknown", lot=lot))
        self._stuck()

    def _spread(self, tx: Transform) -> list[str]:
        """Pass a transform's weight to its inputs by mass; return the lots now complete."""
        weight = self.tx_weight[tx.digest]
        masses: list[Fraction | None] = []
        for i, item in enumerate(tx.inputs):
            kg = item.kg
            masses.append(None if kg is None else Fraction(kg))
            if kg is None:
                self.unweighable.append(
                    Unweighable(tx.digest, item.lot, i, False, item.quantity.unit)
                )
        ext_masses: list[Fraction | None] = []
        for i, ext in enumerate(tx.external_inputs):
            kg = ext.kg
            ext_masses.append(None if kg is None else Fraction(kg))
            if kg is None:
                self.unweighable.append(Unweighable(tx.digest, None, i, True, ext.quantity.unit))
        total = sum((m for m in (*masses, *ext_masses) if m is not None), Fraction(0))
        done: list[str] = []
        if total == 0:
            self._untraced("unweighable", tx.digest, None, weight, _blank("unweighable", tx.digest))
        for item, mass in zip(tx.inputs, masses, strict=True):
            if total and mass is not None:
                self.lot_weight[item.lot] += weight * mass / total
            self.lot_pending[item.lot] -= 1
            if self.lot_pending[item.lot] == 0:
                done.append(item.lot)
        if total:
            for i, (ext, mass) in enumerate(zip(tx.external_inputs, ext_masses, strict=True)):
                if mass is None:
                    continue
                info = UntracedShare(
                    kind="external",
                    share=Decimal(0),
                    digest=tx.digest,
                    index=i,
                    material=ext.material,
                    country=ext.country,
                    subdivision=ext.subdivision,
                    supplier=ext.supplier,
                    mass_kg=ext.kg,
                )
                self._untraced("external", tx.digest, i, weight * mass / total, info)
        return done

    def _untraced(
        self, kind: str, name: str, index: int | None, weight: Fraction, info: UntracedShare
    ) -> None:
        key = (kind, name, index)
        self.untraced[key] += weight
        self.untraced_info.setdefault(key, info)

    def _stuck(self) -> None:
        """Weight held by lots or transforms on a cycle never flows on: untraced."""
        for lot, pending in self.lot_pending.items():
            if pending > 0 and self.lot_weight.get(lot):
                info = _blank("cycle", lot=lot)
                self._untraced("cycle", lot, None, self.lot_weight[lot], info)
        for digest, pending in self.tx_pending.items():
            if pending > 0 and self.tx_weight.get(digest):
                info = _blank("cycle", digest)
                self._untraced("cycle", digest, None, self.tx_weight[digest], info)
        if any(p > 0 for p in self.lot_pending.values()):
            log.warning("composition of %s: the trace has a cycle", self.subject)


def _blank(kind: str, digest: str | None = None, *, lot: str | None = None) -> UntracedShare:
    return UntracedShare(kind=kind, share=Decimal(0), digest=digest, lot=lot)


def compose(subject: str, creators: Mapping[str, Creator]) -> Composition:
    """The composition of ``subject`` given the creating statement of each traced lot.

    ``creators`` maps a lot id to its ``origin`` or ``transform``; a lot
    missing from it counts as untraced (``unknown``).
    """
    flow = _Flow(subject, creators)
    flow.run()
    shares = [
        Share(country, subdivision, material, to_decimal(weight))
        for (country, subdivision, material), weight in flow.origins.items()
        if weight
    ]
    shares.sort(key=lambda s: (-s.share, s.country, s.subdivision or "", s.material))
    untraced: list[UntracedShare] = []
    total = Fraction(0)
    for key, weight in flow.untraced.items():
        total += weight
        untraced.append(replace(flow.untraced_info[key], share=to_decimal(weight)))
    untraced.sort(key=lambda u: (-u.share, u.kind, u.digest or u.lot or "", u.index or 0))
    return Composition(shares, untraced, to_decimal(total), flow.unweighable)
