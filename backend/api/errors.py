"""The engine's errors as HTTP answers, in one place: bad input 422 with one message per
field, a forbidden transition 409, a busy case 503 with Retry-After, no such case 404, and a
database or Redis that does not answer in time (a lock held, a full pool, a server down) a
503 with Retry-After, never a hang or a 500."""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.core.errors import CaseNotFound, CommandInvalid, TransitionRefused, VersionConflict
from backend.core.i18n import t
from backend.halls.alerts import AlertConflict, AlertNotFound

log = logging.getLogger("gridwatch.api")


#: what a client is told to wait before retrying when a dependency is stuck
RETRY_AFTER_SECONDS = 2
#: the failures that mean "not now" (a timeout, a lock not granted, no connection), not a bug
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,  # lock_timeout, statement_timeout, server gone, SQLite busy
    PoolTimeout,  # every pooled connection in use for longer than the pool timeout
    redis.ConnectionError,
    redis.TimeoutError,
)


def unavailable_response() -> JSONResponse:
    return JSONResponse(
        {"detail": t("dependency_busy", "en")},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    async def stuck(_: Request, exc: Exception) -> Response:
        log.warning("answered 503: %s: %s", exc.__class__.__name__, str(exc).splitlines()[0])
        return unavailable_response()

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, stuck)

    @app.exception_handler(CommandInvalid)
    async def invalid(_: Request, exc: CommandInvalid) -> Response:
        return JSONResponse({"detail": "invalid input", "errors": exc.errors}, status_code=422)

    @app.exception_handler(TransitionRefused)
    async def refused(_: Request, exc: TransitionRefused) -> Response:
        return JSONResponse(
            {"detail": str(exc), "action": exc.action, "status": exc.status, "reason": exc.reason},
            status_code=409,
        )

    @app.exception_handler(VersionConflict)
    async def busy(_: Request, exc: VersionConflict) -> Response:
        return JSONResponse(
            {"detail": "the case is being changed by others; try again"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(CaseNotFound)
    async def missing(_: Request, exc: CaseNotFound) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(AlertNotFound)
    async def no_alert(_: Request, exc: AlertNotFound) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(AlertConflict)
    async def alert_state(_: Request, exc: AlertConflict) -> Response:
        return JSONResponse({"detail": str(exc), "state": exc.state}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def fastapi_invalid(_: Request, exc: RequestValidationError) -> Response:
        """FastAPI's own checks (path and query parameters) in the same shape as ours."""
        errors = {".".join(str(p) for p in e["loc"][1:]) or "body": e["msg"] for e in exc.errors()}
        return JSONResponse({"detail": "invalid input", "errors": errors}, status_code=422)
