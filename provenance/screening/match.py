"""Fuzzy matching of party names against screening lists (rule ``LISTED-ENTITY``, SPEC §6).

Names are compared as token sets after normalisation
(:mod:`provenance.screening.normalise`), so that case, punctuation,
diacritics, word order, legal-form words and the qualifiers of the lists
("and subsidiaries", "and its subordinate and affiliated entities") do not
matter. On the query side adjacent tokens are merged, or one token split, when
the result is a distinctive token of the list (``Ho Shine`` = ``Hoshine``,
``Zhong Tai`` = ``Zhongtai``).

A list name with distinctive tokens scores, out of 100, the mean of the
share of its distinctive tokens found in the query and the share of the
query's distinctive tokens found in it (a token found by spelling only, with
rapidfuzz ``ratio`` at least :data:`FUZZY_TOKEN_MIN_RATIO`, gets partial
credit), minus :data:`GENERIC_PENALTY` scaled by how far the generic words
differ when both sides have some, :data:`PLACE_PENALTY` when both name places
and none agree (a list name without a place stands for its entry's country),
:data:`NUMBER_PENALTY` when both carry numbers and none agree ("No. 1" is not
"No. 2"), and :data:`ORDER_PENALTY` when the distinctive tokens appear in
another order. Generic words and places alone never match: a list name
made only of them ("Xinjiang Energy", "Yunnan Machinery") matches only the
same token set, or, with three or more tokens, a query that contains them in
order and nothing distinctive. A match needs :data:`MATCH_THRESHOLD`.

Normalised forms and an inverted index on distinctive tokens are computed
once per :class:`ScreeningData`, so a query costs tens of microseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from provenance.screening.model import EntityMatch, ScreeningEntry, ScreeningList
from provenance.screening.normalise import (
    CJK,
    PLACES,
    cjk_keys,
    latin_variants,
    token_class,
)

__all__ = [
    "FUZZY_TOKEN_MIN_LENGTH",
    "FUZZY_TOKEN_MIN_RATIO",
    "GENERIC_CONTAINED_SCORE",
    "GENERIC_PENALTY",
    "MATCH_THRESHOLD",
    "NUMBER_PENALTY",
    "ORDER_PENALTY",
    "PLACE_PENALTY",
    "Matcher",
]

MATCH_THRESHOLD = 90.0
"""Minimum score (0-100) for an entity match."""

FUZZY_TOKEN_MIN_RATIO = 85.0
"""Minimum rapidfuzz ``ratio`` for two distinctive tokens to count as a spelling variant."""

FUZZY_TOKEN_MIN_LENGTH = 6
"""Tokens shorter than this must match exactly (short pinyin syllables differ by one letter)."""

GENERIC_PENALTY = 15.0
PLACE_PENALTY = 20.0
ORDER_PENALTY = 8.0
NUMBER_PENALTY = 20.0
GENERIC_CONTAINED_SCORE = 92.0
"""Score of an all-generic list name found in order inside a longer query."""


@dataclass(frozen=True, slots=True)
class _Form:
    """A tokenised name, split by token class."""

    tokens: tuple[str, ...]
    distinct: tuple[str, ...]
    generic: frozenset[str]
    places: frozenset[str]

    @classmethod
    def of(cls, tokens: Sequence[str]) -> _Form:
        classes = [token_class(t) for t in tokens]
        return cls(
            tokens=tuple(tokens),
            distinct=tuple(
                dict.fromkeys(t for t, c in zip(tokens, classes, strict=True) if c == "distinct")
            ),
            generic=frozenset(t for t, c in zip(tokens, classes, strict=True) if c == "generic"),
            places=frozenset(
                PLACES[t] for t, c in zip(tokens, classes, strict=True) if c == "place"
            ),
        )


@dataclass(frozen=True, slots=True)
class _Target:
    """A list name or alias in normalised form.

    ``places`` are the places the name states or, when it states none, the
    entry's country: "American Giant" is not Taiwan's Giant Manufacturing.
    """

    entry: ScreeningEntry
    text: str
    form: _Form
    places: frozenset[str]

    @classmethod
    def of(cls, entry: ScreeningEntry, text: str, tokens: Sequence[str]) -> _Target:
        form = _Form.of(tokens)
        places = form.places
        if not places and entry.country:
            places = frozenset({_COUNTRY_AS_PLACE.get(entry.country, entry.country)})
        return cls(entry, text, form, places)


_COUNTRY_AS_PLACE = {"HK": "CN-HK", "MO": "CN-MO"}


def _places_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(x == y or x.startswith(y + "-") or y.startswith(x + "-") for x in a for y in b)


def _is_subsequence(needle: Sequence[str], hay: Sequence[str]) -> bool:
    it = iter(hay)
    return all(any(t == h for h in it) for t in needle)


class Matcher:
    """Normalised list names, an index on distinctive tokens, and the scorer."""

    def __init__(self, lists: Sequence[ScreeningList]) -> None:
        self.targets: list[_Target] = []
        self.generic_only: list[_Target] = []
        self.index: dict[str, list[int]] = {}
        self.cjk: dict[str, list[tuple[ScreeningEntry, str]]] = {}
        self.vocab: set[str] = set()
        for lst in lists:
            for entry in lst.entries:
                names: list[str] = [] if entry.kind == "region" else [entry.name]
                names.extend(a.name for a in entry.aliases)
                for text in names:
                    for tokens in latin_variants(text, optional_parens=True):
                        self._add(_Target.of(entry, text, tokens))
                for text in entry.aliases_zh:
                    for key in cjk_keys(text):
                        self.cjk.setdefault(key, []).append((entry, text))
        self.distinct_vocab: list[str] = sorted(self.index)

    def _add(self, target: _Target) -> None:
        self.vocab.update(target.form.tokens)
        if not target.form.distinct:
            self.generic_only.append(target)
            return
        n = len(self.targets)
        self.targets.append(target)
        for token in set(target.form.distinct):
            self.index.setdefault(token, []).append(n)

    # -- query side

    def _rejoin(self, tokens: list[str]) -> list[str]:
        """Merge or split query tokens into the list's distinctive tokens (Ho Shine = Hoshine)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in self.index:
                out.append(tokens[i] + tokens[i + 1])
                i += 2
                continue
            t = tokens[i]
            if t not in self.vocab and len(t) >= 5 and token_class(t) == "distinct":
                for cut in range(2, len(t) - 1):
                    head, tail = t[:cut], t[cut:]
                    if (
                        head in self.vocab
                        and tail in self.vocab
                        and (head in self.index or tail in self.index)
                    ):
                        out.extend((head, tail))
                        break
                else:
                    out.append(t)
            else:
                out.append(t)
            i += 1
        return out

    def _candidates(self, form: _Form) -> set[int]:
        found: set[int] = set()
        for token in form.distinct:
            hit = self.index.get(token)
            if hit is not None:
                found.update(hit)
            if len(token) >= FUZZY_TOKEN_MIN_LENGTH:
                for other, _score, _i in process.extract(
                    token,
                    self.distinct_vocab,
                    scorer=fuzz.ratio,
                    score_cutoff=FUZZY_TOKEN_MIN_RATIO,
                    limit=8,
                ):
                    if other != token and len(other) >= FUZZY_TOKEN_MIN_LENGTH:
                        found.update(self.index[other])
        return found

    def match(self, queries: Sequence[str], threshold: float) -> list[EntityMatch]:
        best: dict[tuple[str, int], EntityMatch] = {}
        for query in queries:
            if not query or not query.strip():
                continue
            for entry, alias, score in self._match_one(query):
                if score < threshold:
                    continue
                key = (entry.list_id, id(entry))
                current = best.get(key)
                if current is None or score > current.score:
                    best[key] = EntityMatch(
                        list_id=entry.list_id,
                        entry_name=entry.name,
                        matched_alias=alias,
                        query=query,
                        score=round(score, 1),
                        source=entry.source,
                        kind=entry.kind,
                        status=entry.status,
                    )
        return sorted(best.values(), key=lambda m: (-m.score, m.list_id, m.entry_name))

    def _match_one(self, query: str) -> Iterator[tuple[ScreeningEntry, str, float]]:
        if CJK.search(query):
            for key in cjk_keys(query):
                for entry, text in self.cjk.get(key, ()):
                    yield entry, text, 100.0
        for tokens in latin_variants(query, optional_parens=True):
            form = _Form.of(self._rejoin(tokens))
            for target in self.generic_only:
                score = _score_generic(target.form, form)
                if score:
                    yield target.entry, target.text, score
            if not form.distinct:
                continue
            for n in self._candidates(form):
                target = self.targets[n]
                yield target.entry, target.text, _score(target, form)


