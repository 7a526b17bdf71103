"""A tlog-tiles client written from the C2SP specifications alone, for the tests.

It knows nothing of custody: it imports no custody module. From a ``fetch(path)``
(HTTP, a directory, anything) it reads ``checkpoint``, verifies its Ed25519 signature
with a note verifier key (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), then proves
the inclusion of entries from hash tiles and entry bundles alone (c2sp.org/tlog-tiles,
RFC 6962 / RFC 9162 hashing and proof verification).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

Fetch = Callable[[str], bytes]


class ClientError(Exception):
    pass


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tile_index_path(n: int) -> str:
    parts = []
    while True:
        parts.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    parts.reverse()
    return "/".join(("x%03d" if i < len(parts) - 1 else "%03d") % p for i, p in enumerate(parts))


def tile_path(level: int | str, n: int, width: int) -> str:
    suffix = "" if width == 256 else f".p/{width}"
    return f"tile/{level}/{tile_index_path(n)}{suffix}"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: bytes, vkey: str) -> Checkpoint:
    """Verify the note's signature by ``vkey`` (``name+hash+base64(0x01 || key)``)."""
    name, key_hash_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    if raw[0] != 0x01 or len(raw) != 33:
        raise ClientError("not an Ed25519 verifier key")
    key_hash = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_hash.hex() != key_hash_hex:
        raise ClientError("verifier key hash does not match")
    text = note.decode("utf-8")
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise ClientError("note has no signature block")
    body += "\n"
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise ClientError(f"bad signature line {line!r}")
        signer, sig_b64 = line[2:].split(" ")
        blob = base64.b64decode(sig_b64)
        if signer == name and blob[:4] == key_hash:
            try:
                VerifyKey(raw[1:]).verify(body.encode(), blob[4:])
            except BadSignatureError as e:
                raise ClientError("checkpoint signature does not verify") from e
            good = True
    if not good:
        raise ClientError("checkpoint not signed by the key")
    lines = body.split("\n")
    if lines[0] != name:
        raise ClientError("origin is not the key name")
    return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2]))


class TileReader:
    """Hashes of a tree of ``size`` leaves, read from its tiles (cached)."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self.fetch = fetch
        self.size = size
        self.tiles: dict[str, list[bytes]] = {}
        self.subtrees: dict[tuple[int, int], bytes] = {}

    def _width(self, level: int, n: int) -> int:
        count = self.size // 256**level
        return 256 if count >= (n + 1) * 256 else count - n * 256

    def tile(self, level: int, n: int) -> list[bytes]:
        path = tile_path(level, n, self._width(level, n))
        if path not in self.tiles:
            data = self.fetch(path)
            width = self._width(level, n)
            if len(data) != 32 * width:
                raise ClientError(f"{path}: {len(data)} bytes, expected {32 * width}")
            self.tiles[path] = [data[i : i + 32] for i in range(0, len(data), 32)]
        return self.tiles[path]

    def entries(self, n: int) -> list[bytes]:
        width = self._width(0, n)
        data = self.fetch(tile_path("entries", n, width))
        out, at = [], 0
        while at < len(data):
            length = int.from_bytes(data[at : at + 2], "big")
            out.append(data[at + 2 : at + 2 + length])
            at += 2 + length
        if at != len(data) or len(out) != width:
            raise ClientError(f"entry bundle {n}: malformed or wrong count")
        return out

    def subtree(self, k: int, i: int) -> bytes:
        """MTH of the perfect subtree of 2**k leaves starting at leaf i * 2**k."""
        key = (k, i)
        if key not in self.subtrees:
            level, j = divmod(k, 8)
            if j == 0:
                h = self.tile(level, i // 256)[i % 256]
            else:
                h = node_hash(self.subtree(k - 1, 2 * i), self.subtree(k - 1, 2 * i + 1))
            self.subtrees[key] = h
        return self.subtrees[key]

    def mth(self, lo: int, hi: int) -> bytes:
        """RFC 6962 MTH(D[lo:hi]), from tiles."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.subtree(n.bit_length() - 1, lo // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """RFC 6962 PATH(m, D[lo:hi])."""
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m - lo < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m, lo + k, hi), self.mth(lo, lo + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        raise ClientError("index beyond size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ClientError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ClientError(f"inclusion of entry {index} does not verify")


def verify_log(fetch: Fetch, vkey: str) -> tuple[Checkpoint, list[bytes]]:
    """Verify the checkpoint and the inclusion of every entry; return the entries."""
    cp = open_checkpoint(fetch("checkpoint"), vkey)
    reader = TileReader(fetch, cp.size)
    entries: list[bytes] = []
    for n in range((cp.size + 255) // 256):
        entries += reader.entries(n)
    if len(entries) != cp.size:
        raise ClientError("entry bundles do not cover the tree")
    if cp.size and reader.mth(0, cp.size) != cp.root:
        raise ClientError("root from tiles differs from the checkpoint")
    for i, entry in enumerate(entries):
        verify_inclusion(leaf_hash(entry), i, cp.size, reader.path(i, 0, cp.size), cp.root)
    return cp, entries
