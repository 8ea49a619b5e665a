"""The leader desk on a PostgreSQL streaming replica (issue 14, item 6): a private primary and
its hot standby, built with the shipped deploy/postgres/ files (tests/pgreplica.py). The
engine writes on the primary; the leader desk's figures and stuck list are read from the
replica (held back while its replay is paused: proof that the screens read there), a write
through the read engine is refused, and the replica's lag is measured, shown in the leader's
bar in a real Chromium, and reported by /readyz."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from backend.api.app import create_api
from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.domain.vocabulary import OPEN_STATUSES
from backend.drill import snapshots
from backend.drill.periods import period_of
from backend.queries.filters import DrillFilter
from backend.queries.grid import grid_block
from backend.queries.overview import overview
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import cases
from backend.system import System
from dashboard.app import create_app
from layouts import ids
from tests.browser import chromium, serving
from tests.dashcalls import callback_body
from tests.helpers import report
from tests.people import sign_in_browser, sign_in_client
from tests.pgproc import PrivatePostgres, pg_bin
from tests.pgreplica import (
    PrivateReplica,
    pause_replay,
    primary_and_replica,
    resume_replay,
    wait_replayed,
)

needs_pg = pytest.mark.skipif(
    pg_bin("initdb") is None or pg_bin("pg_basebackup") is None,
    reason="no PostgreSQL server programs here (./run test installs them)",
)
OPEN = [s.value for s in OPEN_STATUSES]
#: the badge warns over this many seconds of lag in these tests (the default is 5)
WARN_S = 1.5


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PrivatePostgres, PrivateReplica]]:
    with primary_and_replica() as pair:
        yield pair


def _settings(primary: str, replica: str | None, var: Any) -> Settings:
    return Settings(
        DATABASE_URL=primary,
        DATABASE_READ_URL=replica,
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        GRIDWATCH_VAR=var,
        GRIDWATCH_REDIS_PREFIX=f"gwrr-{uuid.uuid4().hex[:8]}",
        GRIDWATCH_REPLICA_LAG_WARN=WARN_S,
    )


@pytest.fixture(scope="module")
def replicated(servers, redis_var, redis_server: redis.Redis) -> Iterator[System]:
    """A System writing to the primary and reading the leader desk from the replica, with
    the small city loaded (on the primary; the replica has it by replay)."""
    primary, replica = servers
    settings = _settings(primary.url, replica.url, redis_var)
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    system = System(settings, clock)
    system.init("small")
    wait_replayed(system.db, system.read_db)
    yield system
    system.dispose()
    keys = list(redis_server.scan_iter(match=f"{settings.key_prefix}:*"))
    if keys:
        redis_server.delete(*keys)


@pytest.fixture
def system_(replicated: System) -> Iterator[System]:
    """The replicated system, its replica replaying again and caught up after each test."""
    yield replicated
    resume_replay(replicated.read_db)
    wait_replayed(replicated.db, replicated.read_db)
    assert isinstance(replicated.clock, ManualClock)
    replicated.clock.advance(timedelta(seconds=3))  # no lag measured in this test is kept


def _open_count(db: Engine) -> int:
    with db.connect() as conn:
        q = select(func.count()).select_from(cases).where(cases.c.status.in_(OPEN))
        return int(conn.execute(q).scalar_one())


def _desk(system: System, db: Engine) -> tuple[int, int]:
    """The overview's open figure and the stuck list's count, as the leader desk's queries
    give them on ``db``."""
    ref, tz, now = system.ref, system.tz, system.clock.now()
    f = DrillFilter()
    with db.connect() as conn:
        ov = overview(conn, f, ref, tz, now, scope=Scope.city())
        block = grid_block(
            conn, f.stuck(ref, tz), {"startRow": 0, "endRow": 50}, ref, Scope.city(), now
        )
    return ov.open, int(block["total"])


def _leader_page(http: httpx.Client, app: Any) -> str:
    """The overview page as the router draws it (its component tree as JSON text)."""
    values = {f"{ids.URL}.pathname": "/leader", f"{ids.URL}.search": "", "leader-lang.data": "zh"}
    r = http.post("/_dash-update-component", json=callback_body(app, "page.children", values))
    assert r.status_code == 200
    return json.dumps(r.json(), ensure_ascii=False)  # its words as words, not \u escapes


@contextmanager
def _desk_http(system: System) -> Iterator[tuple[httpx.Client, Any]]:
    """The web process's app served, and a leader's HTTP client signed in to it."""
    app = create_app(system)
    try:
        with (
            serving(app) as url,
            httpx.Client(base_url=url, timeout=60, headers={"Origin": url}) as http,
        ):
            sign_in_client(http, system, "leader")
            yield http, app
    finally:
        app.state.bridge.stop()
        app.state.leader.stop()


def test_without_a_replica_the_desk_reads_the_primary_and_shows_no_lag(system):
    """Unset DATABASE_READ_URL: one engine, no lag to measure, no badge to show."""
    assert system.settings.database_read_url is None
    assert system.read_db is system.db
    assert system.replica_lag is None
    with _desk_http(system) as (http, app):
        page = _leader_page(http, app)
    assert "领导驾驶舱" in page  # the page was drawn
    assert ids.REPLICA_LAG not in page and "只读副本" not in page


@needs_pg
def test_the_desk_reads_what_the_engine_wrote_once_the_replica_replayed_it(system_):
    s = system_
    before = _desk(s, s.read_db)
    for _ in range(5):
        report(s)
    wait_replayed(s.db, s.read_db)
    on_replica, on_primary = _desk(s, s.read_db), _desk(s, s.db)
    assert on_replica == on_primary
    assert on_replica[0] == before[0] + 5 == _open_count(s.db)
    assert on_replica[1] >= before[1] + 5  # the new cases are open, so in the stuck list


@needs_pg
def test_a_write_through_the_read_engine_is_refused_by_the_replica(system_):
    s = system_
    assert s.read_db is not s.db
    with pytest.raises(DBAPIError, match="read-only"), s.read_db.begin() as conn:
        conn.execute(cases.delete())
    with s.read_db.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
    with s.db.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is False


@needs_pg
def test_the_lag_is_nothing_when_caught_up_and_grows_while_replay_is_paused(system_):
    s = system_
    meter = s.replica_lag
    assert meter is not None
    report(s)
    wait_replayed(s.db, s.read_db)
    caught_up = meter.measure()
    assert caught_up.error is None and caught_up.in_recovery
    assert caught_up.seconds is not None and caught_up.seconds < 1.0
    pause_replay(s.read_db)
    time.sleep(1.5)
    report(s)  # on the primary; the replica receives it and does not replay it
    time.sleep(0.5)
    first = meter.current()
    assert first.seconds is not None and first.seconds >= 1.5
    time.sleep(1.0)
    assert meter.current() is first  # asked again within two seconds of the clock: kept
    s.clock.advance(timedelta(seconds=3))
    later = meter.current()
    assert later is not first
    assert later.seconds is not None and later.seconds >= first.seconds + 0.9
    resume_replay(s.read_db)
    wait_replayed(s.db, s.read_db)
    after = meter.measure()
    assert after.seconds is not None and after.seconds < 1.0


@needs_pg
def test_the_leader_desk_callbacks_read_the_replica(system_):
    """While replay is paused, cases written on the primary are not on the leader's screen;
    once it resumes, they are. The desk's screens read the replica, not the primary."""
    s = system_
    with _desk_http(s) as (http, app):
        page = _leader_page(http, app)
        assert ids.REPLICA_LAG in page and "只读副本延迟 0.0 秒" in page

        def figures() -> tuple[int, int]:
            kpi = http.post(
                "/_dash-update-component",
                json=callback_body(app, "kpi-open.children", {f"{ids.FILTERS}.data": ""}),
            )
            rows = http.post(
                "/_dash-update-component",
                json=callback_body(
                    app,
                    f"{ids.STUCK_GRID}.getRowsResponse",
                    {f"{ids.STUCK_GRID}.getRowsRequest": {"startRow": 0, "endRow": 20}},
                ),
            )
            assert kpi.status_code == 200 and rows.status_code == 200
            opened = int(kpi.json()["response"]["kpi-open"]["children"])
            listed = rows.json()["response"][ids.STUCK_GRID]["getRowsResponse"]["rowCount"]
            return opened, int(listed)

        shown = figures()
        assert shown[0] == _open_count(s.db)
        pause_replay(s.read_db)
        for _ in range(3):
            report(s)
        assert _open_count(s.db) == shown[0] + 3
        assert figures() == shown  # the replica has not replayed them: not on screen
        resume_replay(s.read_db)
        wait_replayed(s.db, s.read_db)
        now_shown = figures()
        assert now_shown[0] == shown[0] + 3 == _open_count(s.db)
        assert now_shown[1] == shown[1] + 3


