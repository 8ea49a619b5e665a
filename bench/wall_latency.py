"""Latency from the engine's commit to the new number in the browser's DOM, measured in headless
Chromium, for the pushed wall and for a polling baseline measured in the same run.

    python -m bench.wall_latency [--rates 10,500] [--screens 1,20] [--seconds 20]
    python -m bench.wall_latency --soak 3600 --rate 50      (browser memory over an hour)

How it measures:

- the web process runs on its own (``gridwatch serve``, or ``bench.polling_wall`` for the
  baseline), on the machine's Redis server and the benchmark's SQLite database;
- this process is the engine: it reports cases at the given rate of case events, and notes the
  wall-clock time just before each batch's publish (right after its SQL commit) and the number
  of open cases the batch leaves;
- in every Chromium a ``MutationObserver`` notes when the "open" tile changes and to what;
- a batch's latency, per screen, is the first time its count (or more) is on that screen minus
  its commit time. Browser and engine run on one machine, so they read one clock.

Server CPU is the web process's own CPU time (``/proc``) over the run, per screen connected.

The path of each batch, leg by leg (``legs`` in each pushed cell, p50/p99 in ms; see
``breakdown``): commit → publish (the engine's publish into Redis returned) → bridge (the web
process's feed received the message) → frame (the first frame made with it) → sent (handed to
a screen's websocket, every screen) → browser (the Chromium's DOM). The web process notes its
times only when the benchmark asks (``GRIDWATCH_LIVE_TRACE``, ``dashboard.live_trace``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from backend.domain.commands import create_command
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.system import System
from bench.common import TZ, fresh_system, machine
from bench.session import COOKIE, bench_cookie
from bench.ws_screen import ProtocolScreens
from tests.browser import chromium, free_port

OBSERVE_JS = """
window.__gw = [];
const el = document.getElementById('wall-kpi-open');
new MutationObserver(() => window.__gw.push([Date.now(), el.textContent]))
    .observe(el, {childList: true, characterData: true, subtree: true});
return el.textContent;
"""


@dataclass
class Recorder:
    """Wraps the engine's publisher: the time just before each publish, i.e. after commit."""

    inner: Any
    times: list[float] = field(default_factory=list)
    #: per publish: (sequence number, the time it returned, i.e. the message is in Redis)
    published: list[tuple[int | None, float]] = field(default_factory=list)

    def publish(self, deltas: list[dict[str, Any]]) -> int | None:
        self.times.append(time.time())
        seq = self.inner.publish(deltas)
        self.published.append((seq, time.time()))
        return seq  # type: ignore[no-any-return]

    def skip(self) -> None:
        self.inner.skip()


def _env(system: System) -> dict[str, str]:
    s = system.settings
    return {
        **os.environ,
        "DATABASE_URL": s.effective_database_url,
        "REDIS_URL": s.redis_url or "",
        "GRIDWATCH_VAR": str(s.var_dir),
        "GRIDWATCH_REDIS_PREFIX": s.key_prefix,
    }


