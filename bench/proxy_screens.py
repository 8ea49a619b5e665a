"""200 wall screens across two web processes behind nginx at 10 events/s: push latency and the
server's CPU per screen, beside 20 screens straight on one web process, in the same run.

The system as deployed (deploy/): two ``gridwatch serve`` processes and a ``gridwatch engine``
on one PostgreSQL database and one Redis, behind a private nginx running the shipped site
(``tests/proxyproc.py``). The screens speak the Dash websocket protocol with no renderer
(``bench.ws_screen``), in processes of their own, through nginx (``least_conn`` spreads them;
the access log says which web process served each). This process reports the cases through
the engine at the given rate of case events and notes each batch's commit time (as
``bench.wall_latency``); a batch's latency, per screen, is the first frame whose open-case
count covers it minus that time. Server CPU is the web processes' own (``/proc``), per screen.

    python -m bench.proxy_screens [--screens 200] [--baseline 20] [--rate 10] [--seconds 60]
        [--runs 3] [--direct]   (BENCH_PG_URL, emptied first; REDIS_URL, default db 14)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from backend.auth.accounts import create_user
from backend.auth.sessions import COOKIE
from backend.system import System
from bench.common import PG_URL, TZ, fresh_system, machine
from bench.wall_latency import Load, cpu_seconds, latencies, quantiles
from bench.ws_screen import ProtocolScreens
from tests.proxyproc import EngineProcess, Nginx, WebProcess

PASSWORD = "bench proxy screens password"
#: screens per client process: each process is one Python, and the screens are not measured
PER_PROCESS = 50


class Deployment:
    """Two web processes, an engine and nginx, as deploy/ runs them, on ``system``'s stores."""

    def __init__(self, system: System, folder: Path) -> None:
        s = system.settings
        env = {
            **os.environ,
            "DATABASE_URL": s.effective_database_url,
            "REDIS_URL": s.redis_url or "",
            "GRIDWATCH_VAR": str(s.var_dir),
            "GRIDWATCH_REDIS_PREFIX": s.key_prefix,
            "GRIDWATCH_SECRET_KEY": uuid.uuid4().hex,
        }
        self.web = [WebProcess(env, folder / f"web-{i}.log") for i in (1, 2)]
        self.engine = EngineProcess(env, folder / "engine.log")
        self.nginx = Nginx(folder / "nginx", [w.port for w in self.web])

    def start(self) -> None:
        for w in self.web:
            w.spawn()
        self.engine.start()
        for w in self.web:
            w.ready()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        self.engine.stop()
        for w in self.web:
            w.stop()

    def web_cpu(self) -> float:
        return sum(cpu_seconds(w.pid) for w in self.web)

    def nginx_cpu(self) -> float:
        import psutil

        assert self.nginx.proc is not None
        master = psutil.Process(self.nginx.proc.pid)
        return sum(
            p.cpu_times().user + p.cpu_times().system
            for p in [master, *master.children(recursive=True)]
        )


def sign_in(system: System, url: str) -> str:
    """A duty officer signs in through the login form at ``url``: the session cookie."""
    name = f"bench-{uuid.uuid4().hex[:10]}"
    with system.db.begin() as conn:
        create_user(
            conn, username=name, password=PASSWORD, role="duty_officer", now=system.clock.now()
        )
    res = httpx.post(
        url + "/login",
        data={"username": name, "password": PASSWORD},
        headers={"Origin": url},
        timeout=30,
    )
    assert res.status_code == 303, res.text[:300]
    return res.cookies[COOKIE]


