"""Hall event → alert on the hall wall, in a real headless Chromium, with every window of
24 halls × 10 windows (or 240 halls) sending an event a second; beside it, in the same run,
the same events with no rules (the event → the window's change on the wall).

    python -m bench.hall_alerts [--halls 24] [--seconds 90]

How it measures:

- a Redis server of its own, a SQLite database, the web process (``gridwatch serve``) and the
  hall processor each in a process of their own, as in production;
- this process is the hall system: once a second it posts one batch through
  ``POST /api/v1/halls/events`` with an event for every window, and one "staff on the phone"
  event at a window not used before, noting the wall-clock time just before the post;
- the processor runs the default pack's ``staff_distracted`` rule (held 4 s, so few alerts
  stand at once and each new one is on the wall's list), or no rule at all;
- in Chromium a ``MutationObserver`` notes when each window's cell turns "distracted" and
  when each alert first shows; latency = that time − the post's time (one machine, one clock).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend.auth.apikeys import create_key
from backend.core.config import Settings
from backend.halls.generator import SERVICES
from backend.halls.model import Hall, HallData, HallStaff, Shift, Window
from backend.halls.rules import RulePack, load_rules
from backend.halls.store import load_halls_into
from backend.store.models import hall_events
from backend.system import System
from bench.common import machine
from bench.session import COOKIE, bench_cookie
from tests.browser import chromium, free_port
from tests.redisproc import PrivateRedis

OBSERVE_JS = """
window.__cells = {}; window.__alerts = {};
const look = () => {
  const now = Date.now();
  document.querySelectorAll('.gw-win.is-distracted').forEach(e => {
    if (!(e.id in window.__cells)) window.__cells[e.id] = now; });
  document.querySelectorAll('.gw-alert').forEach(e => {
    const k = 'win-' + e.dataset.hall + '-' + e.dataset.window;
    if (!(k in window.__alerts)) window.__alerts[k] = now; });
};
new MutationObserver(look).observe(document.getElementById('halls'),
    {childList: true, subtree: true, attributes: true});
"""
WINDOWS = 10
HOLD_MINUTES = 4 / 60


def synthetic_halls(system: System, n: int) -> HallData:
    """``n`` halls of ten windows, open round the clock, on the small city's townships."""
    townships = sorted(system.ref.township_unit)
    halls, windows, staff, shifts = [], [], [], []
    for i in range(n):
        code = f"B{i:03d}"
        area = townships[i % len(townships)]
        halls.append(
            Hall(code, f"测试{i}号便民服务中心", "township", area, area[:6], "00:00-23:59")
        )
        for w in range(1, WINDOWS + 1):
            wc = f"{w:02d}"
            windows.append(Window(code, wc, f"{w}号窗口", SERVICES[w - 1]))
            sid = f"{code}-{wc}-1"
            staff.append(HallStaff(sid, "测试", code, wc, None))
            shifts.append(Shift(sid, code, wc, "00:00", "23:59"))
    return HallData(halls, windows, staff, shifts)


def pack(kind: str) -> RulePack:
    base = load_rules()
    rules = {"staff_distracted": {"hold_minutes": HOLD_MINUTES}} if kind == "rules" else {}
    return RulePack(base.name, rules, base.lifecycle, base.cases)


