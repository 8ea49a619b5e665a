"""For the people who run gridwatch: liveness (``/healthz``) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from backend.api.deps import ScopeDep, SystemDep
from backend.queries.health import database_answers
from backend.queries.metrics import case_gauges

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(system: SystemDep) -> JSONResponse:
    checks: dict[str, str] = {}
    ok = True
    try:
        with system.db.connect() as conn:
            database_answers(conn)
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


@router.get("/metrics")
def metrics(system: SystemDep, scope: ScopeDep) -> PlainTextResponse:
    """Prometheus text exposition of the case counts and the work queue."""
    now = system.clock.now()
    lines = [
        "# HELP gridwatch_cases_open Open cases by tier.",
        "# TYPE gridwatch_cases_open gauge",
    ]
    with system.db.connect() as conn:
        gauges = case_gauges(conn, now, scope=scope)
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
