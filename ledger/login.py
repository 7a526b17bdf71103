"""The login message: the bytes a party signs to prove it holds one of its keys.

A custody server (``api.auth``) and its client (``cli.client``) both use
:func:`login_message`, so the signed bytes are produced in one place::

    custody-auth/1 LF <origin> LF <party> LF <kid> LF <nonce> LF <timestamp>

UTF-8, lines joined by a single ``\\n``, no final newline; ``origin`` is the
ledger's log origin (so a signature for one ledger is useless at another),
``nonce`` the server's single-use challenge, ``timestamp`` the client's clock
(RFC 3339 UTC with ``Z``). The ``custody-auth/1`` domain keeps the signature
apart from every statement signature (DSSE PAE) and checkpoint note the same
key could make. See ``docs/api.md``.
"""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "custody-auth/1"


def login_message(origin: str, party: str, kid: str, nonce: str, timestamp: str) -> bytes:
    """The exact bytes a client signs to log in."""
    return "\n".join((DOMAIN, origin, party, kid, nonce, timestamp)).encode("utf-8")
