"""Redis Sentinel failover under load: what is lost, what is doubled, how long until commands
are applied and screens are live again (issue 14, item 6).

    python -m bench.sentinel_failover [--runs 3] [--rate 200] [--seconds 20] [--kill-at 5]
                                      [--replicas 1] [--backend sqlite|postgres]

Each run starts a primary, ``--replicas`` replicas and three sentinels (quorum 2, down after
1 s) from deploy/redis/ (tests/sentinelproc.py), a ``gridwatch engine`` process on
``REDIS_URL=redis+sentinel://…``, four producers putting ``--rate`` create commands a second
on the command stream (each retried until acknowledged, as a client retries a 503), and a
live subscriber (the web process's ``LiveFeed``). Twice, on fresh servers and a fresh
database: the baseline (no kill), then the same load with the primary killed by SIGKILL at
``--kill-at`` s and started again once the sentinels have promoted the replica (as systemd
would restart it; it comes back as a replica of the new primary).

Reported: commands acknowledged and applied, ``lost`` (acknowledged, no case in SQL: must be 0),
``twice`` (refs with two cases: must be 0), seconds from the kill to the promotion, to the
first command the new primary took being applied in SQL, to the first acknowledged after the
kill, and to the first live message on the subscriber; for both, throughput and the ack p50 /
p99 / max (first send to acknowledgement, retries included: a producer holds its command
until it is acknowledged, so the outage shows in the max and in the throughput).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from backend.bus.replication import NotReplicated
from backend.bus.stream import CommandStream
from backend.core.config import Settings
from backend.domain.commands import create_command
from backend.store.models import cases
from backend.system import System
from bench.common import fresh_system, machine
from bench.redis_kill import body_for, wait_for_engine
from dashboard.live_feed import LiveFeed
from tests.sentinelproc import SentinelGroup

PRODUCERS = 4
PARTITIONS = 16


class Bridge:
    """A live subscriber's bridge that keeps only when each message came."""

    heavy_interval = 1.0
    heavy_phase = 0.0

    def __init__(self, system: System) -> None:
        self.system = system
        self.model = type("Model", (), {"seq": -1})()
        self.arrivals: list[float] = []
        self.reloads = 0

    def reload(self) -> None:
        self.model.seq = self.system.publisher.last_seq()
        self.reloads += 1

    def set_link(self, up: bool) -> None:
        pass

    def take(self, seq: int, deltas: list[dict[str, Any]]) -> None:
        self.model.seq = max(self.model.seq, seq)
        self.arrivals.append(time.monotonic())

    def wait(self, now: float) -> float:
        return 0.1

    def tick(self, now: float) -> None:
        pass