def start_server(
    system: System, kind: str, trace: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The web process; with ``trace``, it notes the times of the live path in that file
    (``dashboard.live_trace``)."""
    port = free_port()
    if kind == "push":
        cmd = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "bench.polling_wall", "--port", str(port)]
    env = _env(system) | ({"GRIDWATCH_LIVE_TRACE": trace} if trace else {})
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            # up: the wall (polling) or the way to sign in to it (push)
            if httpx.get(url + "/", timeout=1).status_code in (200, 401):
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the {kind} web process did not start")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def open_screens(url: str, cookie: str, n: int, observe: bool = True, path: str = "/") -> list[Any]:
    browsers = []
    for _ in range(n):
        b = chromium(1920, 1080)
        b.get(url + "/login")
        b.add_cookie({"name": COOKIE, "value": cookie, "path": "/"})
        b.get(url + path)
        browsers.append(b)
    for b in browsers:
        deadline = time.time() + 60
        while time.time() < deadline:
            text = b.execute_script(
                "var e = document.getElementById('wall-kpi-open'); return e && e.textContent"
            )
            if text and text != "—":
                break
            time.sleep(0.1)
        if observe:
            b.execute_script(OBSERVE_JS)
    return browsers


class Load:
    """Reports cases through the engine at a steady rate of case events."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.recorder = Recorder(system.engine.publisher)
        system.engine.publisher = self.recorder
        self.grids = sorted(system.ref.grids)
        self.cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
        self.n = 0
        self.open = self._open_now()
        #: per batch of the last ``run``, beside its marks: (sequence number, publish returned)
        self.published: list[tuple[int | None, float]] = []

    def _open_now(self) -> int:
        with self.system.db.connect() as conn:
            return int(kpi(conn, self.system.clock.now(), TZ, scope=Scope.city())["open"])

    def run(self, rate: float, seconds: float) -> list[tuple[int, float]]:
        """[(open cases after the batch, commit time)] for every batch."""
        marks: list[tuple[int, float]] = []
        self.published = []
        events = 0
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < seconds:
            due = rate * elapsed - events
            if due >= 1:
                k = max(1, math.ceil(due / 2))  # a report is two events: reported, dispatched
                cmds = []
                for _ in range(k):
                    self.n += 1
                    cmds.append(
                        create_command(
                            {
                                "category": self.cats[self.n % len(self.cats)],
                                "description": "基准测试",
                                "channel": "hotline",
                                "grid": self.grids[self.n % len(self.grids)],
                            }
                        )
                    )
                res = self.system.engine.apply(cmds)
                events += res.events
                self.open += sum(1 for r in res.results if r.ok)
                marks.append((self.open, self.recorder.times[-1]))
                self.published.append(self.recorder.published[-1])
            time.sleep(0.01)
        return marks


def latencies(marks: list[tuple[int, float]], seen: list[list[Any]]) -> list[float]:
    """Per batch and screen: first time its count (or more) was shown, minus its commit."""
    out = []
    for obs in seen:
        points = [(t / 1000.0, int(v)) for t, v in obs if str(v).isdigit()]
        i = 0
        for count, t_commit in marks:
            while i < len(points) and points[i][1] < count:
                i += 1
            if i == len(points):
                break
            out.append((points[i][0] - t_commit) * 1000.0)
    return out


#: the legs of the live path, in order (``breakdown``)
LEGS = ("publish", "bridge", "frame", "sent", "browser")


def read_trace(path: str) -> list[list[Any]]:
    try:
        with open(path, "rb") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def breakdown(
    marks: list[tuple[int, float]],
    published: list[tuple[int | None, float]],
    trace: list[list[Any]],
    browser_seen: list[Any] | None,
) -> dict[str, Any]:
    """Each batch's path, leg by leg, in ms (the city's wall):

    - publish: commit → the publish into Redis returned;
    - bridge: → the web process's feed received the message (by its sequence number);
    - frame: → the first frame made with it (the coalescing wait, and the frame's making);
    - sent: → that frame, or a later one, handed to a screen's websocket (every screen);
    - browser: → the Chromium's DOM shows it (its screen connected first; sent measured on it).

    A leg's p99 is its own: the legs' p99s do not add up to the whole path's.
    """
    recv: dict[int, float] = {}
    frames: list[tuple[int, int, float]] = []  # (frame, last seq in it, made at)
    sent: dict[int, list[tuple[int, float]]] = {}  # screen → [(frame, sent at)]
    for row in trace:
        kind, t = row[0], row[1]
        if kind == "recv":
            recv.setdefault(row[2], t)
        elif kind == "frame" and row[2] is None:
            frames.append((row[3], row[4], t))
        elif kind == "sent" and row[2] is None:
            sent.setdefault(row[3], []).append((row[4], t))
    frames.sort()
    seq_of = {n: seq for n, seq, _ in frames}
    legs: dict[str, list[float]] = {k: [] for k in LEGS}
    chromium = min(sent) if sent else None
    dom = [(t / 1000.0, int(v)) for t, v in (browser_seen or []) if str(v).isdigit()]
    fi = 0
    si = {k: 0 for k in sent}
    di = 0
    for (count, t_commit), (seq, t_pub) in zip(marks, published, strict=True):
        legs["publish"].append((t_pub - t_commit) * 1000.0)
        if seq is None or seq not in recv:
            continue
        t_recv = recv[seq]
        legs["bridge"].append((t_recv - t_pub) * 1000.0)
        while fi < len(frames) and frames[fi][1] < seq:
            fi += 1
        if fi == len(frames):
            continue
        t_frame = frames[fi][2]
        legs["frame"].append((t_frame - t_recv) * 1000.0)
        t_sent_chromium = None
        for screen, rows in sent.items():
            i = si[screen]
            while i < len(rows) and seq_of.get(rows[i][0], -1) < seq:
                i += 1
            si[screen] = i
            if i < len(rows):
                legs["sent"].append((rows[i][1] - t_frame) * 1000.0)
                if screen == chromium:
                    t_sent_chromium = rows[i][1]
        while di < len(dom) and dom[di][1] < count:
            di += 1
        if t_sent_chromium is not None and di < len(dom):
            legs["browser"].append((dom[di][0] - t_sent_chromium) * 1000.0)
    return {leg: quantiles(xs) | {"n": len(xs)} for leg, xs in legs.items()}


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure(
    system: System,
    load: Load,
    kind: str,
    rate: float,
    screens: int,
    seconds: float,
    protocol_screens: bool = False,
) -> dict[str, Any]:
    """One cell. With ``protocol_screens``, one screen is a real Chromium and the others are
    ``bench.ws_screen`` clients: the server does the same work for each, and only the one
    browser's drawing is on this machine (a real wall has a PC per screen)."""
    trace = None
    if kind == "push":
        trace = os.path.abspath(system.settings.var_dir / f"live-trace-{time.time_ns()}.jsonl")
    proc, url = start_server(system, kind, trace)
    cookie = bench_cookie(system)
    browsers = open_screens(url, cookie, 1 if protocol_screens else screens)
    others = ProtocolScreens(url, cookie, screens - 1 if protocol_screens else 0)
    others.start()
    done: list[tuple[list[tuple[float, str]], int, str | None]] = []
    try:
        time.sleep(4.0)  # let every screen finish drawing its map before the clock starts
        cpu0, w0 = cpu_seconds(proc.pid), time.monotonic()
        screens_cpu0 = cpu_seconds(others.pid) if others.pid else 0.0
        marks = load.run(rate, seconds)
        cpu1, w1 = cpu_seconds(proc.pid), time.monotonic()
        screens_cpu1 = cpu_seconds(others.pid) if others.pid else 0.0
        time.sleep(3.0 if kind == "push" else 5.0)
        seen = [b.execute_script("return window.__gw") for b in browsers]
    finally:
        for b in browsers:
            b.quit()
        done = others.finish()
        proc.terminate()
        proc.wait(timeout=20)
    lat = latencies(marks, seen)
    expected = len(marks) * len(browsers)
    out: dict[str, Any] = {
        "transport": kind,
        "rate": rate,
        "screens": screens,
        "chromium_screens": len(browsers),
        "batches": len(marks),
        "measured": len(lat),
        "missing": expected - len(lat),
        **quantiles(lat),
        "server_cpu_pct": round(100 * (cpu1 - cpu0) / (w1 - w0), 1),
    }
    if trace is not None:
        out["legs"] = breakdown(marks, load.published, read_trace(trace), seen[0] if seen else None)
        os.unlink(trace)
    if done:
        delivered = latencies(marks, [seen for seen, _, _ in done])
        out["protocol_screens"] = {
            "screens": len(done),
            "errors": [err for _, _, err in done if err],
            "frames_per_screen": round(statistics.mean(f for _, f, _ in done), 1),
            "their_cpu_pct": round(100 * (screens_cpu1 - screens_cpu0) / (w1 - w0), 1),
            "delivered": len(delivered),
            **quantiles(delivered),
        }
    return out


def quantiles(xs: list[float]) -> dict[str, float | None]:
    """The median and the 99th percentile of latencies in ms (None when none were seen)."""
    return {
        "p50_ms": round(statistics.median(xs), 1) if xs else None,
        "p99_ms": round(pct(xs, 99), 1) if xs else None,
    }


def soak(system: System, load: Load, seconds: float, rate: float, every: float) -> None:
    """One screen left open at ``rate`` events/s: its JS heap and DOM size over time."""
    proc, url = start_server(system, "push")
    (b,) = open_screens(
        url, bench_cookie(system), 1, observe=False
    )  # no latency log: it would grow, not the wall
    t0 = time.monotonic()
    samples = []
    try:
        while (elapsed := time.monotonic() - t0) < seconds:
            load.run(rate, min(every, seconds - elapsed))
            heap = b.execute_script(
                "return [performance.memory.usedJSHeapSize,"
                " document.getElementsByTagName('*').length,"
                " document.getElementById('wall-kpi-open').textContent]"
            )
            samples.append(
                {
                    "minutes": round((time.monotonic() - t0) / 60, 1),
                    "js_heap_mb": round(heap[0] / 2**20, 2),
                    "dom_nodes": heap[1],
                    "open_tile": heap[2],
                    "open_sql": load.open,
                }
            )
            print(json.dumps(samples[-1], ensure_ascii=False), flush=True)
    finally:
        b.quit()
        proc.terminate()
        proc.wait(timeout=20)
    first, last = samples[0], samples[-1]
    print(
        json.dumps(
            {
                "soak_minutes": last["minutes"],
                "rate": rate,
                "js_heap_mb_first": first["js_heap_mb"],
                "js_heap_mb_last": last["js_heap_mb"],
                "js_heap_mb_max": max(s["js_heap_mb"] for s in samples),
                "dom_nodes_first": first["dom_nodes"],
                "dom_nodes_last": last["dom_nodes"],
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="10,500")
    ap.add_argument("--screens", default="1,20")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--transports", default="push,poll")
    ap.add_argument("--soak", type=float, default=0, help="seconds of the memory soak")
    ap.add_argument("--rate", type=float, default=50, help="events/s of the soak")
    ap.add_argument(
        "--protocol-screens",
        action="store_true",
        help="one Chromium; the other screens speak the websocket protocol with no renderer",
    )
    args = ap.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    system = fresh_system("sqlite", start=datetime.now(TZ))
    load = Load(system)
    print(f"# {machine()}, {datetime.now(TZ):%Y-%m-%d %H:%M}", flush=True)
    if args.soak:
        soak(system, load, args.soak, args.rate, every=60)
        return
    for kind in args.transports.split(","):
        for rate in (float(r) for r in args.rates.split(",")):
            for screens in (int(s) for s in args.screens.split(",")):
                if kind == "poll" and args.protocol_screens and screens > 1:
                    continue  # the polling page has no websocket to speak to
                r = measure(system, load, kind, rate, screens, args.seconds, args.protocol_screens)
                print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
