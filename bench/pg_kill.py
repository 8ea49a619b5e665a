"""PostgreSQL killed with SIGKILL under load, with gridwatch's own processes (issue 14, item 5).

    python -m bench.pg_kill [--trials 3] [--down 2] [--seconds 10]

A private PostgreSQL cluster (``initdb``, ``pg_ctl``, loopback port) and a durable Redis
server of the benchmark's own; one ``gridwatch engine`` and one ``gridwatch serve`` process on
them, as in production. Two producers put create commands on the command stream (acknowledged:
an XADD id came back) and four clients post reports to ``POST /api/v1/cases`` (acknowledged: a
201 or a 200; a 503 is retried later with the same ``ref``, as a client should). At
``--kill-at`` seconds the server and all its processes are killed with SIGKILL; ``--down``
seconds later it is started again. Measured per trial:

- ``lost``: acknowledged refs with no case in SQL once the engine has drained the stream, and
  ``twice``: refs with more than one case (both must be 0);
- the answers the web process gave while the server was down (503s, 500s, client time-outs)
  and the slowest of them;
- ``web_back_s``: from the server accepting connections again to the web's next report taken
  (201: a new case; 200: attached to the open case like it);
- ``engine_back_s``: from then to the engine's next case in SQL.

The baseline, in the same run on the same processes: a trial of the same load with no kill
(its acknowledged rate and answer p99).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from backend.auth.apikeys import create_key
from backend.bus.durability import DURABLE_CONFIG
from backend.core.config import Settings
from backend.domain.commands import create_command
from backend.intake.store import idem_digest
from backend.store.models import case_reports, cases
from bench.common import TZ, machine, open_system, seconds, stop_processes
from bench.redis_kill import Server
from bench.soak import env_for, start, wait_http
from tests.browser import free_port
from tests.pgproc import PrivatePostgres


class Trial:
    """One run of the load, with or without a kill of the database server."""

    def __init__(self, system: Any, url: str, key: str, tag: str) -> None:
        self.system, self.url, self.key, self.tag = system, url, key, tag
        grid = sorted(system.ref.grids)[0]
        cat = next(c for c, i in sorted(system.ref.categories.items()) if not i.major)
        self.body = {"category": cat, "description": "停电测试", "channel": "hotline", "grid": grid}
        self.acked: list[str] = []
        self.unanswered: list[str] = []  # posted refs with no 201/200 yet
        self.answers: list[tuple[float, float, int]] = []  # (sent at, took, status; 0: time-out)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def produce(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            ref = f"{self.tag}-s{n}-{i}"
            try:
                self.system.stream.add(create_command(self.body, ref=ref, command_id=ref).to_json())
            except Exception:  # Redis is not what is killed: report it and stop
                return
            with self.lock:
                self.acked.append(ref)
            i += 1
            time.sleep(0.004)

    def post(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=5.0) as client:
            i = 0
            while not self.stop.is_set():
                ref = f"{self.tag}-h{n}-{i}"
                i += 1
                status = self._send(client, ref)
                if status not in (200, 201):
                    with self.lock:
                        self.unanswered.append(ref)
                time.sleep(0.02)

    def _send(self, client: httpx.Client, ref: str) -> int:
        t0 = time.time()
        try:
            status = client.post("/api/v1/cases", json={**self.body, "ref": ref}).status_code
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.answers.append((t0, time.time() - t0, status))
            if status in (200, 201):
                self.acked.append(ref)
        return status

    def retry_unanswered(self) -> dict[int, int]:
        """Every post that got no case, sent again with its ref until it does."""
        statuses: dict[int, int] = {}
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10.0) as client:
            for ref in self.unanswered:
                for _ in range(20):
                    status = self._send(client, ref)
                    if status in (200, 201):
                        statuses[status] = statuses.get(status, 0) + 1
                        break
                    time.sleep(0.5)
        return statuses

    def count(self) -> dict[str, int]:
        """A command made its case (``cases.ref``); a post made its report, found by the key
        its ref is kept under (``case_reports.idem_key``: a case, or attached to an open one
        like it)."""
        posted = {idem_digest(f"ref|{ref}"): ref for ref in self.acked if "-h" in ref}
        with self.system.db.connect() as conn:
            made = dict(
                conn.execute(
                    select(cases.c.ref, func.count())
                    .where(cases.c.ref.like(f"{self.tag}-%"))
                    .group_by(cases.c.ref)
                ).all()
            )
            for digest in conn.execute(
                select(case_reports.c.idem_key).where(case_reports.c.idem_key.in_(posted))
            ).scalars():
                made.setdefault(posted[digest], 1)
        acked = set(self.acked)
        return {
            "acked": len(acked),
            "lost": len(acked - set(made)),
            "twice": sum(1 for n in made.values() if n > 1),
            "unacknowledged_but_stored": len(set(made) - acked),
        }


def cases_now(system: Any) -> int | None:
    try:
        with system.db.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(cases)).scalar_one())
    except Exception:  # the server is down
        return None


def run_trial(
    system: Any, url: str, key: str, cluster: PrivatePostgres | None, args: argparse.Namespace
) -> dict[str, Any]:
    tag = f"t{uuid.uuid4().hex[:6]}"
    trial = Trial(system, url, key, tag)
    threads = [threading.Thread(target=trial.produce, args=(n,), daemon=True) for n in range(2)]
    threads += [threading.Thread(target=trial.post, args=(n,), daemon=True) for n in range(4)]
    t_start = time.time()
    for th in threads:
        th.start()
    out: dict[str, Any] = {"kill": cluster is not None}
    if cluster is None:
        time.sleep(args.seconds)
    else:
        time.sleep(args.kill_at)
        before = cases_now(system)
        cluster.kill()
        killed_at = time.time()
        time.sleep(args.down)
        t0 = time.monotonic()
        cluster.start()
        up_at = time.time()
        out["pg_start_s"] = round(time.monotonic() - t0, 2)
        engine_back = None
        while time.time() - up_at < 60:
            n = cases_now(system)
            if n is not None and before is not None and n > before:
                engine_back = time.time() - up_at
                break
            time.sleep(0.05)
        out["engine_back_s"] = round(engine_back, 2) if engine_back is not None else None
        time.sleep(max(0.0, t_start + args.seconds - time.time()))
    trial.stop.set()
    for th in threads:
        th.join(timeout=20)
    out["retried"] = trial.retry_unanswered()
    drained = seconds(system.stream.wait_drained(600))
    out["drained_s"] = drained
    out.update(trial.count())
    took = [t for _, t, s in trial.answers if s in (200, 201)]
    out["posts"] = len(trial.answers)
    out["answer_p99_s"] = round(pct(took, 99), 3) if took else None
    out["acked_per_s"] = round(out["acked"] / args.seconds, 1)
    if cluster is not None:
        during = [(t, d, s) for t, d, s in trial.answers if killed_at <= t <= up_at]
        out["while_down"] = {
            str(s): sum(1 for _, _, x in during if x == s) for s in sorted({s for *_, s in during})
        }
        out["while_down_slowest_s"] = round(max((d for _, d, _ in during), default=0.0), 2)
        later = [s for t, _, s in trial.answers if t > up_at]
        out["after_up"] = {str(s): later.count(s) for s in sorted(set(later))}
        after = sorted(t + d for t, d, s in trial.answers if t >= up_at and s in (200, 201))
        out["web_back_s"] = round(after[0] - up_at, 2) if after else None  # its next case
    out["http_500s"] = sum(1 for *_, s in trial.answers if s >= 500 and s != 503)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--kill-at", type=float, default=3.0)
    ap.add_argument("--down", type=float, default=2.0)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gwpgkill-"))
    redis_server = Server(folder, dict(DURABLE_CONFIG))
    redis_server.start()
    cluster = PrivatePostgres()
    cluster.start()
    settings = Settings(
        DATABASE_URL=cluster.url,
        REDIS_URL=redis_server.url,
        GRIDWATCH_VAR=folder,
        GRIDWATCH_REDIS_PREFIX=f"gwpgkill{uuid.uuid4().hex[:6]}",
        GRIDWATCH_PARTITIONS=4,
    )
    system = open_system(settings, datetime.now(TZ), warm=False)
    system.init("small")
    with system.db.begin() as conn:
        key = create_key(conn, "bench-pg-kill", system.clock.now())
    env = env_for(system, redis_server.url)
    env["GRIDWATCH_RATE_KEY"] = "1000000/60"  # the clients are one key: not what is measured
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [
        start(["engine", "--consumer", "bench"], env, folder / "engine.log"),
        start(["serve", "--port", str(port)], env, folder / "web.log"),
    ]
    print(f"# {machine()}, {datetime.now(TZ):%Y-%m-%d %H:%M}, logs in {folder}", flush=True)
    rows = []
    try:
        wait_http(url, procs[1])
        for _ in range(args.trials):
            for kill in (False, True):
                row = run_trial(system, url, key, cluster if kill else None, args)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        stop_processes(procs)
        system.db.dispose()
        cluster.stop()
        redis_server.kill()
        shutil.rmtree(folder / "appendonlydir", ignore_errors=True)
    killed = [r for r in rows if r["kill"]]
    print(
        json.dumps(
            {
                "trials": len(killed),
                "acked": sum(r["acked"] for r in killed),
                "lost": sum(r["lost"] for r in killed),
                "twice": sum(r["twice"] for r in killed),
                "http_500s": sum(r["http_500s"] for r in rows),
                "web_back_s_median": _median([r["web_back_s"] for r in killed]),
                "engine_back_s_median": _median([r["engine_back_s"] for r in killed]),
            }
        )
    )


def _median(xs: list[float | None]) -> float | None:
    known = [x for x in xs if x is not None]
    return round(statistics.median(known), 2) if known else None


if __name__ == "__main__":
    main()
