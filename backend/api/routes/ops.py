"""For the people who run gridwatch: liveness (``/healthz``), readiness (``/readyz``) and
Prometheus metrics.

Liveness touches nothing: it runs on the event loop, so it answers at once even when every
worker thread waits on a stuck database. Readiness asks each dependency in a thread of its
own with a deadline, and says which one is down or slow."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from backend.api.deps import ScopeDep, SystemDep
from backend.queries.health import database_answers
from backend.queries.metrics import case_gauges
from backend.system import System

router = APIRouter(tags=["ops"])


#: how long readiness waits for each dependency
READY_TIMEOUT = 2.0
_probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """Liveness: the process answers. No database, no Redis (``/readyz`` asks those)."""
    return JSONResponse({"status": "ok"})


def _database(system: System) -> None:
    with system.db.connect() as conn:
        database_answers(conn)


def _redis(system: System) -> None:
    system.redis.ping()


def _replica(system: System) -> None:
    """The leader desk's replica answers and is one (in recovery); its lag is reported."""
    assert system.replica_lag is not None
    lag = system.replica_lag.current()
    if lag.error is not None:
        raise RuntimeError(lag.error)
    if not lag.in_recovery:
        raise RuntimeError("DATABASE_READ_URL is not a replica (not in recovery)")


async def _probe(check: Callable[[System], None], system: System) -> str:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(_probes, check, system), READY_TIMEOUT)
    except TimeoutError:
        return f"timeout: no answer in {READY_TIMEOUT:g} s"
    except Exception as exc:  # report, don't raise: this is the readiness page
        return f"error: {exc.__class__.__name__}"
    return "ok"


@router.get("/readyz")
async def readyz(system: SystemDep) -> JSONResponse:
    """Readiness: each dependency answers within ``READY_TIMEOUT``; 503 names the one that
    does not. The leader desk's read replica, when there is one, is reported with its lag,
    but a replica down is ``degraded`` (200), not unready: intake and the walls need only
    the primary, and a balancer must not take every web process out for it."""
    probes = [_probe(_database, system), _probe(_redis, system)]
    if system.has_replica:
        probes.append(_probe(_replica, system))
    found = await asyncio.gather(*probes)
    checks = dict(zip(("database", "redis", "replica"), found, strict=False))
    ok = checks["database"] == "ok" and checks["redis"] == "ok"
    body: dict[str, object] = {"status": "ready" if ok else "unready", "checks": checks}
    if system.replica_lag is not None:
        if ok and checks["replica"] != "ok":
            body["status"] = "degraded"
        lag = system.replica_lag.last()  # the probe's own measurement; never waits
        seconds = lag.seconds if lag is not None and checks["replica"] == "ok" else None
        body["replica_lag_seconds"] = None if seconds is None else round(seconds, 3)
    return JSONResponse(
        body,
        status_code=200 if ok else 503,
        headers={} if ok else {"Retry-After": "5"},
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
