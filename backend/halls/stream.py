"""The hall events' own Redis stream, read by the hall processor's consumer group.

Entries are acknowledged once their batch has committed; a processor that dies before that
leaves them pending, and the next one reads them again first. Repeats are harmless: the
processor skips an event id it has already stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from backend.bus.connection import Keys
from backend.bus.replication import execute_acknowledged

GROUP = "halls"
Entry = tuple[str, bytes]


class HallStream:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.key = keys.hall_events

    def add_many(self, payloads: Iterable[bytes]) -> int:
        pipe = self.r.pipeline(transaction=False)
        n = 0
        for p in payloads:
            pipe.xadd(self.key, {"e": p})
            n += 1
        execute_acknowledged(self.r, pipe)  # a 202 answers it: under Sentinel, on a replica too
        return n

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(
        self, consumer: str, count: int = 1000, block_ms: int | None = 100, pending: bool = False
    ) -> list[Entry]:
        """New entries (or, with ``pending``, those read before and never acknowledged)."""
        resp: Any = self.r.xreadgroup(
            GROUP, consumer, {self.key: "0" if pending else ">"}, count=count, block=block_ms
        )
        out: list[Entry] = []
        for _, items in resp or []:
            for entry_id, fields in items:
                if fields:
                    out.append((_s(entry_id), fields.get(b"e", b"")))
        return out

    def ack(self, ids: list[str]) -> None:
        if ids:
            pipe = self.r.pipeline(transaction=False)
            pipe.xack(self.key, GROUP, *ids)
            pipe.xdel(self.key, *ids)
            pipe.execute()

    def backlog(self) -> int:
        return int(self.r.xlen(self.key))


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
