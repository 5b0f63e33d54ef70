"""Every error of the API is JSON of one shape::

    {"detail": [{"path": "body.centers[3].pools[0].nodes", "message": "must be >= 0"}]}

``path`` names where the problem is: ``body.…`` (request body), ``query.limit``, ``path.center_id``, or ''
for the request as a whole. Status codes: 400 unreadable body, 403 forbidden (role, scope, quota), 404 not
found, 405, 409 conflict (duplicate id, object still referenced), 413 body too large, 422 invalid value or
unknown reference, 503 database unreachable, 500 only for bugs (logged, without details).

This is the ONE place where errors become HTTP answers: the services raise
:class:`~huanghe.core.errors.ServiceError` subclasses (:data:`SERVICE_STATUS` maps them), and the API layer
raises ``HTTPException`` for authentication and authorisation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from huanghe.core.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServiceError,
    TopologyError,
    format_loc,
    humanize,
)
from huanghe.domain.bounds import TOO_LARGE

log = logging.getLogger("huanghe.api")
#: ``Retry-After`` of a 503 while the database does not answer, seconds.
DB_RETRY_AFTER_S = 2

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NOT_BODY = ("header.", "query.", "path.")


def error_response(
    status: int, errors: Iterable[FieldError], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body for ``errors`` (at least one entry, even if empty)."""
    detail = [{"path": e.path, "message": e.message} for e in errors] or [{"path": "", "message": "error"}]
    return JSONResponse({"detail": detail}, status_code=status, headers=dict(headers) if headers else None)


def prefixed(errors: Sequence[FieldError], prefix: str) -> list[FieldError]:
    """Prefix each path: ``nodes`` → ``body.nodes``, ``[2].a`` → ``body[2].a``, '' → ``body``."""
    out = []
    for e in errors:
        sep = "" if not e.path or e.path.startswith("[") else "."
        out.append(FieldError(f"{prefix}{sep}{e.path}", e.message))
    return out


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            reason = ctx.get("error", "")
            errors.append(FieldError("body", f"invalid JSON{': ' + str(reason) if reason else ''}"))
            continue
        errors.append(FieldError(format_loc(loc), humanize(str(err.get("msg", "invalid value")))))
    return errors


#: HTTP status of each kind of service error (the first matching class wins; any other ServiceError → 400).
SERVICE_STATUS: dict[type[ServiceError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    ConflictError: 409,
    InvalidError: 422,
}


def _service_errors(exc: ServiceError, method: str) -> list[FieldError]:
    """The errors of ``exc`` with paths of body fields prefixed ``body.`` (paths of a refusal always name
    the body and come first; a NotFound names no field)."""
    errors = exc.errors
    if isinstance(exc, ForbiddenError):
        return prefixed([e for e in errors if e.path], "body") + [e for e in errors if not e.path]
    if method in _BODY_METHODS and not isinstance(exc, NotFoundError):
        # a path already naming a header, query or path parameter stays as it is
        return [e if not e.path or e.path.startswith(_NOT_BODY) else prefixed([e], "body")[0] for e in errors]
    return errors


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the shape above."""

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        too_large = any(err.get("type") == TOO_LARGE for err in exc.errors())  # a command over its limit
        return error_response(413 if too_large else 422, _validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, list) and all(isinstance(d, FieldError) for d in detail):
            return error_response(exc.status_code, detail, exc.headers)
        return error_response(exc.status_code, [FieldError("", str(detail))], exc.headers)

    @app.exception_handler(TopologyError)
    async def _topology(_req: Request, exc: TopologyError) -> JSONResponse:
        return error_response(422, prefixed(exc.errors, "body"))

    @app.exception_handler(ServiceError)
    async def _service(req: Request, exc: ServiceError) -> JSONResponse:
        status = next((code for cls, code in SERVICE_STATUS.items() if isinstance(exc, cls)), 400)
        return error_response(status, _service_errors(exc, req.method))

    @app.exception_handler(DataError)
    async def _data(_req: Request, exc: DataError) -> JSONResponse:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "invalid value"
        return error_response(422, [FieldError("", f"value not accepted by the database: {first}")])

    @app.exception_handler(IntegrityError)
    async def _integrity(_req: Request, exc: IntegrityError) -> JSONResponse:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "constraint violated"
        return error_response(409, [FieldError("", f"conflicts with stored data: {first}")])

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _db_down(req: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error on %s %s: %s", req.method, req.url.path, exc.orig)
        return error_response(
            503, [FieldError("", "database unavailable, retry later (数据库不可用，请稍后重试)")],
            {"Retry-After": str(DB_RETRY_AFTER_S)},
        )  # fmt: skip

    @app.exception_handler(PoolTimeoutError)
    async def _pool_busy(req: Request, exc: PoolTimeoutError) -> JSONResponse:
        # every connection of this process's pool stayed in use for the pool's timeout: busy, not broken
        log.warning("database pool exhausted on %s %s: %s", req.method, req.url.path, exc)
        return error_response(
            503, [FieldError("", "server busy: no database connection free, retry later (服务器繁忙，请稍后重试)")],
            {"Retry-After": str(DB_RETRY_AFTER_S)},
        )  # fmt: skip

    @app.exception_handler(RecursionError)
    async def _too_deep(_req: Request, _exc: RecursionError) -> JSONResponse:
        return error_response(400, [FieldError("", "the request is nested too deeply")])

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", req.method, req.url.path, exc_info=exc)
        return error_response(500, [FieldError("", "internal server error")])
