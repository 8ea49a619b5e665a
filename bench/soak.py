"""An hour of steady load on the whole system: is anything growing (issue 14, item 7)?

    python -m bench.soak [--minutes 60] [--rate 200] [--screens 20] [--backend postgres]

The system as it runs in production, each part a process of its own: a ``redis-server`` of the
benchmark's own (append-only, so its keys are the system's alone), one ``gridwatch engine``
and one ``gridwatch serve``, on PostgreSQL (``BENCH_PG_URL``) or SQLite. This process is the
city: it puts commands on the command stream at ``rate`` case events a second, as intake does
(a new case, reported and dispatched: two events; and, from the second minute on, the
cancellation of a case reported a minute before: one event), so the number of open cases
levels off as a real city's does. The screens: one real Chromium on the wall and
``screens - 1`` protocol screens (``bench.ws_screen``) in a process of their own.

Every ``--every`` seconds it samples:

- the resident memory of the web process, the engine and Redis (``used_memory``);
- every Redis key by family (digits folded: ``gw:cmd:p:7`` is ``gw:cmd:p:#``), with its length
  (entries of a stream, fields of a hash, members of a set, …) and the family's key count;
- the browser's JS heap and DOM nodes; the command backlog.

At the end the load stops, the engine drains the stream, and every screen's "open" tile must
equal the open cases counted in SQL. The verdict compares the last quarter of the samples with
the first quarter after a warm-up (the baseline, in the same run): memory growth per process
in per cent, and any key family whose total length or key count kept growing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import redis

from backend.bus.durability import DURABLE_CONFIG
from backend.domain.commands import action_command, create_command
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.system import System
from bench.common import TZ, fresh_system, machine, seconds, stop_processes
from bench.redis_kill import Server
from bench.session import bench_cookie
from bench.wall_latency import open_screens
from bench.ws_screen import ProtocolScreens

LENGTH = {
    "stream": "xlen",
    "hash": "hlen",
    "set": "scard",
    "zset": "zcard",
    "list": "llen",
}


def family(key: str, prefix: str) -> str:
    """A key's family: the prefix dropped, digits and hex ids folded, so one partition or
    session is one row."""
    return re.sub(r"[0-9a-f]{16,}|\d+", "#", key.removeprefix(prefix + ":"))


def redis_families(r: redis.Redis, prefix: str) -> dict[str, dict[str, int]]:
    """{family: {"keys": how many, "length": their total length}}; a string's length is 1
    (a counter's digits are not growth)."""
    out: dict[str, dict[str, int]] = {}
    for raw in r.scan_iter(count=1000):
        key = raw.decode()
        found: Any = r.type(raw)
        kind = found.decode()
        length = int(getattr(r, LENGTH[kind])(raw)) if kind in LENGTH else 1
        f = out.setdefault(family(key, prefix), {"keys": 0, "length": 0})
        f["keys"] += 1
        f["length"] += length
    return out


def env_for(system: System, redis_url: str) -> dict[str, str]:
    s = system.settings
    return {
        **os.environ,
        "DATABASE_URL": s.effective_database_url,
        "REDIS_URL": redis_url,
        "GRIDWATCH_VAR": str(s.var_dir),
        "GRIDWATCH_REDIS_PREFIX": s.key_prefix,
        "GRIDWATCH_SECRET_KEY": s.effective_secret_key,
    }


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", *cmd], env=env, stdout=out, stderr=out
    )


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the web process ended ({proc.returncode})")
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the web process did not answer")


class City:
    """Commands at a steady rate of case events: new cases, and cancellations of cases made
    a minute before (so the open count stays bounded)."""

    def __init__(self, system: System, rate: float) -> None:
        self.stream = system.stream
        self.grids = sorted(system.ref.grids)
        self.cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
        self.rate = rate
        self.made = 0
        self.pending: deque[tuple[float, str]] = deque()  # (when made, ref) to cancel later
        self.events = 0.0
        self.t0 = time.monotonic()

    def step(self) -> None:
        """Put on the stream what is due by now."""
        now = time.monotonic()
        due = self.rate * (now - self.t0) - self.events
        if due < 3:
            return
        payloads: list[bytes] = []
        while due >= 3:  # a round: one report (2 events) and one cancellation (1 event)
            self.made += 1
            ref = f"soak-{self.made}"
            body = {
                "category": self.cats[self.made % len(self.cats)],
                "description": "长时运行测试",
                "channel": "hotline",
                "grid": self.grids[self.made % len(self.grids)],
            }
            payloads.append(create_command(body, ref=ref, command_id=ref).to_json())
            self.pending.append((now, ref))
            if self.pending and now - self.pending[0][0] > 60:
                _, old = self.pending.popleft()
                cancel = action_command("cancel", {"reason": "测试撤销"}, ref=old, actor="soak")
                payloads.append(cancel.to_json())
            due -= 3
            self.events += 3
        self.stream.add_many(payloads)


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def open_in_sql(system: System) -> int:
    with system.db.connect() as conn:
        return int(kpi(conn, datetime.now(TZ), TZ, scope=Scope.city())["open"])


