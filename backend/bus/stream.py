"""The engines' command stream: XADD in, XREADGROUP out (consumer group ``engine``), XACK
after the SQL commit, and a dead-letter stream for commands that cannot be applied."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import redis

from backend.bus.connection import DEFAULT_KEYS, Keys

GROUP = "engine"


class CommandStream:
    """The engines' work queue: XADD in, XREADGROUP out, XACK after the SQL commit."""

    def __init__(self, r: redis.Redis, keys: Keys = DEFAULT_KEYS) -> None:
        self.r = r
        self.keys = keys

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.keys.commands, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def add(self, payload: bytes) -> str:
        return _s(self.r.xadd(self.keys.commands, {"c": payload}))

    def add_many(self, payloads: Iterable[bytes], chunk: int = 1000) -> int:
        n = 0
        pipe = self.r.pipeline(transaction=False)
        for p in payloads:
            pipe.xadd(self.keys.commands, {"c": p})
            n += 1
            if n % chunk == 0:
                pipe.execute()
        pipe.execute()
        return n

    def read(
        self, consumer: str, count: int = 500, block_ms: int = 1000
    ) -> list[tuple[str, bytes]]:
        resp: Any = self.r.xreadgroup(
            GROUP, consumer, {self.keys.commands: ">"}, count=count, block=block_ms
        )
        return _entries(resp[0][1]) if resp else []

    def claim_stale(
        self, consumer: str, min_idle_ms: int = 30_000, count: int = 500
    ) -> list[tuple[str, bytes]]:
        """Take over entries a dead engine read but never acknowledged."""
        resp: Any = self.r.xautoclaim(
            self.keys.commands, GROUP, consumer, min_idle_ms, "0-0", count=count
        )
        return _entries(resp[1])

    def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            pipe = self.r.pipeline(transaction=False)
            pipe.xack(self.keys.commands, GROUP, *entry_ids)
            pipe.xdel(self.keys.commands, *entry_ids)
            pipe.execute()

    def dead_letter(self, entry_id: str, payload: bytes, error: str) -> None:
        """Set a bad command aside, with why, where it can be inspected and replayed."""
        self.r.xadd(
            self.keys.dead,
            {"c": payload, "error": error, "entry": entry_id, "at": str(time.time())},
        )

    def dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        out = []
        entries: Any = self.r.xrange(self.keys.dead, count=count)
        for entry_id, fields in entries:
            row = {k.decode(): v.decode(errors="replace") for k, v in fields.items()}
            row["id"] = _s(entry_id)
            out.append(row)
        return out

    def replay_dead(self, ids: list[str] | None = None) -> int:
        """Put dead letters back on the command stream (all, or those named)."""
        n = 0
        dead: Any = self.r.xrange(self.keys.dead)
        for entry_id, fields in dead:
            eid = _s(entry_id)
            if ids is not None and eid not in ids:
                continue
            self.r.xadd(self.keys.commands, {"c": fields[b"c"]})
            self.r.xdel(self.keys.dead, eid)
            n += 1
        return n

    def delivery_counts(self, entry_ids: list[str]) -> dict[str, int]:
        """How many times each pending entry has been delivered to a consumer."""
        if not entry_ids:
            return {}
        ids = sorted(entry_ids, key=lambda e: tuple(int(x) for x in e.split("-")))
        rows: Any = self.r.xpending_range(
            self.keys.commands, GROUP, min=ids[0], max=ids[-1], count=len(ids) * 4 + 10
        )
        wanted = set(entry_ids)
        out = {}
        for row in rows:
            mid = _s(row["message_id"])
            if mid in wanted:
                out[mid] = int(row["times_delivered"])
        return out

    def pending(self) -> int:
        try:
            info = self.r.xpending(self.keys.commands, GROUP)
        except redis.ResponseError:
            return 0
        return int(info["pending"])

    def backlog(self) -> int:
        return int(self.r.xlen(self.keys.commands))


def _entries(items: Any) -> list[tuple[str, bytes]]:
    out = []
    for entry_id, fields in items:
        if fields is None:  # deleted while pending
            continue
        out.append((_s(entry_id), fields.get(b"c", b"")))
    return out


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