@needs_pg
def test_report_snapshots_are_computed_on_the_replica_and_kept_on_the_primary(system_):
    """The reports read the replica (what it has replayed is what they count) and their
    snapshot is written to the primary: the replica would refuse it."""
    s = system_
    now = s.clock.now()
    p = period_of("daily", now.astimezone(s.tz).date())
    pause_replay(s.read_db)
    on_replica = _open_count(s.read_db)
    report(s)
    report(s)
    body = snapshots.period_report(s.db, s.tz, p, now, read=s.read_db, max_age=timedelta(0))
    with s.read_db.connect() as conn:
        replica_total = build_report(conn, *p.window(s.tz), now, scope=Scope.city())
    assert body["cases_total"] == replica_total["cases_total"]
    assert _open_count(s.db) == on_replica + 2
    with s.db.connect() as conn:
        kept = snapshots.load(conn, snapshots.REPORT, p)
    assert kept is not None and kept[1] == now and kept[0]["cases_total"] == body["cases_total"]


@needs_pg
def test_readyz_reports_the_replica_and_its_lag(system_):
    with TestClient(create_api(system_)) as client:
        r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "redis": "ok", "replica": "ok"}
    assert isinstance(body["replica_lag_seconds"], float) and body["replica_lag_seconds"] < 1.0