def growth(samples: list[dict[str, Any]], pick: Any) -> dict[str, float | None]:
    """The last quarter's mean against the first quarter's (after warm-up), per cent."""
    q = max(1, len(samples) // 4)
    first = statistics.mean(pick(s) for s in samples[:q])
    last = statistics.mean(pick(s) for s in samples[-q:])
    pct = round(100.0 * (last - first) / first, 1) if first else None  # None: from nothing
    return {"first": round(first, 1), "last": round(last, 1), "growth_pct": pct}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--rate", type=float, default=200, help="case events a second")
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=5, help="minutes before the baseline")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="gwsoak-"))
    server = Server(folder, dict(DURABLE_CONFIG))
    server.start()
    os.environ["REDIS_URL"] = server.url
    system = fresh_system(args.backend, start=datetime.now(TZ))
    r = redis.Redis.from_url(server.url)
    env = env_for(system, server.url)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    engine = start(["engine", "--consumer", "soak"], env, folder / "engine.log")
    web = start(["serve", "--port", str(port)], env, folder / "web.log")
    procs = [engine, web]
    browsers: list[Any] = []
    screens = ProtocolScreens(url, "", 0)
    finished = False
    print(f"# {machine()}, {datetime.now(TZ):%Y-%m-%d %H:%M}, logs in {folder}", flush=True)
    try:
        wait_http(url, web)
        cookie = bench_cookie(system)
        browsers = open_screens(url, cookie, 1, observe=False)
        screens = ProtocolScreens(url, cookie, args.screens - 1)
        screens.start()
        time.sleep(3)
        city = City(system, args.rate)
        samples: list[dict[str, Any]] = []
        t0 = time.monotonic()
        next_sample = t0 + args.every
        end = t0 + args.minutes * 60
        while time.monotonic() < end:
            city.step()
            if time.monotonic() >= next_sample:
                next_sample += args.every
                samples.append(sample(r, system, web, engine, browsers[0], t0, city))
                brief = {k: v for k, v in samples[-1].items() if k != "redis"}
                brief["redis_keys"] = sum(f["keys"] for f in samples[-1]["redis"].values())
                print(json.dumps(brief, ensure_ascii=False), flush=True)
            time.sleep(0.05)
        events_sent = city.events
        drained = seconds(system.stream.wait_drained(600))
        time.sleep(5)  # the last frames reach the screens
        sql_open = open_in_sql(system)
        tile = browsers[0].execute_script(
            "return document.getElementById('wall-kpi-open').textContent"
        )
        done = screens.finish()
        finished = True
        last_seen = [seen[-1][1] if seen else None for seen, _, _ in done]
        errors = [err for _, _, err in done if err]
        after = [s for s in samples if s["minutes"] >= args.warmup] or samples
        families = sorted({f for s in after for f in s["redis"]})
        verdict = {
            "minutes": args.minutes,
            "rate": args.rate,
            "events_sent": int(events_sent),
            "screens": args.screens,
            "drained_s": drained,
            "sql_open": sql_open,
            "browser_open_tile": tile,
            "protocol_screens_equal": sum(1 for v in last_seen if str(v) == str(sql_open)),
            "protocol_screens": len(last_seen),
            "protocol_errors": errors,
            "web_rss_mb": growth(after, lambda s: s["web_rss_mb"]),
            "engine_rss_mb": growth(after, lambda s: s["engine_rss_mb"]),
            "redis_used_mb": growth(after, lambda s: s["redis_used_mb"]),
            "js_heap_mb": growth(after, lambda s: s["js_heap_mb"]),
            "redis_families": {
                f: {
                    "keys": growth(after, lambda s, f=f: s["redis"].get(f, {}).get("keys", 0)),
                    "length": growth(after, lambda s, f=f: s["redis"].get(f, {}).get("length", 0)),
                }
                for f in families
            },
        }
        verdict["growing_key_families"] = [
            f for f, g in verdict["redis_families"].items() if any(_grew(g[m]) for m in g)
        ]
        print(json.dumps({"verdict": verdict}, ensure_ascii=False), flush=True)
    finally:
        for b in browsers:
            b.quit()
        if screens.n and not finished:
            with contextlib.suppress(Exception):  # the run failed: the screens end anyway
                screens.finish()
        stop_processes(procs)
        if server.proc is not None:
            server.kill()
        shutil.rmtree(folder / "appendonlydir", ignore_errors=True)


def _grew(g: dict[str, float | None]) -> bool:
    first, last = g["first"] or 0.0, g["last"] or 0.0
    return last - first > max(50.0, 0.2 * first)


def sample(
    r: redis.Redis,
    system: System,
    web: subprocess.Popen[bytes],
    engine: subprocess.Popen[bytes],
    browser: Any,
    t0: float,
    city: City,
) -> dict[str, Any]:
    info: Any = r.info("memory")
    heap = browser.execute_script(
        "return [performance.memory.usedJSHeapSize, document.getElementsByTagName('*').length,"
        " document.getElementById('wall-kpi-open').textContent]"
    )
    return {
        "minutes": round((time.monotonic() - t0) / 60, 1),
        "events": int(city.events),
        "backlog": system.stream.backlog(),
        "web_rss_mb": rss_mb(web.pid),
        "engine_rss_mb": rss_mb(engine.pid),
        "redis_used_mb": round(int(info["used_memory"]) / 2**20, 2),
        "js_heap_mb": round(heap[0] / 2**20, 2),
        "dom_nodes": heap[1],
        "open_tile": heap[2],
        "redis": redis_families(r, system.keys.prefix),
    }


def _free_port() -> int:
    from tests.browser import free_port

    return free_port()


if __name__ == "__main__":
    main()
