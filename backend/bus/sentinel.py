"""Redis behind Sentinel: ``REDIS_URL=redis+sentinel://host1:26379,host2:26380/service/db``.

Sentinel watches a primary and its replicas and promotes a replica when the primary is gone.
A client asks the sentinels where the primary is (redis-py's ``Sentinel.master_for``) before
each new connection, so after a failover the next connection goes to the new primary; a
connection still open to a primary demoted to replica turns its ``READONLY`` answer into a
ConnectionError, which every gridwatch loop already retries (README, "Redis behind
Sentinel").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """Where the sentinels are, which service they watch, and the database number."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def is_sentinel_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(f"{SCHEME}://")


def parse_sentinel_url(url: str) -> SentinelUrl:
    """``redis+sentinel://[user:password@]h1:p1,h2:p2/service[/db]``; the password (if any)
    is the data servers' and the sentinels' both."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ValueError(f"not a {SCHEME}:// URL: {url!r}")
    auth, _, hosts = parts.netloc.rpartition("@")
    username = password = None
    if auth:
        user, _, pw = auth.partition(":")
        username, password = unquote(user) or None, unquote(pw) or None
    sentinels = tuple(_host_port(h) for h in hosts.split(",") if h)
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path or len(path) > 2:
        raise ValueError(
            f"{SCHEME}:// needs hosts and a service name: {SCHEME}://h1:p1,h2:p2/svc/0"
        )
    db = int(path[1]) if len(path) == 2 else 0
    return SentinelUrl(sentinels, unquote(path[0]), db, username, password)


def _host_port(item: str) -> tuple[str, int]:
    host, sep, port = item.rpartition(":")
    if not sep:
        return item, DEFAULT_SENTINEL_PORT
    return host.strip("[]"), int(port)


def sentinel_client(url: SentinelUrl) -> redis.Redis:
    """A client for the service's primary, wherever the sentinels say it is now."""
    auth = {"username": url.username, "password": url.password}
    # short timeouts on the sentinels only (asking where the primary is); the data
    # connections wait like a redis:// one does (a WAIT, a blocking XREAD)
    sentinel = Sentinel(
        list(url.sentinels),
        sentinel_kwargs={**auth, "socket_timeout": 1.0, "socket_connect_timeout": 1.0},
    )
    return sentinel.master_for(
        url.service,
        db=url.db,
        socket_connect_timeout=2.0,
        socket_keepalive=True,
        health_check_interval=10,
        username=url.username,
        password=url.password,
    )