def cell(
    dep: Deployment,
    load: Load,
    urls: list[str],
    screens: int,
    rate: float,
    seconds: float,
    proxied: bool,
) -> dict[str, Any]:
    """``screens`` screens on ``urls`` (nginx, or web processes straight, the screens dealt
    out among them), ``seconds`` of load."""
    cookie = sign_in(load.system, urls[0])
    logged_before = len(dep.nginx.upstreams_of())
    groups = [
        ProtocolScreens(urls[k % len(urls)], cookie, min(PER_PROCESS, screens - i))
        for k, i in enumerate(range(0, screens, PER_PROCESS))
    ]
    for g in groups:
        g.start()
    done: list[tuple[list[tuple[float, str]], int, str | None]] = []
    try:
        time.sleep(10.0 + screens / 20)  # every screen connected and sent its full view
        load1_before = os.getloadavg()[0]
        cpu0, ng0, w0 = dep.web_cpu(), dep.nginx_cpu(), time.monotonic()
        sc0 = sum(cpu_seconds(g.pid) for g in groups if g.pid)
        marks = load.run(rate, seconds)
        cpu1, ng1, w1 = dep.web_cpu(), dep.nginx_cpu(), time.monotonic()
        sc1 = sum(cpu_seconds(g.pid) for g in groups if g.pid)
        load1_after = os.getloadavg()[0]
        time.sleep(3.0)
    finally:
        for g in groups:
            done += g.finish()
    lat = latencies(marks, [seen for seen, _, _ in done])
    spread: Counter[str] = Counter()
    if proxied:
        time.sleep(2.0)  # nginx logs a websocket when it closes
        spread.update(dep.nginx.upstreams_of()[logged_before:])
    wall = w1 - w0
    web_pct = 100 * (cpu1 - cpu0) / wall
    return {
        "through": (
            "nginx, 2 web processes" if proxied else f"{len(urls)} web process(es), no proxy"
        ),
        "screens": screens,
        "rate": rate,
        "seconds": round(wall, 1),
        "batches": len(marks),
        "measured": len(lat),
        "missing": len(marks) * screens - len(lat),
        "errors": sorted({err for _, _, err in done if err})[:3],
        **quantiles(lat),
        "web_cpu_pct": round(web_pct, 1),
        "web_cpu_pct_per_screen": round(web_pct / screens, 3),
        "web_cpu_ms_per_screen_s": round(10 * web_pct / screens, 3),
        "nginx_cpu_pct": round(100 * (ng1 - ng0) / wall, 1) if proxied else None,
        # the screens' own processes (a PC each on a real wall): the client side of a push
        "screens_cpu_pct": round(100 * (sc1 - sc0) / wall, 1),
        "received_mb_per_screen": round(sum(g.received for g in groups) / screens / 2**20, 2),
        "websockets_by_upstream": dict(spread) if proxied else None,
        "loadavg_1m": [round(load1_before, 2), round(load1_after, 2)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--screens", type=int, default=200)
    ap.add_argument("--baseline", type=int, default=20)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--direct",
        action="store_true",
        help="a third cell: as many screens straight on the two web processes, no proxy",
    )
    args = ap.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    pg = os.environ.get("BENCH_PG_URL", PG_URL)
    system = fresh_system("postgres", start=datetime.now(TZ), pg_url=pg)
    load = Load(system)
    dep = Deployment(system, Path(tempfile.mkdtemp(prefix="gwproxy-")))
    print(f"# {machine()}, {datetime.now(TZ):%Y-%m-%d %H:%M}, loadavg {os.getloadavg()}")
    dep.start()
    try:
        for run in range(args.runs):
            cells = [([dep.web[0].url], args.baseline, False)]
            if args.direct:
                cells.append(([w.url for w in dep.web], args.screens, False))
            cells.append(([dep.nginx.url], args.screens, True))
            for urls, n, proxied in cells:
                out = cell(dep, load, urls, n, args.rate, args.seconds, proxied)
                print(json.dumps({"run": run + 1, **out}), flush=True)
    finally:
        dep.stop()
        keys = list(system.redis.scan_iter(match=f"{system.keys.prefix}:*"))
        if keys:
            system.redis.delete(*keys)


if __name__ == "__main__":
    main()
