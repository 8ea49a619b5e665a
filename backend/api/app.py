"""The HTTP API: REST intake and queries under /api/v1, health and metrics.

Writes go through the same CaseEngine as the stream, synchronously, so ``POST /cases`` can
answer 201 with the stored case; bad input is a 422 with one message per field.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select

from backend.api.bodies import capped_body
from backend.auth.apikeys import check_key
from backend.core.errors import CaseNotFound, CommandInvalid, TransitionRefused, VersionConflict
from backend.domain.commands import action_command
from backend.queries.live import take_snapshot
from backend.queries.metrics import case_gauges
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.queries.serialize import case_json, event_json
from backend.queries.stuck import StuckFilter, stuck_cases
from backend.store.models import case_events, cases
from backend.system import System

MAX_BODY = 64 * 1024


def _sys(request: Request) -> System:
    return request.app.state.system  # type: ignore[no-any-return]


def require_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """Integrations authenticate with ``Authorization: Bearer <api key>``."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(
            401, "missing 'Authorization: Bearer <api key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    name = key_name(request, authorization.split(None, 1)[1].strip())
    if name is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return name


def key_name(request: Request, key: str) -> str | None:
    """The integration an API key belongs to (None: unknown or revoked); a known key is
    remembered for 30 s, so a busy integration does not cost a query per request."""
    cache: dict[str, tuple[str, float]] = request.app.state.key_cache
    hit = cache.get(key)
    if hit and hit[1] > time.monotonic():
        return hit[0]
    with _sys(request).db.connect() as conn:
        name = check_key(conn, key)
    if name is not None:
        cache[key] = (name, time.monotonic() + 30)
    return name


async def _json_object(request: Request) -> dict[str, Any]:
    body = await capped_body(request, MAX_BODY)  # a chunked body is cut off at the cap too
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CommandInvalid({"body": f"not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise CommandInvalid({"body": "must be a JSON object"})
    return data


router = APIRouter(prefix="/api/v1")
Client = Annotated[str, Depends(require_key)]


@router.get("/cases/{case_id}")
def get_case(case_id: int, request: Request, client: Client) -> Any:
    system = _sys(request)
    out = _case_or_404(system, case_id)
    with system.db.connect() as conn:
        events = (
            conn.execute(
                select(case_events)
                .where(case_events.c.case_id == case_id)
                .order_by(case_events.c.seq)
            )
            .mappings()
            .all()
        )
    out["events"] = [event_json(e) for e in events]
    return out


@router.post("/cases/{case_id}/actions")
async def case_action(case_id: int, request: Request, client: Client) -> Any:
    data = await _json_object(request)
    action = data.pop("action", None)
    if not isinstance(action, str):
        raise CommandInvalid({"action": "required"})
    # the integration may name its own operator, but never hide which integration it is
    named = data.pop("actor", None)
    if named is not None and (not isinstance(named, str) or len(named) > 32):
        raise CommandInvalid({"actor": "a text of at most 32 characters"})
    actor = f"api:{client}:{named}" if named else f"api:{client}"
    params = data.pop("params", None)
    if params is None:
        params = data
    elif not isinstance(params, dict):
        raise CommandInvalid({"params": "an object"})
    system = _sys(request)
    cmd = action_command(action, params, case_id=case_id, actor=actor[:64])
    result = await _run(request, lambda: system.engine.apply([cmd]))
    r = result.results[0]
    if not r.ok:
        assert r.error is not None
        raise r.error
    return _case_or_404(system, case_id)


@router.get("/stuck")
def get_stuck(
    request: Request,
    client: Client,
    area: str | None = None,
    tier: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    colour: str | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query()] = 100,
    offset: Annotated[int, Query()] = 0,
    order: str = "stage",
) -> Any:
    system = _sys(request)
    f = StuckFilter(area, tier, unit, category, colour, overdue, limit, offset, order)
    with system.db.connect() as conn:
        return stuck_cases(conn, f, Scope.city(), system.clock.now())


@router.get("/kpi")
def get_kpi(request: Request, client: Client) -> Any:
    system = _sys(request)
    with system.db.connect() as conn:
        out = kpi(conn, system.clock.now(), system.tz)
    notice = system.calendar.fallback_notice()
    out["calendar_notice"] = notice
    return out


@router.get("/live/snapshot")
def live_snapshot(request: Request, client: Client) -> Any:
    """The open cases as live deltas, and the sequence number they are current to: where a
    subscriber starts, and what it reloads when it sees a gap in the sequence."""
    system = _sys(request)
    with system.db.connect() as conn:
        snap = take_snapshot(conn, system.publisher.last_seq, Scope.city())
    return Response(
        orjson.dumps({"seq": snap.seq, "cases": snap.cases}), media_type="application/json"
    )


def _case_or_404(system: System, case_id: int | None) -> dict[str, Any]:
    with system.db.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    if row is None:
        raise CaseNotFound(case_id)
    return case_json(row)


async def _run(request: Request, fn: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn)


ops = APIRouter()


@ops.get("/healthz")
def healthz(request: Request) -> Any:
    system = _sys(request)
    checks: dict[str, str] = {}
    ok = True
    try:
        with system.db.connect() as conn:
            conn.execute(select(1)).scalar_one()
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the health page
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    try:
        system.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
        ok = False
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503
    )


