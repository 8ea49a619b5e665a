"""Latency of every leader drill-down interaction on a large city, beside the SQL behind it.

    BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/gw4 python -m bench.drill_latency \\
        [--repeat 20] [--as-of 2026-11-23T09:00:00+08:00]

Run it on a database filled by ``bench.bulkgen`` (1 M or 5 M cases). The real web process is
served in this process (uvicorn on 127.0.0.1) and each interaction is one HTTP round trip of
its Dash callback (``/_dash-update-component``), as the browser makes it: the SQL, the Python
and the JSON of the components that come back. Beside it, in the same request, the time spent
in SQL (SQLAlchemy cursor events: every statement the callback ran, summed): the plain query
time behind the interaction. Each figure is the p50 / p95 / max over ``--repeat`` requests with
different filters, cases or blocks, after two warm-up requests.

Also timed: the background jobs the screens rely on (the stages projection folding in new
events, the risk model's refresh).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, event, func, select, text

from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.core.runtime import tune_gc
from backend.domain.commands import action_command, create_command
from backend.drill import snapshots
from backend.drill.days import months_ready, ready, refresh_days
from backend.drill.periods import period_of
from backend.drill.projection import refresh_stages
from backend.drill.risk import refresh_risk
from backend.store.migrate import upgrade
from backend.store.models import cases, report_snapshots
from backend.system import System
from bench.common import machine
from bench.session import COOKIE, bench_cookie
from dashboard.app import create_app
from tests.browser import serving

OPEN = ("received", "dispatched", "accepted", "in_progress", "paused")


class SQLTimer:
    """Seconds spent executing SQL on ``engine`` since the last ``reset`` (all threads)."""

    def __init__(self, engine: Any) -> None:
        self.total = 0.0
        self._lock = threading.Lock()
        self._starts: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, *args: Any) -> None:
        self._starts[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, *args: Any) -> None:
        t = self._starts.pop(id(cursor), None)
        if t is not None:
            with self._lock:
                self.total += time.perf_counter() - t

    def reset(self) -> None:
        with self._lock:
            self.total = 0.0


class DashClient:
    """Calls one Dash callback over HTTP, as the renderer does."""

    def __init__(self, url: str, app: Any, cookie: str) -> None:
        self.url = url
        # signed in, and from the page's own origin, as the renderer's requests are
        self.http = httpx.Client(timeout=120, cookies={COOKIE: cookie}, headers={"Origin": url})
        self.map = app.state.dash.callback_map

    def key_for(self, output: str) -> str:
        for k in self.map:
            if output in k:
                return k
        raise KeyError(output)

    def call(self, output: str, values: dict[str, Any]) -> float:
        key = self.key_for(output)
        cb = self.map[key]
        multi = key.startswith("..")
        outs = [
            {"id": o.split(".")[0], "property": o.split(".")[1]}
            for o in key.strip(".").split("...")
        ]

        def spec(d: dict[str, Any]) -> dict[str, Any]:
            name = f"{d['id']}.{d['property']}"
            return {"id": d["id"], "property": d["property"], "value": values.get(name)}

        inputs = [spec(i) for i in cb["inputs"]]
        body = {
            "output": key,
            "outputs": outs if multi else outs[0],
            "inputs": inputs,
            "state": [spec(s) for s in cb.get("state", [])],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
        }
        t = time.perf_counter()
        r = self.http.post(self.url + "/_dash-update-component", json=body)
        took = time.perf_counter() - t
        if r.status_code != 200:
            raise RuntimeError(f"{output}: HTTP {r.status_code} {r.text[:500]}")
        return took


def _stats(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]
    return {
        "p50_ms": round(1000 * statistics.median(xs), 1),
        "p95_ms": round(1000 * p95, 1),
        "max_ms": round(1000 * xs[-1], 1),
    }


def measure(
    name: str,
    client: DashClient,
    timer: SQLTimer,
    output: str,
    variants: list[dict[str, Any]],
    repeat: int,
    before: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """``before(variant)``, untimed, ahead of each request (a first view clears what the
    request would otherwise find stored)."""
    for v in variants[:2]:  # warm-up
        if before is not None:
            before(v)
        client.call(output, v)
    walls, sqls = [], []
    for i in range(repeat):
        v = variants[i % len(variants)]
        if before is not None:
            before(v)
        timer.reset()
        walls.append(client.call(output, v))
        sqls.append(timer.total)
    out = {"interaction": name, "n": repeat, **_stats(walls)}
    sql = _stats(sqls)
    out.update({"sql_p50_ms": sql["p50_ms"], "sql_p95_ms": sql["p95_ms"]})
    print(json.dumps(out, ensure_ascii=False), file=sys.stderr)
    return out


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--as-of", default="2026-11-23T09:00:00+08:00")
    ap.add_argument("--skip-jobs", action="store_true", help="do not time the background jobs")
    ap.add_argument("--cold", type=int, default=5, help="earlier months (days: twice as many)")
    ap.add_argument(
        "--first-views",
        action="store_true",
        help="only the first views of earlier periods (no snapshot), days' roll-ups vs cases",
    )
    args = ap.parse_args()
    url = os.environ.get("BENCH_PG_URL")
    if not url:
        sys.exit("set BENCH_PG_URL to a database filled by bench.bulkgen")
    now = datetime.fromisoformat(args.as_of)
    tune_gc()  # as the gridwatch processes run (backend/core/runtime.py, backend/cli.py)
    settings = Settings(
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        GRIDWATCH_REDIS_PREFIX=f"gwbench-{uuid.uuid4().hex[:8]}",
    )
    system = System(settings, ManualClock(now))
    db = system.db
    upgrade(db)  # a database of an older bench.bulkgen, as `gridwatch serve` migrates it
    with db.connect() as conn:
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        n_open = conn.execute(
            select(func.count()).select_from(cases).where(cases.c.status.in_(OPEN))
        ).scalar_one()
        towns = [
            r[0]
            for r in conn.execute(
                select(cases.c.township_code)
                .where(cases.c.status.in_(OPEN))
                .group_by(cases.c.township_code)
                .order_by(func.count().desc())
                .limit(10)
            )
        ]
        units = [
            (r[0], r[1])
            for r in conn.execute(
                select(cases.c.township_code, cases.c.unit_code)
                .where(cases.c.status.in_(OPEN), cases.c.township_code.in_(towns))
                .group_by(cases.c.township_code, cases.c.unit_code)
                .order_by(func.count().desc())
                .limit(10)
            )
        ]
        case_ids = [
            r[0]
            for r in conn.execute(
                select(cases.c.id).where(cases.c.status.in_(OPEN)).order_by(func.random()).limit(40)
            )
        ]
        size = conn.execute(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar()
    with db.begin() as conn:  # the snapshots of an earlier run would make first views warm
        conn.execute(delete(report_snapshots))
    jobs: dict[str, Any] = {}
    with db.connect() as conn:
        sum_months = ready(conn) and not months_ready(conn)
    if sum_months:  # days rolled up before the months were kept: the first refresh sums them
        took, _ = _timed(lambda: refresh_days(db, system.tz, now))
        jobs["months_first_sum_s"] = round(took, 2)
    if not args.skip_jobs:
        took, n = _timed(lambda: refresh_risk(db, now))
        jobs["risk_refresh_s"] = round(took, 2)
        jobs["risk_rows"] = n
        # the projection folding in a few thousand new events, as between two refreshes
        grids = sorted(system.ref.grids)
        cmds = [
            create_command(
                {
                    "category": "sanitation",
                    "description": "基准新增",
                    "channel": "hotline",
                    "grid": grids[i * 7 % len(grids)],
                }
            )
            for i in range(2000)
        ]
        res = system.engine.apply(cmds)
        ids = [r.case_id for r in res.results if r.case_id]
        system.engine.apply([action_command("accept", {}, case_id=i) for i in ids])
        took, n = _timed(lambda: refresh_stages(db, system.tz, now, system.deadlines))
        jobs["stages_refresh_s"] = round(took, 2)
        jobs["stages_refresh_cases"] = n
        jobs["stages_refresh_events"] = res.events + len(ids)
    app = create_app(system)
    timer = SQLTimer(db)
    results = []
    thirty = (now - timedelta(days=30)).date().isoformat(), now.date().isoformat()
    filters = [""] + [f"?area={t}" for t in towns] + [f"?area={t}&unit={u}" for t, u in units]
    windowed = [f + ("&" if f else "?") + f"from={thirty[0]}&to={thirty[1]}" for f in filters]
    lang = {"leader-lang.data": "zh"}
    try:
        with serving(app) as base:
            client = DashClient(base, app, bench_cookie(system, "leader"))
            app.state.leader.jobs.ensure_fresh()  # as a screen's first visit does
            if args.first_views:
                # the report job (a child process computing the kept snapshots for seconds)
                # would share the two cores with the views at random: held off, so that both
                # roads are timed alike
                jobs_ = app.state.leader.jobs
                jobs_.report_every, jobs_._reports_at = 1e9, time.monotonic()
                took, n = _timed(lambda: refresh_days(db, system.tz, now))
                jobs["days_refresh_s"] = round(took, 2)
                results += first_views(client, timer, db, system.tz, now, args, lang)
                return _print(size, n_cases, n_open, jobs, results)
            took, n = _timed(app.state.leader.jobs.refresh_reports)
            jobs["report_snapshots_s"] = round(took, 2)
            jobs["report_snapshots"] = n
            # the rest of the earlier months and ten-day periods, which the job fills in a few
            # seconds at a time; timed whole here, as a first start of a large city does it
            took, n = _timed(lambda: snapshots.backfill(db, system.tz, now))
            jobs["backfill_s"] = round(took, 2)
            jobs["backfill_snapshots"] = n

            def fl(qs: list[str], extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
                return [{"leader-filters.data": q, **lang, **(extra or {})} for q in qs]

            results.append(
                measure(
                    "overview figures (KPIs, by area, by unit)",
                    client,
                    timer,
                    "kpi-open.children",
                    fl(filters),
                    args.repeat,
                )
            )

            def block(
                start: int, sort: list[dict[str, str]], fm: dict[str, Any] | None = None
            ) -> dict[str, Any]:
                return {
                    "startRow": start,
                    "endRow": start + 100,
                    "sortModel": sort,
                    "filterModel": fm or {},
                }

            in_stage = [{"colId": "in_stage", "sort": "desc"}]
            for name, req in (
                ("stuck table: first block, longest in stage", block(0, in_stage)),
                (
                    "stuck table: first block, by risk",
                    block(0, [{"colId": "risk", "sort": "desc"}]),
                ),
                ("stuck table: block at row 5,000", block(5000, in_stage)),
                (
                    "stuck table: column filter (unit name contains)",
                    block(
                        0,
                        in_stage,
                        {"unit": {"filterType": "text", "type": "contains", "filter": "综治"}},
                    ),
                ),
            ):
                results.append(
                    measure(
                        name,
                        client,
                        timer,
                        "stuck-grid.getRowsResponse",
                        fl(filters, {"stuck-grid.getRowsRequest": req}),
                        args.repeat,
                    )
                )
            pages = [
                {"url.pathname": f"/leader/case/{c}", "url.search": "", **lang} for c in case_ids
            ]
            results.append(
                measure(
                    "case page (timeline, stages, actions)",
                    client,
                    timer,
                    "page.children",
                    pages,
                    args.repeat,
                )
            )
            results.append(
                measure(
                    "overview page frame (router)",
                    client,
                    timer,
                    "page.children",
                    [{"url.pathname": "/leader", "url.search": q, **lang} for q in filters],
                    args.repeat,
                )
            )
            for name, out in (
                ("dwell by tier (box plots)", "chart-dwell-tier.figure"),
                ("dwell by unit (top 15)", "chart-dwell-unit.figure"),
                ("tier flows (Sankey)", "chart-sankey.figure"),
                ("overdue trend by area", "chart-trend.figure"),
            ):
                results.append(
                    measure(name + ", last 30 days", client, timer, out, fl(windowed), args.repeat)
                )
            results.append(
                measure(
                    "risk bands", client, timer, "risk-bands.children", fl(filters), args.repeat
                )
            )
            today = now.astimezone(system.tz).date()
            # the periods the background job keeps (this one and the one before), then
            # periods it does not keep, each opened once (the first view computes them)
            for name, kind in (
                ("daily report", "daily"),
                ("ten-day report", "dekad"),
                ("monthly report", "monthly"),
            ):
                cur = period_of(kind, today)
                variants = [
                    {"period-kind.value": kind, "period-day.date": d.isoformat(), **lang}
                    for d in (cur.start, cur.previous().start)
                ]
                results.append(
                    measure(name, client, timer, "report-body.children", variants, args.repeat)
                )
            variants = [
                {"period-kind.value": "monthly", "period-day.date": d.isoformat(), **lang}
                for d in (today, period_of("monthly", today).previous().start)
            ]
            results.append(
                measure(
                    "assessment (month, with the month before)",
                    client,
                    timer,
                    "assess-table.children",
                    variants,
                    args.repeat,
                )
            )
            older = [period_of("monthly", today)]
            for _ in range(2 + args.cold):
                older.append(older[-1].previous())
            earlier = [
                {"period-kind.value": "monthly", "period-day.date": p.start.isoformat(), **lang}
                for p in older[2:]
            ]
            results.append(
                measure(
                    "monthly report, an earlier month (filled in)",
                    client,
                    timer,
                    "report-body.children",
                    earlier,
                    args.repeat,
                )
            )
            results.append(
                measure(
                    "assessment, an earlier month (filled in)",
                    client,
                    timer,
                    "assess-table.children",
                    earlier,
                    args.repeat,
                )
            )
            days = [
                {
                    "period-kind.value": "daily",
                    "period-day.date": (today - timedelta(days=40 + 3 * i)).isoformat(),
                    **lang,
                }
                for i in range(args.cold * 2)
            ]
            results.append(
                measure(
                    "daily report, an earlier day (filled in)",
                    client,
                    timer,
                    "report-body.children",
                    days,
                    args.repeat,
                )
            )
            results.append(
                measure(
                    "assessment, an earlier day (filled in)",
                    client,
                    timer,
                    "assess-table.children",
                    days[1::2],
                    args.repeat,
                )
            )
            results += first_views(client, timer, db, system.tz, now, args, lang)
    finally:
        app.state.bridge.stop()
        app.state.leader.stop()
    _print(size, n_cases, n_open, jobs, results)


def _print(size: Any, n_cases: int, n_open: int, jobs: Any, results: Any) -> None:
    print(
        json.dumps(
            {
                "bench": "drill_latency",
                "machine": machine(),
                "database": size,
                "cases": n_cases,
                "open": n_open,
                "jobs": jobs,
                "results": results,
            },
            ensure_ascii=False,
        )
    )


def first_views(
    client: DashClient,
    timer: SQLTimer,
    db: Any,
    tz: Any,
    now: datetime,
    args: argparse.Namespace,
    lang: dict[str, str],
) -> list[dict[str, Any]]:
    """The first view of an earlier period, with no snapshot stored (each view's snapshots,
    and the period before's, deleted first): summed over the days' roll-ups, then, in the
    same run, counted over the cases as before the roll-ups (``snapshots.from_days`` off)."""
    today = now.astimezone(tz).date()
    months = [period_of("monthly", today).previous().previous()]
    for _ in range(args.cold - 1):
        months.append(months[-1].previous())
    days = [period_of("daily", today - timedelta(days=40 + 3 * i)) for i in range(args.cold * 2)]

    def clear(v: dict[str, Any]) -> None:
        p = period_of(v["period-kind.value"], datetime.fromisoformat(v["period-day.date"]).date())
        c = report_snapshots.c
        with db.begin() as conn:
            conn.execute(
                delete(report_snapshots).where(
                    c.kind == p.kind, c.period_start.in_([p.start, p.previous().start])
                )
            )

    def views(periods: list[Any]) -> list[dict[str, Any]]:
        return [
            {"period-kind.value": p.kind, "period-day.date": p.start.isoformat(), **lang}
            for p in periods
        ]

    out = []
    summed = snapshots.from_days
    for name, output, variants in (
        ("monthly report, an earlier month", "report-body.children", views(months)),
        ("assessment, an earlier month", "assess-table.children", views(months)),
        ("daily report, an earlier day", "report-body.children", views(days)),
        ("assessment, an earlier day", "assess-table.children", views(days)),
    ):
        for road, fn in (("days' roll-ups", summed), ("counted over cases", _never)):
            snapshots.from_days = fn  # type: ignore[assignment]
            try:
                out.append(
                    measure(
                        f"{name} (first view, {road})",
                        client,
                        timer,
                        output,
                        variants,
                        args.repeat,
                        before=clear,
                    )
                )
            finally:
                snapshots.from_days = summed  # type: ignore[assignment]
    return out


def _never(*_: Any) -> bool:
    return False


if __name__ == "__main__":
    main()