class Load:
    """Producers at a steady rate; each command retried until acknowledged."""

    def __init__(self, stream: CommandStream, body: dict[str, Any], rate: float, tag: str):
        self.stream, self.body, self.rate, self.tag = stream, body, rate, tag
        self.acked: dict[str, tuple[float, float]] = {}  # ref → (first send, acknowledged)
        self.refusals = 0
        self.killed: float | None = None
        # refs that reached the new primary after the kill (acknowledged or not), and when
        self.taken_after_kill: list[tuple[str, float]] = []
        self.stop = threading.Event()  # no new commands; those in hand are retried on
        self.abort = threading.Event()  # give up even those (only past a long timeout)
        self.threads = [
            threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(PRODUCERS)
        ]

    def start(self) -> None:
        for th in self.threads:
            th.start()

    def _taken(self, ref: str) -> None:
        if self.killed is not None and not self.taken_after_kill:
            self.taken_after_kill.append((ref, time.monotonic()))

    def finish(self, timeout: float = 90.0) -> None:
        """Send no more; wait until every command in hand is acknowledged (a client keeps
        retrying the one it has), at most ``timeout`` s."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for th in self.threads:
            th.join(timeout=max(0.1, deadline - time.monotonic()))
        self.abort.set()
        for th in self.threads:
            th.join(timeout=5)

    def _run(self, w: int) -> None:
        gap = PRODUCERS / self.rate
        due = time.monotonic()
        i = 0
        while not self.stop.is_set():
            ref = f"{self.tag}{w}-{i}"
            payload = create_command(self.body, ref=ref, command_id=ref).to_json()
            sent = time.monotonic()
            while not self.abort.is_set():
                try:
                    self.stream.add(payload)
                    self.acked[ref] = (sent, time.monotonic())
                    self._taken(ref)
                    break
                except NotReplicated:  # on the stream, not yet on a replica: sent again
                    self._taken(ref)
                    self.refusals += 1
                    self.abort.wait(0.1)
                except (redis.RedisError, OSError):
                    self.refusals += 1
                    self.abort.wait(0.1)
            i += 1
            due += gap
            self.stop.wait(max(0.0, due - time.monotonic()))


def trial(args: argparse.Namespace, kill: bool) -> dict[str, Any]:
    group = SentinelGroup(Path(tempfile.mkdtemp(prefix="gwsentinel-")), replicas=args.replicas)
    group.start()
    system = fresh_system(args.backend)
    s = system.settings
    settings = Settings(
        DATABASE_URL=s.effective_database_url,
        REDIS_URL=group.url,
        GRIDWATCH_VAR=s.var_dir,
        GRIDWATCH_REDIS_PREFIX=s.key_prefix,
        GRIDWATCH_PARTITIONS=PARTITIONS,
    )
    system = System(settings, system.clock)
    env = {
        **os.environ,
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": group.url,
        "GRIDWATCH_REDIS_PREFIX": settings.key_prefix,
        "GRIDWATCH_PARTITIONS": str(PARTITIONS),
        "GRIDWATCH_VAR": str(settings.var_dir),
    }
    engine = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "engine", "--consumer", "bench"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(settings.var_dir / "engine.log", "wb"),  # noqa: SIM115
    )
    feed = LiveFeed(system)
    bridge = Bridge(system)
    out: dict[str, Any] = {"kill": kill, "replicas": args.replicas}
    try:
        wait_for_engine(system.redis, system.keys)
        feed.join(bridge)
        system.stream.partitions  # noqa: B018  (fixed before the load)
        load = Load(system.stream, body_for(system), args.rate, "r")
        t0 = time.monotonic()
        load.start()
        killed = None
        if kill:
            time.sleep(args.kill_at)
            old = group.primary_name()
            group.kill(old)
            killed = load.killed = time.monotonic()
            first_applied = threading.Thread(
                target=_first_applied, args=(system, load, out), daemon=True
            )
            first_applied.start()
            out["promoted_s"] = round(group.wait_promoted(old), 2)
            group.start_server(old)  # after the promotion: it comes back as a replica
        time.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
        elapsed = time.monotonic() - t0  # the throughput counts the sending time only
        load.finish()
        if system.stream.wait_drained(120) is None:
            raise RuntimeError("the engine did not drain the stream")
        time.sleep(1.0)
        out.update(_count(system, load))
        lat = sorted(b - a for a, b in load.acked.values())
        out["acked_per_s"] = round(len(load.acked) / elapsed, 1)
        out["ack_p50_ms"] = round(statistics.median(lat) * 1000, 1)
        out["ack_p99_ms"] = round(lat[int(0.99 * (len(lat) - 1))] * 1000, 1)
        out["ack_max_ms"] = round(lat[-1] * 1000, 1)
        out["refusals"] = load.refusals
        if killed is not None:
            later = [b for a, b in load.acked.values() if b > killed]
            out["first_acked_s"] = round(min(later) - killed, 2) if later else None
            live = [t for t in bridge.arrivals if t > killed]
            out["live_again_s"] = round(min(live) - killed, 2) if live else None
            out["reloads"] = bridge.reloads
    finally:
        feed.leave(bridge)
        engine.terminate()
        try:
            engine.wait(timeout=20)
        except subprocess.TimeoutExpired:
            engine.kill()
        group.stop()
        shutil.rmtree(group.folder, ignore_errors=True)
        system.db.dispose()
    return out


def _first_applied(system: System, load: Load, out: dict[str, Any]) -> None:
    """Seconds from the kill until the first command the new primary took is a case in SQL."""
    assert load.killed is not None
    while time.monotonic() - load.killed < 120:
        if load.taken_after_kill:
            ref = load.taken_after_kill[0][0]
            with system.db.connect() as conn:
                if conn.execute(select(cases.c.id).where(cases.c.ref == ref)).first():
                    out["first_applied_s"] = round(time.monotonic() - load.killed, 2)
                    return
        time.sleep(0.05)


def _count(system: System, load: Load) -> dict[str, Any]:
    acked = set(load.acked)
    with system.db.connect() as conn:
        rows = conn.execute(
            select(cases.c.ref, func.count()).where(cases.c.ref.like("r%")).group_by(cases.c.ref)
        ).all()
    counted = {ref: n for ref, n in rows}
    return {
        "acked": len(acked),
        "applied": len(counted),
        "lost": len(acked - set(counted)),
        "twice": sum(1 for n in counted.values() if n > 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate", type=float, default=200.0, help="commands a second, in all")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--kill-at", type=float, default=5.0)
    ap.add_argument("--replicas", type=int, default=1)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    runs = []
    for n in range(args.runs):
        base = trial(args, kill=False)
        killed = trial(args, kill=True)
        runs.append({"run": n + 1, "baseline": base, "failover": killed})
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "machine": machine(),
                "args": vars(args),
                "loadavg": [round(x, 2) for x in load],
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
