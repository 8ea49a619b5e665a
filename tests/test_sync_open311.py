"""``gridwatch sync open311 URL``: another city's GeoReport v2 server, pulled incrementally.
The other city is gridwatch itself, with its own database, served by ``gridwatch serve`` in a
second process (real uvicorn, real HTTP)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.domain.commands import action_command, create_command
from backend.importers.common import Mapping
from backend.importers.sync import (
    SyncError,
    read_cursor,
    source_name,
    state_file,
    sync_open311,
)
from backend.store.db import make_engine
from backend.store.migrate import upgrade
from backend.store.models import cases
from backend.store.refload import load_city_into
from backend.system import System
from tests.browser import free_port
from tests.redisproc import PrivateRedis

GRIDS = ("361102001001G01", "361102001001G02", "361102001001G03")
#: the source city's cases are reported over two months before "now" (the real clock: the
#: server and `gridwatch sync` run on it)
NOW = datetime.now(UTC).replace(microsecond=0)


class Source:
    """The other city: its own database, and its server in a second process."""

    def __init__(self, system: System, url: str, proc: subprocess.Popen[bytes]) -> None:
        self.system = system
        self.url = url
        self.proc = proc

    def report(self, n: int, start: datetime, step: timedelta) -> list[int]:
        cmds = [
            create_command(
                {"category": "streetlight_out", "description": f"路灯不亮 {i}",
                 "channel": "app", "grid": GRIDS[i % 3]},
                ref=f"src-{start:%m%d%H%M}-{i}", at=start + i * step,
            )
            for i in range(n)
        ]  # fmt: skip
        return [r.case_id for r in self.system.engine.apply(cmds).results]

    def cancel(self, case_id: int, at: datetime) -> None:
        cmd = action_command("cancel", {"reason": "撤单"}, case_id=case_id, at=at, actor="t")
        assert self.system.engine.apply([cmd]).results[0].ok


@pytest.fixture
def source(tmp_path: Path, small_city) -> Iterator[Source]:
    var = tmp_path / "source"
    var.mkdir()
    # the other city's own Redis, append-only as gridwatch requires of any Redis it serves on
    (tmp_path / "source-redis").mkdir()
    private_redis = PrivateRedis(tmp_path / "source-redis")
    private_redis.start()
    url = f"sqlite:///{var / 'source.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        load_city_into(conn, small_city, "small")
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": private_redis.url,
        "GRIDWATCH_VAR": str(var),
        "GRIDWATCH_REDIS_PREFIX": "gwsource",
        "GRIDWATCH_RATE_FEED": "100000/60",
    }
    settings = Settings(
        DATABASE_URL=url,
        REDIS_URL=private_redis.url,
        GRIDWATCH_VAR=var,
        GRIDWATCH_REDIS_PREFIX="gwsource",
    )
    system = System(settings, ManualClock(NOW))
    port = free_port()
    gridwatch = str(Path(sys.executable).parent / "gridwatch")
    proc = subprocess.Popen(
        [gridwatch, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(var / "serve.log", "wb"),  # noqa: SIM115  (closed with the process)
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        private_redis.stop()
        raise AssertionError((var / "serve.log").read_text())
    try:
        yield Source(system, base + "/open311/v2", proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        system.db.dispose()
        private_redis.stop()


def synced(system, url: str) -> dict[str, Any]:
    prefix = source_name(url) + ":"
    with system.db.connect() as conn:
        rows = conn.execute(select(cases).where(cases.c.ref.like(prefix + "%"))).mappings()
        return {r["ref"][len(prefix) :]: r for r in rows}


def test_sync_pulls_resumes_and_follows_changes(system, source, sync_cli):
    ids = source.report(6, NOW - timedelta(days=50), timedelta(days=8))
    r = sync_cli(source.url, "--since", (NOW - timedelta(days=60)).isoformat())
    assert r.exit_code == 0, r.output
    assert "new or changed: 6" in r.stdout
    got = synced(system, source.url)
    assert set(got) == {str(i) for i in ids}
    one = got[str(ids[0])]
    assert one["category"] == "streetlight_out" and one["status"] == "dispatched"
    # the source's own report time, to the second
    assert one["reported_at"] == NOW - timedelta(days=50)
    # again, with no --since: it continues from where it stopped, and nothing is new
    r = sync_cli(source.url)
    assert r.exit_code == 0 and "new or changed: 0" in r.stdout
    # the other city closes (cancels) a request, and reports a new one: both arrive
    time.sleep(1.1)
    later = datetime.now(UTC).replace(microsecond=0)
    source.cancel(ids[1], later)
    new = source.report(1, later, timedelta(seconds=0))
    time.sleep(1.1)
    r = sync_cli(source.url)
    assert r.exit_code == 0, r.output
    assert "new or changed: 2" in r.stdout
    got = synced(system, source.url)
    assert got[str(ids[1])]["status"] == "closed"
    assert str(new[0]) in got and len(got) == 7
    cursor = read_cursor(state_file(system.settings.var_dir, source.url))
    assert cursor is not None and cursor >= later


class Flaky(httpx.BaseTransport):
    """The real server, until the network goes away after ``ok`` requests."""

    def __init__(self, ok: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.ok = ok
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls > self.ok:
            raise httpx.ConnectError("network gone", request=request)
        return self.inner.handle_request(request)


def test_interrupted_sync_keeps_its_place_and_full_pages_are_split(system, source, tmp_path):
    ids = source.report(9, NOW - timedelta(days=80), timedelta(days=1))
    mapping = Mapping.for_format("open311", set(system.ref.categories), "open311")
    state = tmp_path / "state.json"
    args: dict[str, Any] = {
        "mapping": mapping,
        "clock": ManualClock(NOW),
        "state": state,
        "err": io.StringIO(),
        "sleep": lambda s: None,
        "page_limit": 4,  # nine requests in one 30-day window: split until each fits
    }
    with pytest.raises(SyncError, match="no answer after"):
        sync_open311(
            system,
            source.url,
            since=NOW - timedelta(days=90),
            client=httpx.Client(transport=Flaky(ok=6)),
            **args,
        )
    stopped_at = read_cursor(state)
    assert stopped_at is not None and stopped_at > NOW - timedelta(days=90)
    part = len(synced(system, source.url))
    assert 0 < part < 9
    done = sync_open311(
        system, source.url, since=None, client=httpx.Client(transport=Flaky(ok=1000)), **args
    )
    assert len(synced(system, source.url)) == 9
    assert done.imported == 9 - part and done.skipped == 0
    assert set(synced(system, source.url)) == {str(i) for i in ids}


def test_the_open311_feed_answers_what_changed_in_a_window(system):
    """``updated_after`` / ``updated_before``: the cases changed in that window, whenever they
    were reported (no 90-day window of report times), and 400 for a window backwards."""
    from fastapi.testclient import TestClient

    from backend.api.app import create_api
    from tests.helpers import report

    old = report(system)  # reported at the test clock's now, long before the change below
    with TestClient(create_api(system)) as client:
        base = "/open311/v2/requests.json"
        now = system.clock.now()
        window = {
            "updated_after": (now - timedelta(minutes=1)).isoformat(),
            "updated_before": (now + timedelta(minutes=1)).isoformat(),
        }
        got = client.get(base, params=window)
        assert got.status_code == 200
        assert [r["service_request_id"] for r in got.json()] == [str(old)]
        later = {
            "updated_after": (now + timedelta(minutes=1)).isoformat(),
            "updated_before": (now + timedelta(days=400)).isoformat(),
        }
        assert client.get(base, params=later).json() == []
        backwards = {"updated_after": window["updated_before"], "updated_before": now.isoformat()}
        bad = client.get(base, params=backwards)
        assert bad.status_code == 400 and "updated_before is before" in bad.text
        assert client.get(base, params={"updated_after": "yesterday"}).status_code == 400
