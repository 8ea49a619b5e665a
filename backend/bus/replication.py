"""A write acknowledged only once a replica has it, when Redis runs with replicas.

Redis replicates asynchronously: a primary killed right after answering an XADD may not have
sent it on, and the replica Sentinel promotes then lacks it. So under Sentinel every write
that gridwatch acknowledges to someone (an XADD id, a 202, a dead letter the engine moves
past) is followed on the same connection by ``WAIT <replicas> <timeout_ms>``, and fails with
``NotReplicated`` (a ConnectionError: a 503 with Retry-After for HTTP, a retry for the loops)
unless enough replicas have it. The sender retries; a retried command has the same id, and
the engine applies each id once (processed_commands), so the retry is harmless.

The policy belongs to the client ``connect`` made (``require_replicas``), so every stream
built on it waits, whichever module writes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import redis

from backend.core.i18n import t


@dataclass(frozen=True, slots=True)
class Acks:
    """How many replicas must have a write before it counts, and how long to wait for them."""

    replicas: int
    timeout_ms: int


class NotReplicated(redis.ConnectionError):
    """Fewer replicas than required confirmed a write in time: not acknowledged, retry."""


_policies: weakref.WeakKeyDictionary[Any, Acks] = weakref.WeakKeyDictionary()


def require_replicas(r: redis.Redis, replicas: int, timeout_ms: int) -> None:
    """From now on, writes made through ``execute_acknowledged`` on ``r`` wait for replicas."""
    if replicas > 0:
        _policies[r] = Acks(replicas, timeout_ms)
    else:
        _policies.pop(r, None)


def acks_of(r: redis.Redis) -> Acks | None:
    return _policies.get(r)


def execute_acknowledged(r: redis.Redis, pipe: Any) -> list[Any]:
    """Run ``pipe`` (made from ``r``) and, when ``r`` requires it, WAIT for its replicas on the
    same connection; raise NotReplicated when too few confirm. Returns the pipe's results."""
    acks = _policies.get(r)
    if acks is None:
        return list(pipe.execute())
    if getattr(pipe, "transaction", False):  # inside MULTI, WAIT answers at once: no proof
        raise ValueError("execute_acknowledged needs a pipeline with transaction=False")
    pipe.wait(acks.replicas, acks.timeout_ms)
    out = list(pipe.execute())
    confirmed = int(out.pop())
    if confirmed < acks.replicas:
        raise NotReplicated(
            t("redis_not_replicated", "en", got=confirmed, wanted=acks.replicas, ms=acks.timeout_ms)
        )
    return out
