"""Redis must keep what it acknowledged: a command on the stream (an XADD id given back, a
202 answered) survives a crash of the Redis server only if Redis writes it to its append-only
file before it answers. So every gridwatch process that produces or consumes commands checks,
when it starts, that its Redis runs with ``appendonly yes`` and ``appendfsync always``, and
refuses to start otherwise, saying what to change.

Why not ``everysec``: it writes the file before replying only while the disk keeps up. When
the last second's sync is still under way, Redis holds the writes back for up to 2 s and
answers anyway (its ``aof_delayed_fsync``); a kill then loses what it answered.
``bench.redis_kill`` lost 1,674 of 18,851 acknowledged commands under ``everysec`` in one
kill, on this machine under heavy disk load (most likely that; eleven later kills, which count
the delayed writes, saw none and lost nothing: bench/RESULTS.md). ``always`` writes and
syncs before every reply (one sync per event-loop turn, shared by every client in it), which
costs throughput a city's intake never needs.

Under Sentinel the check reads the primary and every replica it reports (``INFO
replication``): a replica is the next primary, so it must keep its file too. A replica that
does not answer (restarting, say) is logged and passed over: refusing to start then would turn
one replica's restart into an outage, and the writes acknowledged meanwhile wait for a replica
anyway (backend/bus/replication.py).

A managed Redis that hides CONFIG (renamed or disabled) cannot be checked: set
``GRIDWATCH_REDIS_PERSISTENCE=trust`` only when its provider guarantees the same.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from backend.core.i18n import t

#: the fsync policies that keep every acknowledged write when the Redis process dies
DURABLE_FSYNC = ("always",)
#: the settings gridwatch gives a Redis server it starts itself (the embedded one, tests)
DURABLE_CONFIG = {"appendonly": "yes", "appendfsync": "always"}


log = logging.getLogger("gridwatch.bus")


class RedisNotDurable(RuntimeError):
    """The Redis server could lose commands it acknowledged: gridwatch will not start."""


def persistence_problem(r: redis.Redis) -> str | None:
    """What makes ``r`` lose acknowledged writes when killed (None: nothing)."""
    try:
        found: Any = r.config_get("append*")
    except redis.ResponseError as exc:  # CONFIG renamed or disabled
        return t("redis_config_hidden", "en", error=str(exc))
    config = {_s(k): _s(v) for k, v in dict(found).items()}
    if config.get("appendonly") != "yes":
        return t("redis_no_aof", "en", value=config.get("appendonly", "?"))
    if config.get("appendfsync") not in DURABLE_FSYNC:
        return t("redis_weak_fsync", "en", value=config.get("appendfsync", "?"))
    return None


def require_persistence(r: redis.Redis, mode: str = "check") -> None:
    """Refuse (RedisNotDurable) a Redis that could lose acknowledged commands, unless the
    operator said to ``trust`` it."""
    if mode == "trust":
        return
    problem = persistence_problem(r) or replica_problem(r)
    if problem is not None:
        raise RedisNotDurable(t("redis_not_durable", "en", problem=problem))


def replica_addresses(r: redis.Redis) -> list[tuple[str, int]]:
    """The replicas the primary ``r`` has now (host, port), from ``INFO replication``."""
    info: Any = r.info("replication")
    out = []
    for key, value in dict(info).items():
        if str(key).startswith("slave") and isinstance(value, dict):
            out.append((str(value["ip"]), int(value["port"])))
    return out


def replica_problem(r: redis.Redis) -> str | None:
    """What makes one of ``r``'s replicas lose acknowledged writes once promoted (None:
    nothing, or none answering)."""
    kwargs = r.connection_pool.connection_kwargs
    for host, port in replica_addresses(r):
        replica = redis.Redis(
            host=host,
            port=port,
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
        )
        try:
            problem = persistence_problem(replica)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not check the replica %s:%s for persistence: %s", host, port, exc)
            continue
        finally:
            replica.close()
        if problem is not None:
            return t("redis_replica_not_durable", "en", replica=f"{host}:{port}", problem=problem)
    return None


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
