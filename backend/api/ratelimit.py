"""Per-client rate limits on intake, counted in Redis so every web process shares them.

A fixed window per client: INCR a counter that expires with the window. Redis keeps the
time, so the web processes' own clocks (and the demo's fast simulated clock) do not matter.
Over the limit is HTTP 429 with Retry-After. With Redis away, intake stays open (and says
so in the log): refusing every citizen would be worse than a burst.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from fastapi import HTTPException, Request

from backend.bus.connection import Keys

log = logging.getLogger("gridwatch.intake")


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"20/60"``: 20 requests per 60 seconds."""
        try:
            count, seconds = (int(p) for p in text.split("/"))
        except ValueError:
            raise ValueError(f"a rate limit looks like 20/60, not {text!r}") from None
        if count < 1 or seconds < 1:
            raise ValueError(f"a rate limit needs positive numbers, not {text!r}")
        return cls(count, seconds)


_HIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
local ttl = redis.call('ttl', KEYS[1])
if ttl < 0 then redis.call('expire', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


class RateLimiter:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.redis = r
        self.keys = keys

    def hit(self, bucket: str, client: str, limit: Limit) -> int | None:
        """Count one request; None when allowed, else the seconds until the window ends."""
        key = f"{self.keys.prefix}:ratelimit:{bucket}:{client}"
        try:
            n, ttl = self.redis.eval(_HIT, 1, key, limit.seconds)  # type: ignore[misc]
        except redis.RedisError as exc:
            log.warning("rate limit not checked (%s)", exc)
            return None
        return None if int(n) <= limit.count else max(1, int(ttl))

    def check(self, bucket: str, client: str, limit: Limit) -> None:
        wait = self.hit(bucket, client, limit)
        if wait is not None:
            raise HTTPException(
                429,
                f"too many requests; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )


def limiter(request: Request) -> RateLimiter:
    state = request.app.state
    lim = getattr(state, "rate_limiter", None)
    if lim is None:
        system = state.system
        lim = state.rate_limiter = RateLimiter(system.redis, system.keys)
    return lim  # type: ignore[no-any-return]


def limit_public(request: Request, bucket: str, client: str) -> None:
    """Anonymous intake (QR page, ratings), per client address."""
    limiter(request).check(
        bucket, client, Limit.parse(request.app.state.system.settings.rate_public)
    )


def limit_key(request: Request, bucket: str, key_name: str) -> None:
    """Intake by an integration, per API key."""
    limiter(request).check(
        bucket, key_name, Limit.parse(request.app.state.system.settings.rate_key)
    )
