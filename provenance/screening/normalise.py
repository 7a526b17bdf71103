"""Name normalisation for screening: folding, tokens, spellings, token classes.

1. fold: Unicode NFKD, combining marks dropped, case-folded; ``&`` is "and";
   apostrophes vanish (``Yuan'an`` = ``Yuanan``); other punctuation splits;
   runs of single letters join (``S.A. de C.V.`` = ``sa de cv``);
2. parenthesised parts are optional on the list side (``Hoshine Silicon
   Industry (Shanshan)`` also stands as ``Hoshine Silicon Industry``), and a
   name holding ``;`` is several names;
3. tokens are mapped (old spellings such as ``Sinkiang`` → ``xinjiang``,
   ``technologies`` → ``tech``, plural ``s`` dropped) and legal-form and filler
   words are removed (``co ltd company limited group holdings stock share
   joint ...``, pinyin ``youxian gongsi jituan``);
4. the remaining tokens fall in three classes (:func:`token_class`): **places**
   (provinces, cities and countries, each mapped to an ISO 3166 code),
   **generic** words that many company names share (``textile cotton industry
   tech new energy material ...``), and **distinctive** tokens, everything else.

The word lists are data files in ``provenance/data/`` (``screening-filler.txt``,
``screening-generic.txt``, ``screening-spellings.txt``, ``screening-places.txt``,
``screening-cjk-legal.txt``), read once at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from importlib import resources

__all__ = ["CJK", "PAREN", "PLACES", "cjk_keys", "latin_variants", "token_class"]


def _data_lines(name: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a shipped word-list file, comments and blank lines dropped."""
    text = resources.files("provenance").joinpath("data").joinpath(name).read_text("utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].rstrip()
        if line.strip():
            yield number, line


def _bad(name: str, number: int, line: str) -> ValueError:
    return ValueError(f"provenance/data/{name}:{number}: cannot read {line.strip()!r}")


def _word_set(name: str) -> frozenset[str]:
    return frozenset(word for _, line in _data_lines(name) for word in line.split())


def _spellings(name: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """``from = to`` lines: one-word spellings and two-word joins."""
    words: dict[str, str] = {}
    pairs: dict[tuple[str, str], str] = {}
    for number, line in _data_lines(name):
        left, sep, right = line.partition("=")
        source, target = left.split(), right.split()
        if not sep or len(target) != 1 or len(source) not in (1, 2):
            raise _bad(name, number, line)
        if len(source) == 1:
            words[source[0]] = target[0]
        else:
            pairs[(source[0], source[1])] = target[0]
    return words, pairs


def _places(name: str) -> dict[str, str]:
    """``CODE: tokens`` lines (indented lines continue) as ``{token: code}``."""
    by_code: dict[str, list[str]] = {}
    code: str | None = None
    for number, line in _data_lines(name):
        if line[0].isspace():
            if code is None:
                raise _bad(name, number, line)
            by_code[code].extend(line.split())
            continue
        head, sep, tokens = line.partition(":")
        if not sep or not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", head):
            raise _bad(name, number, line)
        code = head
        by_code.setdefault(code, []).extend(tokens.split())
    return {token: c for c, tokens in by_code.items() for token in tokens}


_FILLER = _word_set("screening-filler.txt")
"""Legal-form and filler words, after mapping and stemming."""

_GENERIC = _word_set("screening-generic.txt")
"""Words shared by many company names; they never make a match on their own."""

_MAP, _BIGRAMS = _spellings("screening-spellings.txt")

PLACES = _places("screening-places.txt")
"""Place token → ISO 3166 code (``kashgar`` → ``CN-XJ``)."""

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_LEGAL = tuple(line.strip() for _, line in _data_lines("screening-cjk-legal.txt"))
PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_NON_WORD = re.compile(r"[^\w\s]|_")
_SPECIAL_LETTERS = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ı": "i", "æ": "ae", "œ": "oe", "ß": "ss"}
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _pinyin_u(token: str) -> str:
    # ü is written u, v or yu: Lvzhou = Luzhou = Lyuzhou
    if token.startswith(("lv", "nv")) and len(token) > 2:
        return token[0] + "u" + token[2:]
    if token.startswith(("lyu", "nyu")):
        return token[0] + "u" + token[3:]
    return token


def _raw_tokens(text: str) -> list[str]:
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"['\u2019`\u00b4]", "", text)
    words = _NON_WORD.sub(" ", text).split()
    # join runs of single letters: "s a de c v" -> "sa de cv", "d o o" -> "doo"
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if run:
            out.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if w:
            out.append(w)
    return out


def _canonical(tokens: Iterable[str]) -> list[str]:
    mapped: list[str] = []
    for t in tokens:
        t = _pinyin_u(t)
        t = _MAP.get(t, t)
        t = _stem(t)
        mapped.append(_MAP.get(t, t))
    joined: list[str] = []
    i = 0
    while i < len(mapped):
        pair = (mapped[i], mapped[i + 1]) if i + 1 < len(mapped) else None
        if pair is not None and pair in _BIGRAMS:
            joined.append(_BIGRAMS[pair])
            i += 2
        else:
            joined.append(mapped[i])
            i += 1
    return [t for t in joined if t not in _FILLER]


def latin_variants(text: str, *, optional_parens: bool) -> list[list[str]]:
    """Token lists for a name: one per ``;`` part, and without parentheses."""
    variants: list[list[str]] = []
    for part in _fold(text).split(";"):
        if not part.strip():
            continue
        texts = [part.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ")]
        if optional_parens and PAREN.search(part):
            texts.append(PAREN.sub(" ", part))
        for t in texts:
            tokens = _canonical(_raw_tokens(t))
            if tokens and tokens not in variants:
                variants.append(tokens)
    return variants


def _cjk_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = "".join(c for c in s if c.isalnum())
    for word in _CJK_LEGAL:
        s = s.replace(word, "")
    return s


def cjk_keys(text: str) -> set[str]:
    s = unicodedata.normalize("NFKC", text)
    keys = {_cjk_key(s), _cjk_key(PAREN.sub("", s))}
    keys.discard("")
    return keys


def token_class(token: str) -> str:
    if token in PLACES:
        return "place"
    if token in _GENERIC or any(c.isdigit() for c in token):
        return "generic"
    return "distinct"