@needs_pg
def test_a_replica_down_is_degraded_not_unready(servers, redis_var, redis_server):
    """Intake and the walls need only the primary: a balancer must not take every web
    process out because the leader desk's replica is down; /readyz says which is down."""
    primary, _ = servers
    replica = PrivateReplica(primary)
    replica.start()
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    system = System(_settings(primary.url, replica.url, redis_var), clock)
    try:
        with TestClient(create_api(system)) as client:
            assert client.get("/readyz").json()["checks"]["replica"] == "ok"
            replica.kill()
            clock.advance(timedelta(seconds=5))  # past the kept measurement
            r = client.get("/readyz")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "degraded"
        assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
        assert body["checks"]["replica"].startswith("error: ")
        assert body["replica_lag_seconds"] is None
    finally:
        system.dispose()
        replica.stop()


def _badge(b: Any) -> tuple[str, str]:
    try:
        el = b.find_element(By.ID, ids.REPLICA_LAG)
        return str(el.text), str(el.get_attribute("class"))
    except Exception:  # not drawn yet, or redrawn under us
        return "", ""


def _seconds(badge_text: str) -> float:
    return float(badge_text.split("延迟")[1].split("秒")[0])


@needs_pg
@pytest.mark.browser
def test_the_leaders_bar_shows_the_replica_lag_and_warns_when_it_grows(system_):
    s = system_
    report(s)
    wait_replayed(s.db, s.read_db)
    app = create_app(s)
    drv = None
    try:
        with serving(app) as url:
            drv = chromium()
            sign_in_browser(drv, url, s, "leader", username="leader-rr", display_name="李主任")
            drv.get(f"{url}/leader")
            wait = WebDriverWait(drv, 45, poll_frequency=0.2)
            wait.until(lambda b: _badge(b)[0].startswith("只读副本延迟"))
            text_, cls = _badge(drv)
            assert _seconds(text_) < 1.0 and text_.endswith("秒")
            assert "text-bg-light" in cls and "text-bg-warning" not in cls
            pause_replay(s.read_db)
            time.sleep(WARN_S + 0.5)
            report(s)

            def warned(b: Any) -> bool:
                s.clock.advance(timedelta(seconds=2))  # the measurement is kept two seconds
                shown, css = _badge(b)
                return "text-bg-warning" in css and _seconds(shown) > WARN_S

            wait.until(warned)
            resume_replay(s.read_db)
            wait_replayed(s.db, s.read_db)

            def calm(b: Any) -> bool:
                s.clock.advance(timedelta(seconds=2))
                shown, css = _badge(b)
                return "text-bg-light" in css and shown != "" and _seconds(shown) < 1.0

            wait.until(calm)
    finally:
        if drv is not None:
            drv.quit()
        app.state.bridge.stop()
        app.state.leader.stop()