@ops.get("/metrics")
def metrics(request: Request) -> Any:
    """Prometheus text exposition of the case counts and the work queue."""
    system = _sys(request)
    now = system.clock.now()
    lines = [
        "# HELP gridwatch_cases_open Open cases by tier.",
        "# TYPE gridwatch_cases_open gauge",
    ]
    with system.db.connect() as conn:
        gauges = case_gauges(conn, now, scope=Scope.city())
    for tier, n in gauges.open_by_tier.items():
        lines.append(f'gridwatch_cases_open{{tier="{tier or "untriaged"}"}} {n}')
    lines += [
        "# HELP gridwatch_cases_overdue Open cases past their current deadline.",
        "# TYPE gridwatch_cases_overdue gauge",
        f"gridwatch_cases_overdue {gauges.overdue}",
        "# HELP gridwatch_cases_total Cases ever reported.",
        "# TYPE gridwatch_cases_total counter",
        f"gridwatch_cases_total {gauges.total}",
    ]
    try:
        lines += [
            "# HELP gridwatch_stream_backlog Commands waiting on the stream.",
            "# TYPE gridwatch_stream_backlog gauge",
            f"gridwatch_stream_backlog {system.stream.backlog()}",
            "# HELP gridwatch_live_seq Last live sequence number published.",
            "# TYPE gridwatch_live_seq counter",
            f"gridwatch_live_seq {system.publisher.last_seq()}",
        ]
    except Exception:  # Redis down: SQL figures still useful
        lines.append("gridwatch_redis_up 0")
    return PlainTextResponse(
        "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandInvalid)
    async def _invalid(_: Request, exc: CommandInvalid) -> Response:
        return JSONResponse({"detail": "invalid input", "errors": exc.errors}, status_code=422)

    @app.exception_handler(TransitionRefused)
    async def _refused(_: Request, exc: TransitionRefused) -> Response:
        return JSONResponse(
            {"detail": str(exc), "action": exc.action, "status": exc.status, "reason": exc.reason},
            status_code=409,
        )

    @app.exception_handler(VersionConflict)
    async def _busy(_: Request, exc: VersionConflict) -> Response:
        return JSONResponse(
            {"detail": "the case is being changed by others; try again"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(CaseNotFound)
    async def _missing(_: Request, exc: CaseNotFound) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def _fastapi_invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = {".".join(str(p) for p in e["loc"][1:]) or "body": e["msg"] for e in exc.errors()}
        return JSONResponse({"detail": "invalid input", "errors": errors}, status_code=422)


def create_api(system: System) -> FastAPI:
    from backend.api.routes import intake, open311, qr

    app = FastAPI(title="gridwatch", version="0.1.0")
    app.state.system = system
    app.state.key_cache = {}
    install_error_handlers(app)
    app.include_router(intake.router)  # REST intake, hotline/WeChat text, triage, photos
    open311.register(app)
    qr.register(app)
    app.include_router(router)
    app.include_router(ops)
    return app
