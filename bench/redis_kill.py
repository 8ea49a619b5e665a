"""Redis killed with SIGKILL under load: how many acknowledged commands are lost (issue 14).

    python -m bench.redis_kill [--trials 5] [--producers 4] [--engine] [--backend sqlite|postgres]

A ``redis-server`` of the benchmark's own on a loopback port, its files in a temporary folder.
Producers put create commands on the partitioned command stream as fast as they can and keep
the refs Redis acknowledged (an XADD id came back). After a random 1-2 s the server is killed
with SIGKILL and started again on the same folder. Three configurations, in the same run:

- ``aof-always``: gridwatch's requirement (``appendonly yes``, ``appendfsync always``);
- ``aof-everysec``: the weaker setting, refused since one kill lost commands with it (it
  answers before writing while a sync is late: ``delayed_fsyncs`` counts those);
- ``baseline``: no append-only file and no snapshot (the CI's Redis before issue 14).

``lost`` counts acknowledged refs that the restarted server no longer has. With ``--engine``,
a ``gridwatch engine`` process consumes the stream into SQL all along and keeps going through
the kill (it reconnects by itself); then ``lost`` counts acknowledged refs with no case in SQL
once the stream is drained, and ``twice`` refs with more than one case (the baseline's engine
runs with ``GRIDWATCH_REDIS_PERSISTENCE=trust``, since gridwatch refuses that Redis).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import redis
from sqlalchemy import func, select

from backend.bus.connection import Keys
from backend.bus.stream import CommandStream
from backend.domain.commands import create_command
from backend.store.models import cases
from bench.common import fresh_system, machine

CONFIGS: dict[str, dict[str, str]] = {
    "aof-always": {"appendonly": "yes", "appendfsync": "always"},
    "aof-everysec": {"appendonly": "yes", "appendfsync": "everysec"},
    "baseline": {"appendonly": "no"},
}
PARTITIONS = 16


class Server:
    """A redis-server on a loopback port, its files in ``folder``."""

    def __init__(self, folder: Path, config: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.folder, self.config = folder, config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> float:
        """Start; seconds until it answers (after loading its file)."""
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--save", ""] + [x for k, v in self.config.items() for x in (f"--{k}", v)]
        t0 = time.monotonic()
        binary = shutil.which("redis-server") or "redis-server"
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
        while time.monotonic() - t0 < 60:
            try:
                redis.Redis.from_url(self.url).ping()
                return time.monotonic() - t0
            except redis.ConnectionError:  # refused, or still loading its file
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)
        self.proc = None


def produce(
    stream: CommandStream,
    tag: str,
    acked: list[str],
    stop: threading.Event,
    body: dict[str, Any],
) -> None:
    """Create commands until Redis goes away; the refs Redis acknowledged go to ``acked``."""
    i = 0
    while not stop.is_set():
        ref = f"{tag}-{i}"
        payload = create_command(body, ref=ref, command_id=ref).to_json()
        try:
            stream.add(payload)
        except (redis.RedisError, OSError):
            return
        acked.append(ref)
        i += 1


def body_for(system: Any | None) -> dict[str, Any]:
    """A new case the engine can apply: the city's first grid, a simple category."""
    if system is None:  # nothing applies it: any body
        return {"category": "x", "description": "bench", "channel": "hotline", "grid": "g"}
    grid = sorted(system.ref.grids)[0]
    cat = next(c for c, info in sorted(system.ref.categories.items()) if not info.major)
    return {"category": cat, "description": "bench", "channel": "hotline", "grid": grid}


