"""GS1 identifiers: check digits, GLNs, EPC URIs (GS1 Tag Data Standard) and
GS1 Digital Link URIs (GS1 Digital Link: URI Syntax 1.2, §4.11 canonical form).

Pure functions on strings. :func:`epc_to_digital_link` turns a pure-identity
EPC URI (``urn:epc:id:sgtin:0614141.107346.2017``), an EPC class URI
(``urn:epc:class:lgtin:...``) or a GTIN pattern (``urn:epc:idpat:sgtin:CP.IR.*``)
into the canonical Digital Link on ``https://id.gs1.org``;
:func:`constrain_digital_link` reduces any Digital Link to the constrained
canonical form the CBV 2.0 event hash uses (domain ``id.gs1.org``, no query,
only the finest level of identification).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "check_digit",
    "constrain_digital_link",
    "epc_to_digital_link",
    "gln_of_location",
    "is_valid_gln",
    "sgln",
]

CANONICAL_HOST: Final = "https://id.gs1.org"

_DIGITS = re.compile(r"[0-9]+")
_GLN = re.compile(r"[0-9]{13}")


@lru_cache(maxsize=4096)  # a document repeats its company prefixes and items
def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of ``digits`` (the key without its check digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def is_valid_gln(text: str) -> bool:
    """Whether ``text`` is 13 digits whose last is the GS1 check digit of the first 12."""
    return _GLN.fullmatch(text) is not None and check_digit(text[:12]) == text[12]


def _key(company: str, reference: str, length: int) -> str | None:
    """``company + reference`` of ``length`` digits plus its check digit, or ``None``."""
    body = company + reference
    if len(body) != length or _DIGITS.fullmatch(body) is None:
        return None
    return body + check_digit(body)


def _gtin(company: str, item: str) -> str | None:
    """GTIN-14 of an EPC's company prefix and indicator-plus-item reference."""
    if len(company + item) != 13 or _DIGITS.fullmatch(company + item) is None or not item:
        return None
    body = item[0] + company + item[1:]
    return body + check_digit(body)


def _sscc(company: str, serial: str) -> str | None:
    if len(company + serial) != 17 or _DIGITS.fullmatch(company + serial) is None or not serial:
        return None
    body = serial[0] + company + serial[1:]
    return body + check_digit(body)


@lru_cache(maxsize=4096)
def gln_of_location(uri: str) -> str | None:
    """The GLN of an SGLN or PGLN EPC URI, or of a ``414``/``417`` Digital Link, else ``None``."""
    if uri.startswith(("urn:epc:id:sgln:", "urn:epc:id:pgln:")):
        parts = uri[16:].split(".")
        if len(parts) < 2:
            return None
        return _key(parts[0], parts[1], 12)
    link = constrain_digital_link(uri) if uri.startswith(("http://", "https://")) else None
    if link is not None:
        match = re.fullmatch(r"https://id\.gs1\.org/(?:414|417)/([0-9]{13})(?:/254/.*)?", link)
        if match and is_valid_gln(match.group(1)):
            return match.group(1)
    return None


def sgln(gln: str, company_digits: int = 7, extension: str = "0") -> str:
    """The SGLN EPC URI of ``gln`` (the company prefix length is not in the GLN itself)."""
    return f"urn:epc:id:sgln:{gln[:company_digits]}.{gln[company_digits:12]}.{extension}"


