"""``/v1/auth``: log in with a party key (challenge, token), who am I, log out.

The flow and the message format are in :mod:`api.auth` and ``docs/api.md``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import CallerDep, Credentials, IssuedToken, bearer_token, format_ms, issue_token
from api.bodies import StrictJsonRoute
from api.deps import error_responses, rate_limit, services
from api.schemas import Challenge, ChallengeRequest, Token, TokenRequest, WhoAmI
from ledger.login import DOMAIN

router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictJsonRoute)

MESSAGE_FORMAT = DOMAIN + "\\n<origin>\\n<party>\\n<kid>\\n<nonce>\\n<timestamp>"


@router.post(
    "/challenge",
    response_model=Challenge,
    summary="Start a login: get a nonce to sign",
    description=(
        "Returns a fresh single-use nonce for (party, kid), valid for a short time "
        "(default 120 s), and the ledger origin. Sign the message "
        "`custody-auth/1\\n<origin>\\n<party>\\n<kid>\\n<nonce>\\n<timestamp>` "
        "(UTF-8, no final newline) with that Ed25519 key and send it to "
        "`POST /v1/auth/token`. A challenge is issued whether or not the party or key "
        "exists. Rate-limited per client address."
    ),
    responses=error_responses(413, 429),
)
async def challenge(request: Request, body: ChallengeRequest) -> Challenge:
    svc = services(request)
    rate_limit(svc.auth_limiter, request, 1, "login requests")
    ttl = svc.settings.limits.challenge_ttl
    nonce, expires = await run_in_threadpool(svc.tokens.new_challenge, body.party, body.kid, ttl)
    return Challenge(
        nonce=nonce,
        origin=svc.ledger.origin,
        party=body.party,
        kid=body.kid,
        expires_at=format_ms(expires),
        message=MESSAGE_FORMAT,
    )


@router.post(
    "/token",
    response_model=Token,
    summary="Finish a login: trade the signed challenge for a bearer token",
    description=(
        "Checks that the challenge is live and unused (a replay is refused), the "
        "timestamp within 5 minutes of the server clock, the key registered to the "
        "party and not revoked, and the signature valid; returns a bearer token "
        "(default lifetime 15 minutes) stored by the server only as its SHA-256. "
        "Rate-limited per client address."
    ),
    responses=error_responses(401, 413, 429),
)
async def token(request: Request, body: TokenRequest) -> Token:
    issued = await login(request, body, "login requests")
    lim = services(request).settings.limits
    return Token(
        token=issued.token,
        token_type="Bearer",  # noqa: S106 (the token scheme, not a secret)
        expires_in=lim.token_ttl,
        expires_at=format_ms(issued.expires_at),
        party=issued.party,
        kid=issued.kid,
    )


@router.get(
    "/whoami",
    response_model=WhoAmI,
    summary="The party a token stands for",
    responses=error_responses(401),
)
def whoami(caller: CallerDep) -> WhoAmI:
    return WhoAmI(
        party=caller.party,
        kid=caller.kid,
        roles=list(caller.roles),
        sees_everything=caller.privileged,
        expires_at=format_ms(caller.expires_at),
    )


@router.delete(
    "/token",
    status_code=204,
    summary="Log out: revoke the presented token",
    responses={204: {"description": "The token is revoked."}, **error_responses(401)},
)
def logout(request: Request, caller: CallerDep, credentials: Credentials) -> Response:
    services(request).tokens.revoke(bearer_token(credentials))
    return Response(status_code=204)


async def login(request: Request, body: TokenRequest, what: str) -> IssuedToken:
    """Rate-limit ``what`` per client address, then check the signed challenge and issue a
    token (shared by ``POST /v1/auth/token`` and the console's sign-in)."""
    svc = services(request)
    rate_limit(svc.auth_limiter, request, 1, what)
    lim = svc.settings.limits
    return await run_in_threadpool(
        issue_token,
        svc.ledger,
        svc.tokens,
        body,
        token_ttl=lim.token_ttl,
        clock_skew=lim.clock_skew,
    )
