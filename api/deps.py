"""Helpers the routes share: the app's services, the client address, refusals,
and the documented error responses of each kind of endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.errors import ForbiddenError, RateLimitedError
from api.ratelimit import TokenBucketLimiter
from api.schemas import ErrorBody
from api.services import Services


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_address(request: Request) -> str:
    """The peer address (proxies' forwarding headers are not trusted)."""
    return request.client.host if request.client is not None else "unknown"


def rate_limit(limiter: TokenBucketLimiter, request: Request, cost: float, what: str) -> None:
    wait = limiter.take(client_address(request), cost)
    if wait > 0:
        raise RateLimitedError(
            f"too many {what} from this client; retry in {wait:.1f} s "
            f"(limit {limiter.rate:g}/s, burst {limiter.burst})",
            retry_after=wait,
        )


def not_visible(what: str, party: str) -> ForbiddenError:
    """The one refusal for things a caller may not see, existing or not."""
    return ForbiddenError(
        f"{what} is not visible to {party} (or does not exist)",
        code="forbidden.not_visible",
        details={"party": party},
    )


_DESCRIPTIONS = {
    400: "Malformed input (bad JSON, envelope or parameter).",
    401: "No bearer token, or an invalid, expired or revoked one.",
    403: "Not visible to the caller (the same answer whether or not it exists).",
    404: "No such entry, lot, size or endpoint.",
    409: "Rejected by the custody rules, or conflicting with the ledger.",
    413: "Body or batch over the documented limit.",
    415: "Unsupported request media type.",
    422: "Invalid statement or request parameters.",
    429: "Rate limit exceeded; see Retry-After.",
    503: "The ledger database is unavailable; retry shortly.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (always with 400, 422 and 503)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, 400, 422, 503}):
        spec: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        if code == 429:
            spec["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"},
                }
            }
        out[code] = spec
    return out


PUBLIC_ERRORS = error_responses(404)
AUTH_ERRORS = error_responses(401, 403, 404)