def _id_link(scheme: str, fields: list[str]) -> str | None:
    """Digital Link of an ``urn:epc:id:<scheme>:<fields>`` URI, or ``None``."""
    if scheme == "sgtin" and len(fields) == 3:
        gtin = _gtin(fields[0], fields[1])
        return None if gtin is None else f"/01/{gtin}/21/{fields[2]}"
    if scheme == "sscc" and len(fields) == 2:
        sscc = _sscc(fields[0], fields[1])
        return None if sscc is None else f"/00/{sscc}"
    if scheme == "sgln" and len(fields) == 3:
        gln = _key(fields[0], fields[1], 12)
        if gln is None:
            return None
        return f"/414/{gln}" if fields[2] == "0" else f"/414/{gln}/254/{fields[2]}"
    if scheme == "pgln" and len(fields) == 2:
        gln = _key(fields[0], fields[1], 12)
        return None if gln is None else f"/417/{gln}"
    if scheme == "grai" and len(fields) == 3:
        grai = _key(fields[0], fields[1], 12)
        return None if grai is None else f"/8003/0{grai}{fields[2]}"
    if scheme == "giai" and len(fields) == 2:
        return f"/8004/{fields[0]}{fields[1]}"
    if scheme in ("gsrn", "gsrnp") and len(fields) == 2:
        gsrn = _key(fields[0], fields[1], 17)
        ai = "8018" if scheme == "gsrn" else "8017"
        return None if gsrn is None else f"/{ai}/{gsrn}"
    if scheme in ("gdti", "sgcn") and len(fields) == 3:
        key = _key(fields[0], fields[1], 12)
        ai = "253" if scheme == "gdti" else "255"
        return None if key is None else f"/{ai}/{key}{fields[2]}"
    if scheme == "ginc" and len(fields) == 2:
        return f"/401/{fields[0]}{fields[1]}"
    if scheme == "gsin" and len(fields) == 2:
        gsin = _key(fields[0], fields[1], 16)
        return None if gsin is None else f"/402/{gsin}"
    if scheme == "cpi" and len(fields) == 3:
        return f"/8010/{fields[0]}{fields[1]}/8011/{fields[2]}"
    if scheme == "itip" and len(fields) == 5:
        gtin = _gtin(fields[0], fields[1])
        if gtin is None:
            return None
        return f"/8006/{gtin}{fields[2]}{fields[3]}/21/{fields[4]}"
    if scheme == "upui" and len(fields) == 3:
        gtin = _gtin(fields[0], fields[1])
        return None if gtin is None else f"/01/{gtin}/235/{fields[2]}"
    return None


def epc_to_digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link of an EPC (class, pattern) URI, or ``None``."""
    if uri.startswith("urn:epc:id:"):
        scheme, _, rest = uri[11:].partition(":")
        path = _id_link(scheme, rest.split("."))
    elif uri.startswith("urn:epc:class:lgtin:"):
        fields = uri[20:].split(".")
        gtin = _gtin(fields[0], fields[1]) if len(fields) == 3 else None
        path = None if gtin is None else f"/01/{gtin}/10/{fields[2]}"
    elif uri.startswith("urn:epc:idpat:sgtin:"):
        fields = uri[20:].split(".")
        gtin = _gtin(fields[0], fields[1]) if len(fields) == 3 and fields[2] == "*" else None
        path = None if gtin is None else f"/01/{gtin}"
    else:
        return None
    return None if path is None else CANONICAL_HOST + path


#: Primary GS1 keys of a Digital Link, and the qualifiers kept, finest first.
_QUALIFIERS: Final = {
    "00": (),
    "01": ("21", "235", "10"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("21", "10"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}


def constrain_digital_link(uri: str) -> str | None:
    """The constrained canonical form of a GS1 Digital Link URI, or ``None`` if it is not one.

    The host becomes ``id.gs1.org``, the query and fragment go, and only the
    primary key with its finest qualifier stays (``01``+``21`` over ``01``+``10``).
    A GTIN shorter than 14 digits is padded with zeros.
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    for index, segment in enumerate(segments):
        if segment in _QUALIFIERS and index + 1 < len(segments):
            value = segments[index + 1]
            if segment in ("00", "01", "414", "417") and _DIGITS.fullmatch(value) is None:
                continue
            pairs = dict(zip(segments[index + 2 :: 2], segments[index + 3 :: 2], strict=False))
            if segment == "01":
                value = value.zfill(14)
            path = f"/{segment}/{value}"
            for qualifier in _QUALIFIERS[segment]:
                if qualifier in pairs:
                    path += f"/{qualifier}/{pairs[qualifier]}"
                    break
            return CANONICAL_HOST + path
    return None
