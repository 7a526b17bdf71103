"""Authentication by a party's own Ed25519 key: challenge, signature, bearer token.

No passwords. A client proves it holds a registered, unrevoked key of a party:

1. ``POST /v1/auth/challenge {"party", "kid"}`` returns a fresh 256-bit
   ``nonce`` (valid ``challenge_ttl`` seconds, usable once) and the ledger's
   ``origin``;
2. the client signs, with that key (Ed25519, RFC 8032), the domain-separated
   message :func:`ledger.login.login_message`::

       custody-auth/1 LF <origin> LF <party> LF <kid> LF <nonce> LF <timestamp>

   (UTF-8, lines joined by a single ``\\n``, no final newline; ``timestamp``
   is the client's clock, RFC 3339 UTC with ``Z``);
3. ``POST /v1/auth/token {"party", "kid", "nonce", "timestamp", "signature"}``
   checks, in order: the challenge exists for that (party, kid), has not
   expired and is consumed now (a replayed nonce is refused); the timestamp
   is within ``clock_skew`` of the server clock; the key is registered to that
   party and not revoked; the signature verifies. It returns an opaque bearer
   token valid ``token_ttl`` seconds, stored only as its SHA-256.

Each later request sends ``Authorization: Bearer <token>``; a token is refused
once expired or logged out, or as soon as its key is revoked. Failures are
401 with a code that does not say whether the party or key exists.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import UnauthorizedError
from api.schemas import TokenRequest
from api.tokens import TokenStore
from api.visibility import Caller, signed_roles
from ledger.errors import InputError, StatementError
from ledger.keys import b64decode, is_valid_signature
from ledger.log import Ledger
from ledger.login import login_message
from ledger.statements import parse_time

log = logging.getLogger(__name__)

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{16,128}")


def format_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    party: str
    kid: str
    expires_at: int


def _bad_credentials() -> UnauthorizedError:
    return UnauthorizedError(
        "login failed: the key is not a registered, unrevoked key of that party, "
        "or the signature does not verify",
        code="unauthorized.invalid_credentials",
    )


def issue_token(
    ledger: Ledger,
    tokens: TokenStore,
    req: TokenRequest,
    *,
    token_ttl: int,
    clock_skew: int,
) -> IssuedToken:
    """Steps of ``POST /v1/auth/token`` (module docstring, step 3)."""
    try:
        claimed = parse_time(req.timestamp, "timestamp")
    except StatementError as e:
        raise InputError(str(e), code="invalid_input.timestamp") from e
    if not tokens.consume_challenge(req.nonce, req.party, req.kid):
        raise UnauthorizedError(
            "unknown, expired or already used challenge; ask for a new one",
            code="unauthorized.challenge",
        )
    skew = abs((datetime.now(UTC) - claimed).total_seconds())
    if skew > clock_skew:
        raise UnauthorizedError(
            f"timestamp is {int(skew)} s away from the server clock (limit {clock_skew} s)",
            code="unauthorized.clock_skew",
            details={"limit_seconds": clock_skew},
        )
    with ledger.store.read() as r:
        key = r.key(req.kid)
        party = r.party(req.party)
    if key is None or party is None or key.party != req.party or key.revoked_seq is not None:
        log.info("login refused for %s: key unknown, foreign or revoked", req.party)
        raise _bad_credentials()
    message = login_message(ledger.origin, req.party, req.kid, req.nonce, req.timestamp)
    if not is_valid_signature(key.public_key, b64decode(req.signature), message):
        log.info("login refused for %s: bad signature", req.party)
        raise _bad_credentials()
    token, expires = tokens.issue(req.party, req.kid, token_ttl)
    return IssuedToken(token, req.party, req.kid, expires)


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="partyToken",
    description=(
        "A short-lived token from `POST /v1/auth/token`, earned by signing a challenge "
        "with the party's registered Ed25519 key."
    ),
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authenticate(ledger: Ledger, tokens: TokenStore, token: str) -> Caller:
    """The caller a bearer token stands for, or UnauthorizedError."""
    if not _TOKEN_CHARS.fullmatch(token):
        raise UnauthorizedError("malformed bearer token", code="unauthorized.invalid_token")
    rec = tokens.lookup(token)
    if rec is None:
        raise UnauthorizedError(
            "unknown or expired bearer token; log in again", code="unauthorized.invalid_token"
        )
    with ledger.store.read() as r:
        key = r.key(rec.kid)
        party = r.party(rec.party)
        roles = () if party is None else signed_roles(r, party)
    if key is None or party is None or key.party != rec.party or key.revoked_seq is not None:
        raise UnauthorizedError(
            "the key this token was issued to has been revoked", code="unauthorized.key_revoked"
        )
    return Caller(rec.party, rec.kid, roles, rec.expires_at)


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise UnauthorizedError(
            "this endpoint needs `Authorization: Bearer <token>` (see POST /v1/auth/challenge)",
            code="unauthorized.missing_token",
        )
    return credentials.credentials


def require_caller(request: Request, credentials: Credentials) -> Caller:
    """FastAPI dependency: the authenticated caller (401 otherwise)."""
    services = request.app.state.services
    return authenticate(services.ledger, services.tokens, bearer_token(credentials))


CallerDep = Annotated[Caller, Depends(require_caller)]