def trial(config: str, producers: int, engine_system: Any | None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="gwkill-"))
    server = Server(folder, CONFIGS[config])
    server.start()
    prefix = f"gwkill{random.randrange(10**6)}"
    keys = Keys(prefix)
    stream = CommandStream(redis.Redis.from_url(server.url), keys, PARTITIONS)
    stream.partitions  # noqa: B018  (fixed before the load)
    engine = None
    if engine_system is not None:
        engine = start_engine(engine_system, server.url, prefix, config)
        wait_for_engine(redis.Redis.from_url(server.url), keys)
    acked: list[str] = []
    stop = threading.Event()
    body = body_for(engine_system)
    threads = [
        threading.Thread(
            target=produce, args=(stream, f"{config}{w}", acked, stop, body), daemon=True
        )
        for w in range(producers)
    ]
    for th in threads:
        th.start()
    time.sleep(random.uniform(1.0, 2.0))
    delayed = delayed_fsyncs(server.url)
    server.kill()
    stop.set()
    for th in threads:
        th.join(timeout=10)
    recovery = server.start()
    out: dict[str, Any] = {
        "config": config,
        "acked": len(acked),
        "restart_s": round(recovery, 2),
        "delayed_fsyncs": delayed,
    }
    if engine is None:
        found = on_the_stream(redis.Redis.from_url(server.url), keys)
        out["lost"] = len(set(acked) - found)
    else:
        out.update(drain_and_count(engine_system, stream, set(acked)))
        engine.kill()
        engine.wait(timeout=10)
    server.kill()
    shutil.rmtree(folder, ignore_errors=True)
    return out


def delayed_fsyncs(url: str) -> int:
    """How often, until now, ``everysec`` wrote the file late because a sync was still under
    way (a busy disk): Redis then answers before the write, so a kill can lose those answers."""
    info: Any = redis.Redis.from_url(url).info("persistence")
    return int(info.get("aof_delayed_fsync", 0))


def on_the_stream(r: redis.Redis, keys: Keys) -> set[str]:
    found: set[str] = set()
    for p in range(PARTITIONS):
        entries: Any = r.xrange(keys.partition(p))
        for _id, fields in entries:
            found.add(orjson.loads(fields[b"c"])["ref"])
    return found


def start_engine(system: Any, url: str, prefix: str, config: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": system.settings.effective_database_url,
        "REDIS_URL": url,
        "GRIDWATCH_REDIS_PREFIX": prefix,
        "GRIDWATCH_PARTITIONS": str(PARTITIONS),
        "GRIDWATCH_VAR": str(system.settings.var_dir),
    }
    if config == "baseline":
        env["GRIDWATCH_REDIS_PERSISTENCE"] = "trust"  # gridwatch refuses it otherwise
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "engine", "--consumer", f"bench-{config}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_engine(r: redis.Redis, keys: Keys) -> None:
    """Until the engine holds its partitions (its heartbeat is in Redis), so it consumes
    from the first command on."""
    deadline = time.monotonic() + 60
    while not r.exists(keys.engines) or not r.exists(keys.lease(0)):
        if time.monotonic() > deadline:
            raise RuntimeError("the engine did not start")
        time.sleep(0.1)


def drain_and_count(system: Any, stream: CommandStream, acked: set[str]) -> dict[str, Any]:
    """Wait until the engine has emptied the stream, then count acknowledged refs in SQL."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        try:
            if stream.backlog() == 0:
                break
        except redis.RedisError:
            pass
        time.sleep(0.5)
    drained = time.monotonic() - t0
    with system.db.connect() as conn:
        rows = conn.execute(
            select(cases.c.ref, func.count()).where(cases.c.ref.in_(acked)).group_by(cases.c.ref)
        ).all()
    counted = {ref: n for ref, n in rows}
    return {
        "lost": len(acked - set(counted)),
        "twice": sum(1 for n in counted.values() if n > 1),
        "drained_s": round(drained, 1),
        "dead_letters": len(stream.dead_letters(10_000)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--engine", action="store_true", help="an engine consumes into SQL")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="which of " + ", ".join(CONFIGS))
    args = ap.parse_args()
    runs: list[dict[str, Any]] = []
    configs = args.configs.split(",")
    for _ in range(args.trials):
        for config in configs:
            system = fresh_system(args.backend) if args.engine else None
            runs.append(trial(config, args.producers, system))
            print(json.dumps(runs[-1]), file=sys.stderr)
    summary = {
        c: {
            "trials": sum(1 for r in runs if r["config"] == c),
            "acked": sum(r["acked"] for r in runs if r["config"] == c),
            "lost": sum(r["lost"] for r in runs if r["config"] == c),
        }
        for c in configs
    }
    print(json.dumps({"machine": machine(), "engine": args.engine, "summary": summary}))


if __name__ == "__main__":
    main()
