"""A stuck database under load (issue 14): posts while another connection holds a table lock.

    BENCH_PG_URL=postgresql://… python -m bench.db_stuck [--posts 200] [--lock 10]

The web process (``create_api``) on a loopback port, on PostgreSQL. Another connection holds
an ACCESS EXCLUSIVE lock on ``case_reports`` for ``--lock`` seconds while 20 clients send
``--posts`` reports (each with its own ``Idempotency-Key``, a 15 s client timeout); meanwhile
``/healthz`` is timed. Then every post that did not get its case is retried with the same key.
Two runs: gridwatch's bounded waits, and the baseline with no lock or statement timeout and a
30 s pool timeout (as before issue 14). Printed per run: answers by status, time to answer
p50/p99, ``/healthz`` p99 during the lock, and cases after the retries (expected: ``--posts``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select, text

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.store.models import cases
from backend.system import System
from bench.common import TZ, fresh_system, machine, open_system

UNBOUNDED = {"db_lock_timeout_ms": 0, "db_statement_timeout_ms": 0, "db_pool_timeout_s": 30.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: Any, port: int) -> uvicorn.Server:
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return srv


def hold_lock(system: System, seconds: float, ready: threading.Event) -> None:
    with system.db.connect() as conn:
        conn.execute(text("SET lock_timeout = 0"))
        conn.execute(text("LOCK TABLE case_reports IN ACCESS EXCLUSIVE MODE"))
        ready.set()
        time.sleep(seconds)
        conn.rollback()


def post(url: str, key: str, body: dict[str, Any], idem: str) -> tuple[str, float]:
    t0 = time.monotonic()
    try:
        r = httpx.post(
            f"{url}/api/v1/cases",
            json=body,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
            timeout=15,
        )
        outcome = str(r.status_code)
    except httpx.TimeoutException:
        outcome = "client timeout"
    except httpx.TransportError:
        outcome = "reset"
    return outcome, time.monotonic() - t0


def run(system: System, posts: int, lock: float, port: int) -> dict[str, Any]:
    with system.db.begin() as conn:
        key = create_key(conn, f"stuck-{uuid.uuid4().hex[:6]}", system.clock.now())
    srv = serve(create_api(system), port)
    url = f"http://127.0.0.1:{port}"
    grid = sorted(system.ref.grids)[0]
    cat = next(c for c, i in sorted(system.ref.categories.items()) if not i.major)
    tag = uuid.uuid4().hex[:6]
    bodies = [
        {
            "category": cat,
            "description": f"{tag} 第{i}号",
            "channel": "hotline",
            "grid": grid,
            "dedupe": False,
        }
        for i in range(posts)
    ]
    keys = [str(uuid.uuid4()) for _ in range(posts)]
    ready = threading.Event()
    locker = threading.Thread(target=hold_lock, args=(system, lock, ready), daemon=True)
    locker.start()
    ready.wait(10)
    health: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/healthz", timeout=30)
            health.append(time.monotonic() - t0)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: post(url, key, bodies[i], keys[i]), range(posts)))
    stop.set()
    locker.join()
    watcher.join()
    counts: dict[str, int] = {}
    for outcome, _ in results:
        counts[outcome] = counts.get(outcome, 0) + 1
    retry = [i for i, (o, _) in enumerate(results) if o not in ("201", "200")]
    time.sleep(1.0)
    again = [post(url, key, bodies[i], keys[i])[0] for i in retry]
    with system.db.connect() as conn:
        made = conn.execute(
            select(func.count()).where(cases.c.description.like(f"{tag} %"))
        ).scalar_one()
    srv.should_exit = True
    took = sorted(t for _, t in results)
    return {
        "answers": counts,
        "p50_s": round(statistics.median(took), 2),
        "p99_s": round(took[max(0, int(len(took) * 0.99) - 1)], 2),
        "healthz_p99_s": round(sorted(health)[max(0, int(len(health) * 0.99) - 1)], 3),
        "retried": len(retry),
        "retry_answers": {o: again.count(o) for o in set(again)},
        "cases": made,
        "posts": posts,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=200)
    ap.add_argument("--lock", type=float, default=10.0)
    args = ap.parse_args()
    base = fresh_system("postgres")
    out: dict[str, Any] = {"machine": machine(), "lock_s": args.lock}
    for name, update in (("bounded", {}), ("baseline", UNBOUNDED)):
        settings = base.settings.model_copy(update=update)
        system = open_system(settings, base.clock.now().astimezone(TZ))
        out[name] = run(system, args.posts, args.lock, free_port())
        system.db.dispose()
        print(json.dumps({name: out[name]}), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
