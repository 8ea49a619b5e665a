"""Which engine reads which partition: leases in Redis, shared out fairly, handed over fast.

Each engine holds a lease per partition it reads: a key naming the engine that expires unless
renewed. Renewal happens every loop; an engine killed with SIGKILL stops renewing and its
partitions are free within one lease time (3 s by default). Taking a lease increments the
partition's epoch, the fencing token that SQL checks on every commit (backend/store/offsets.py),
so an engine that was merely paused past its lease cannot commit behind its successor.

Engines announce themselves with a heartbeat; each aims at an equal share of the partitions,
gives back the ones above its share between batches and takes free ones below it.
"""

from __future__ import annotations

import math
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

import redis

from backend.bus.connection import Keys

# KEYS: lease and epoch of each candidate, in pairs. ARGV: token, ttl ms, how many to take.
# Returns the pairs (candidate index, epoch) of the leases taken, in one round trip.
_ACQUIRE = """
local out = {}
local want = tonumber(ARGV[3])
for i = 1, #KEYS, 2 do
  if want <= 0 then break end
  if redis.call('set', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = (i - 1) / 2
    out[#out + 1] = redis.call('incr', KEYS[i + 1])
    want = want - 1
  end
end
return out
"""

# KEYS: leases. ARGV: token, ttl ms. 1 per lease still ours (and renewed), else 0.
_RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""

# KEYS: lease. ARGV: token.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

# KEYS: engines. ARGV: token, ttl ms. The number of engines alive, on the server's clock.
_HEARTBEAT = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
return redis.call('zcard', KEYS[1])
"""

# KEYS: epoch. ARGV: at least. Raise a counter that Redis lost (a restart) above SQL's.
_RAISE = """
local cur = tonumber(redis.call('get', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], ARGV[1])
  return tonumber(ARGV[1])
end
return cur
"""


@dataclass(slots=True)
class LeaseChanges:
    """What one round of upkeep changed: partitions newly held (with their epochs), lost."""

    taken: dict[int, int] = field(default_factory=dict)
    lost: list[int] = field(default_factory=list)


class PartitionLeases:
    """One engine's leases on the command stream's partitions."""

    def __init__(
        self, r: redis.Redis, keys: Keys, partitions: int, name: str, lease_ms: int = 3000
    ) -> None:
        self.r = r
        self.keys = keys
        self.partitions = partitions
        self.token = f"{name}:{uuid.uuid4().hex[:8]}"
        self.lease_ms = lease_ms
        self.held: dict[int, int] = {}  # partition → epoch
        self._acquire: Any = r.register_script(_ACQUIRE)
        self._renew: Any = r.register_script(_RENEW)
        self._release: Any = r.register_script(_RELEASE)
        self._heartbeat: Any = r.register_script(_HEARTBEAT)
        self._raise: Any = r.register_script(_RAISE)

    def fair_share(self, engines: int) -> int:
        return math.ceil(self.partitions / max(engines, 1))

    def upkeep(self) -> LeaseChanges:
        """Renew what is held, announce this engine, give back above the fair share, take
        free partitions below it. Called between batches, never during one."""
        changes = LeaseChanges()
        held = sorted(self.held)
        if held:
            flags = self._renew(
                keys=[self.keys.lease(p) for p in held], args=[self.token, self.lease_ms]
            )
            for p, ok in zip(held, flags, strict=True):
                if not int(ok):
                    del self.held[p]
                    changes.lost.append(p)
        engines = int(self._heartbeat(keys=[self.keys.engines], args=[self.token, self.lease_ms]))
        share = self.fair_share(engines)
        for p in sorted(self.held, reverse=True)[: max(0, len(self.held) - share)]:
            self.release(p)
        if len(self.held) < share:
            start = zlib.crc32(self.token.encode()) % self.partitions  # spread the first looks
            order = [(start + i) % self.partitions for i in range(self.partitions)]
            candidates = [p for p in order if p not in self.held]
            keys = [k for p in candidates for k in (self.keys.lease(p), self.keys.epoch(p))]
            got = self._acquire(keys=keys, args=[self.token, self.lease_ms, share - len(self.held)])
            for i in range(0, len(got), 2):
                p = candidates[int(got[i])]
                self.held[p] = changes.taken[p] = int(got[i + 1])
        return changes

    def raise_epoch(self, p: int, at_least: int) -> int:
        """SQL has seen a higher epoch than Redis holds (Redis lost its keys): move past it."""
        epoch = int(self._raise(keys=[self.keys.epoch(p)], args=[at_least]))
        self.held[p] = epoch
        return epoch

    def release(self, p: int) -> None:
        self.held.pop(p, None)
        self._release(keys=[self.keys.lease(p)], args=[self.token])

    def release_all(self) -> None:
        """On a clean stop: hand everything over at once, and leave the engines' roll."""
        for p in list(self.held):
            self.release(p)
        self.r.zrem(self.keys.engines, self.token)

    def drop(self, p: int) -> None:
        """Forget a partition another engine has taken (found at commit by its epoch)."""
        self.held.pop(p, None)
