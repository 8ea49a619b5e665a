"""Live deltas on Redis pub/sub, each message numbered by one atomic sequence, so a
subscriber that misses one sees a gap and resyncs."""

from __future__ import annotations

from typing import Any

import orjson
import redis

from backend.bus.connection import DEFAULT_KEYS, Keys

_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], seq .. '|' .. ARGV[2])
return seq
"""


class LivePublisher:
    """Publishes deltas on pub/sub, each message numbered by one atomic per-channel sequence."""

    def __init__(self, r: redis.Redis, keys: Keys = DEFAULT_KEYS) -> None:
        self.r = r
        self.keys = keys
        self._script = r.register_script(_PUBLISH_LUA)

    def publish(self, deltas: list[dict[str, Any]]) -> int | None:
        body = orjson.dumps(deltas).decode()
        return int(self._script(keys=[self.keys.live_seq], args=[self.keys.live, body]))

    def skip(self) -> None:
        """Burn one sequence number: a message that could not be sent becomes a visible gap."""
        self.r.incr(self.keys.live_seq)

    def last_seq(self) -> int:
        v = self.r.get(self.keys.live_seq)
        return int(v) if v else 0


def parse_live_message(data: bytes | str) -> tuple[int, list[dict[str, Any]]]:
    """Split ``seq|json`` as published by LivePublisher."""
    raw = data.encode() if isinstance(data, str) else data
    seq, _, body = raw.partition(b"|")
    return int(seq), orjson.loads(body)