def _token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) < FUZZY_TOKEN_MIN_LENGTH:
        return 0.0
    ratio = fuzz.ratio(a, b)
    if ratio < FUZZY_TOKEN_MIN_RATIO:
        return 0.0
    # a spelling variant earns less than an exact token: one alone stays below the threshold
    return max(0.0, 1.0 - 1.5 * (1.0 - ratio / 100.0))


def _score_generic(listed: _Form, query: _Form) -> float:
    """A list name without distinctive tokens: the same tokens, or contained in order."""
    if set(listed.tokens) == set(query.tokens):
        return 100.0
    if (
        len(listed.tokens) >= 3
        and not query.distinct
        and _is_subsequence(listed.tokens, query.tokens)
    ):
        return GENERIC_CONTAINED_SCORE
    return 0.0


def _score(target: _Target, query: _Form) -> float:
    """Score a list name with distinctive tokens against a query (0-100)."""
    listed = target.form
    positions: list[int] = []
    recall = 0.0
    for token in listed.distinct:
        best, where = 0.0, -1
        for i, other in enumerate(query.distinct):
            sim = _token_similarity(token, other)
            if sim > best:
                best, where = sim, i
        recall += best
        if where >= 0:
            positions.append(where)
    precision = sum(
        max(_token_similarity(token, other) for other in listed.distinct)
        for token in query.distinct
    )
    score = 50.0 * (recall / len(listed.distinct) + precision / len(query.distinct))
    if listed.generic and query.generic:
        overlap = len(listed.generic & query.generic) / len(listed.generic | query.generic)
        score -= GENERIC_PENALTY * (1.0 - overlap)
    if target.places and query.places and not _places_agree(target.places, query.places):
        score -= PLACE_PENALTY
    listed_numbers = {t for t in listed.generic if t.isdigit()}
    query_numbers = {t for t in query.generic if t.isdigit()}
    if listed_numbers and query_numbers and not listed_numbers & query_numbers:
        score -= NUMBER_PENALTY
    if any(b < a for a, b in itertools.pairwise(positions)):
        score -= ORDER_PENALTY
    return max(0.0, score)
