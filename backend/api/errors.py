"""The engine's errors as HTTP answers, in one place: bad input 422 with one message per
field, a forbidden transition 409, a busy case 503 with Retry-After, no such case 404."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from backend.core.errors import CaseNotFound, CommandInvalid, TransitionRefused, VersionConflict
from backend.halls.alerts import AlertConflict, AlertNotFound


def install_error_handlers(app: FastAPI) -> None:
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
