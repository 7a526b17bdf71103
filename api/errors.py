"""HTTP errors: the one place where custody errors become HTTP responses.

Every error response has the body ``{"error": {"code", "message", "details"}}``
with the same stable ``code`` the CLI prints with ``--json``
(:mod:`ledger.errors`). Errors of the API itself extend that tree::

    CustodyError (ledger.errors)            HTTP
    ├── InputError and subclasses           400 (StatementError 422,
    │                                            RejectedError/ConflictError 409)
    ├── ProofError, NoteError               400
    ├── NotFoundError                       404
    ├── IntegrityError                      409 (stored data does not hold)
    ├── ConfigError                         503
    └── ApiError
        ├── UnauthorizedError   unauthorized.*   401 (no, bad or expired token; failed login)
        ├── ForbiddenError      forbidden.*      403 (authenticated, but not allowed to see it)
        ├── MethodNotAllowedError                405
        ├── TooLargeError       too_large.*      413 (body or batch over the documented limit)
        ├── UnsupportedMediaError                415
        ├── RateLimitedError    rate_limited     429 (with Retry-After)
        └── UnavailableError    unavailable      503 (database unreachable or busy)

Request validation (a query parameter of the wrong type, a JSON body that does
not match its schema) is ``invalid_input.request`` 422; a body that is not
JSON is ``invalid_input.json`` 400. A client that disconnects before sending
its whole body (``ClientDisconnect``) is the client's problem: one quiet info line,
no error, no traceback (the 400 it is answered cannot reach it). Anything else
is a bug: the catch-all answers 500 ``internal`` with no details (the traceback
goes to the log, never to the client).
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ledger.errors import (
    ConfigError,
    ConflictError,
    CustodyError,
    IntegrityError,
    NoteError,
    NotFoundError,
    ProofError,
    RejectedError,
    StatementError,
)

log = logging.getLogger(__name__)


class ApiError(CustodyError):
    """An error of the HTTP layer; ``status`` is its HTTP status."""

    code = "api"
    status = 400
    headers: ClassVar[dict[str, str] | None] = None


class UnauthorizedError(ApiError):
    """No credentials, bad or expired credentials, or a failed login."""

    code = "unauthorized"
    status = 401
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": 'Bearer realm="custody"'}


class ForbiddenError(ApiError):
    """Authenticated, but the caller may not see this (or it does not exist)."""

    code = "forbidden"
    status = 403


class MethodNotAllowedError(ApiError):
    code = "method_not_allowed"
    status = 405


class TooLargeError(ApiError):
    code = "too_large"
    status = 413


class UnsupportedMediaError(ApiError):
    code = "unsupported_media_type"
    status = 415


class RateLimitedError(ApiError):
    """Over the per-client rate; ``retry_after`` seconds until it would pass."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        super().__init__(message, details={"retry_after": wait})
        self.retry_after = wait


class UnavailableError(ApiError):
    code = "unavailable"
    status = 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


class HTTPStatusError(StarletteHTTPException):
    """An HTTP error raised where only an HTTPException passes through (request
    body streaming inside FastAPI's body parsing); carries a stable code."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code
        self.details = details


def status_of(error: CustodyError) -> int:
    """The HTTP status of a custody error (see the module docstring)."""
    if isinstance(error, ApiError):
        return error.status
    if isinstance(error, RejectedError | ConflictError | IntegrityError):
        return 409
    if isinstance(error, StatementError):
        return 422
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConfigError):
        return 503
    if isinstance(error, ProofError | NoteError):
        return 400
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(error: CustodyError, **extra: Any) -> JSONResponse:
    """The JSON response for ``error``; ``extra`` adds to its details."""
    headers = error.headers if isinstance(error, ApiError) else None
    if isinstance(error, RateLimitedError):
        headers = {"Retry-After": str(error.retry_after)}
    if isinstance(error, ConfigError):
        headers = {"Retry-After": "5"}
    details = {**extra, **error.details}
    return JSONResponse(
        error_body(error.code, error.message, jsonable(details)),
        status_code=status_of(error),
        headers=headers,
    )


def jsonable(value: Any) -> Any:
    """Details made safe for JSON: anything exotic becomes its ``str``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in exc.errors()[:20]:
        out.append(
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "type": str(e.get("type", "")),
                "message": str(e.get("msg", "")),
            }
        )
    return out


async def _custody_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CustodyError)
    return error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = _validation_details(exc)
    if any(p["type"] == "json_invalid" for p in problems):
        return JSONResponse(
            error_body("invalid_input.json", "the request body is not valid JSON", {}),
            status_code=400,
        )
    where = ", ".join(".".join(p["loc"]) + ": " + p["message"] for p in problems[:3])
    return JSONResponse(
        error_body("invalid_input.request", f"invalid request: {where}", {"problems": problems}),
        status_code=422,
    )


_HTTP_CODES = {
    400: ("invalid_input", "bad request"),
    401: ("unauthorized", "authentication required"),
    403: ("forbidden", "forbidden"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "method not allowed"),
    413: ("too_large", "request body too large"),
    415: ("unsupported_media_type", "unsupported media type"),
    429: ("rate_limited", "too many requests"),
}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    code, default = _HTTP_CODES.get(status, ("invalid_input", "bad request"))
    if status >= 500:
        code, default = "internal", "internal server error"
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else default
    if status == 404 and message == "Not Found":
        message = "no such endpoint"
    details: dict[str, Any] = {}
    if isinstance(exc, HTTPStatusError):
        code, details = exc.code, exc.details
    return JSONResponse(
        error_body(code, message, details), status_code=status, headers=dict(exc.headers or {})
    )


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database error: %s", exc.__class__.__name__, exc_info=exc)
    return error_response(UnavailableError("the ledger database is unavailable; retry shortly"))


async def _client_disconnect(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClientDisconnect)
    peer = request.client.host if request.client is not None else "unknown"
    log.info("client %s disconnected before sending the whole request body", peer)
    return JSONResponse(
        error_body("invalid_input.incomplete", "the client disconnected mid-request", {}),
        status_code=400,
    )


async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal", "internal server error", {}), status_code=500)


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""
    app.add_exception_handler(CustodyError, _custody_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(Exception, _internal_error)