def run_processor(kind: str) -> None:
    """The processor process (``--processor``): settings from the environment."""
    from backend.halls.processor import HallProcessor

    system = System(Settings())
    HallProcessor(system, pack(kind)).run()


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def one_run(kind: str, n_halls: int, seconds: int, redis_url: str) -> dict[str, Any]:
    var = Path(tempfile.mkdtemp(prefix="gwbench-halls-"))
    settings = Settings(
        DATABASE_URL=f"sqlite:///{var / 'bench.db'}",
        REDIS_URL=redis_url,
        GRIDWATCH_VAR=var,
        GRIDWATCH_REDIS_PREFIX=f"gwbench-{uuid.uuid4().hex[:8]}",
    )
    system = System(settings)
    system.init("small")
    data = synthetic_halls(system, n_halls)
    with system.db.begin() as conn:
        load_halls_into(conn, data)
        key = create_key(conn, "bench-halls", system.clock.now())
    cookie = bench_cookie(system, "hall_supervisor")  # the wall shows nobody not signed in
    env = {
        **os.environ,
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": redis_url,
        "GRIDWATCH_VAR": str(var),
        "GRIDWATCH_REDIS_PREFIX": settings.key_prefix,
        "GRIDWATCH_RATE_KEY": "100000/60",
    }
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.hall_alerts", "--processor", kind], env=env
    )
    url = f"http://127.0.0.1:{port}"
    browser = None
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(url + "/halls", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        browser = chromium(1920, 1080)
        browser.get(url + "/login")
        browser.add_cookie({"name": COOKIE, "value": cookie, "path": "/"})
        browser.get(url + "/halls")
        drawn_by = time.time() + 90
        while not browser.find_elements("css selector", ".gw-hall"):
            if time.time() > drawn_by:
                raise RuntimeError("the hall wall drew no hall in 90 s (signed in? served?)")
            time.sleep(0.1)
        browser.execute_script(OBSERVE_JS)
        sent = send(url, key, data, seconds)
        time.sleep(3)
        cells: dict[str, int] = browser.execute_script("return window.__cells")
        shown: dict[str, int] = browser.execute_script("return window.__alerts")
    finally:
        if browser is not None:
            browser.quit()
        proc.terminate()
        web.terminate()
        proc.wait(10)
        web.wait(10)
    with system.db.connect() as conn:
        rows = conn.execute(
            select(hall_events.c.at, hall_events.c.received_at).where(
                hall_events.c.type == "staff_distracted"
            )
        ).all()
    applied = [(r - a).total_seconds() for a, r in rows]
    cell_lat = [(cells[k] / 1000 - t) for k, t in sent.items() if k in cells]
    alert_lat = [(shown[k] / 1000 - t) for k, t in sent.items() if k in shown]
    out: dict[str, Any] = {
        "kind": kind,
        "halls": n_halls,
        "events_per_second": n_halls * WINDOWS + 1,
        "triggers": len(sent),
        "cell_seen": len(cell_lat),
        "alert_seen": len(alert_lat),
    }
    for name, xs in (("applied", applied), ("cell", cell_lat), ("alert", alert_lat)):
        if xs:
            out[f"{name}_p50"] = round(statistics.median(xs), 3)
            out[f"{name}_p99"] = round(pct(xs, 99), 3)
            out[f"{name}_max"] = round(max(xs), 3)
    return out


def send(url: str, key: str, data: HallData, seconds: int) -> dict[str, float]:
    """Post a batch a second: an event for every window, one trigger; the trigger times."""
    client = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    kinds = ("staff_arrived", "ticket_taken", "ticket_called", "ticket_served")
    sent: dict[str, float] = {}
    targets = [w for w in data.windows]
    targets = targets[3::7] + [w for i, w in enumerate(targets) if i % 7 != 3]
    start = time.time()
    for s in range(seconds):
        at = datetime.now(UTC).isoformat()
        events: list[dict[str, Any]] = []
        for w in data.windows:
            kind = kinds[s % 4]
            e: dict[str, Any] = {
                "id": f"{s}-{w.hall_code}-{w.code}",
                "hall": w.hall_code,
                "window": w.code,
                "type": kind,
                "at": at,
            }
            if kind == "staff_arrived":
                e["staff"] = f"{w.hall_code}-{w.code}-1"
            else:
                e["ticket"] = f"T{s // 4}"
            events.append(e)
        t = targets[s % len(targets)]
        events.append(
            {
                "id": f"trig-{s}",
                "hall": t.hall_code,
                "window": t.code,
                "type": "staff_distracted",
                "kind": "phone",
                "at": at,
            }
        )
        for i in range(0, len(events), 500):
            stamp = time.time()
            r = client.post(url + "/api/v1/halls/events", json={"events": events[i : i + 500]})
            r.raise_for_status()
            if i + 500 >= len(events):
                sent[f"win-{t.hall_code}-{t.code}"] = stamp
        pause = start + s + 1 - time.time()
        if pause > 0:
            time.sleep(pause)
    return sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", default="24")
    ap.add_argument("--seconds", type=int, default=90)
    ap.add_argument("--processor", default=None)
    args = ap.parse_args()
    if args.processor:
        run_processor(args.processor)
        return
    # durable as gridwatch requires of a Redis (append-only), in a folder of its own
    redis = PrivateRedis(Path(tempfile.mkdtemp(prefix="gwbench-redis-")))
    redis.start()
    results = []
    try:
        for n in [int(x) for x in args.halls.split(",")]:
            for kind in ("none", "rules"):
                r = one_run(kind, n, args.seconds, redis.url)
                print(json.dumps(r), flush=True)
                results.append(r)
    finally:
        redis.stop()
    print(json.dumps({"machine": machine(), "date": datetime.now(UTC).isoformat()}))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
