"""The engines' command stream, split into partitions by case.

A command goes on partition ``crc32(key) % n``, where the key names its case: the ``ref`` when
the command gives one, else the case id (a create always has a ref). So every command for one
case lands on one partition, in the order it was sent. Each partition is read by one engine at
a time (backend/bus/leases.py), from the position that engine last committed in SQL
(backend/store/offsets.py), so a case's commands take effect in the order they entered the
stream, with any number of engines. Entries are deleted once their batch has committed.

A command that cannot be applied goes to the dead-letter stream with the reason.

Every write that is acknowledged to someone goes through ``execute_acknowledged``: under
Sentinel it counts only once a replica has it (backend/bus/replication.py).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import redis

from backend.bus.connection import DEFAULT_KEYS, Keys
from backend.bus.replication import execute_acknowledged

DEFAULT_PARTITIONS = 16
START = "0-0"  # before the first entry of any stream

Entry = tuple[str, bytes]  # stream entry id, the command's JSON


def partition_key(payload: bytes) -> str:
    """The name of the case a command's JSON is about: its ref, else its case id.

    A payload that is not a command object still gets a key (its bytes), so it travels to some
    partition and is dead-lettered there with the reason."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode(errors="replace")
    if not isinstance(body, dict):
        return str(body)
    for field in ("ref", "case_id", "id"):
        value = body.get(field)
        if value is not None:
            return str(value)
    return ""


def partition_of(key: str, partitions: int) -> int:
    """A stable hash (the same in every process, unlike ``hash``) into ``partitions``."""
    return zlib.crc32(key.encode()) % partitions


def entry_after(entry_id: str) -> str:
    """The smallest stream id after ``entry_id``: ``XTRIM MINID`` keeps it and what follows."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class PartitionCountMismatch(RuntimeError):
    """The stream has commands under another partition count: changing it now breaks order."""


class CommandStream:
    """Partitioned command stream: XADD by case, XREAD from committed positions, XDEL after."""

    def __init__(
        self, r: redis.Redis, keys: Keys = DEFAULT_KEYS, partitions: int = DEFAULT_PARTITIONS
    ) -> None:
        self.r = r
        self.keys = keys
        self._wanted = partitions
        self._count: int | None = None

    # ------------------------------------------------------------------ partitions

    @property
    def partitions(self) -> int:
        """How many partitions the stream has: fixed in Redis by the first process to ask, so
        producers and engines configured differently still agree."""
        if self._count is None:
            key = self.keys.partition_count
            self.r.set(key, self._wanted, nx=True)
            raw: Any = self.r.get(key)
            self._count = int(raw) if raw is not None else self._wanted
        return self._count

    def settle_partitions(self) -> int:
        """For an engine starting: take the configured count if the stream is empty, else
        keep the stream's and refuse a different one, since moving commands between
        partitions would lose their order."""
        current = self.partitions
        if current == self._wanted:
            return current
        if self.backlog() == 0:
            self.r.set(self.keys.partition_count, self._wanted)
            self._count = self._wanted
            return self._wanted
        raise PartitionCountMismatch(
            f"the command stream has {current} partitions with commands waiting; "
            f"GRIDWATCH_PARTITIONS={self._wanted} must wait until they are applied"
        )

    def partition_for(self, payload: bytes) -> int:
        return partition_of(partition_key(payload), self.partitions)

    def stream_key(self, p: int) -> str:
        return self.keys.partition(p)

    # ------------------------------------------------------------------ producing

    def add(self, payload: bytes) -> str:
        """Put one command on its case's partition; returns the entry id."""
        pipe = self.r.pipeline(transaction=False)
        pipe.xadd(self.stream_key(self.partition_for(payload)), {"c": payload})
        return _s(execute_acknowledged(self.r, pipe)[0])

    def add_many(self, payloads: Iterable[bytes], chunk: int = 1000) -> int:
        """Put commands on the stream in the order given (per case, the order that counts)."""
        n = 0
        pipe = self.r.pipeline(transaction=False)
        for p in payloads:
            pipe.xadd(self.stream_key(self.partition_for(p)), {"c": p})
            n += 1
            if n % chunk == 0:
                execute_acknowledged(self.r, pipe)
        execute_acknowledged(self.r, pipe)
        return n

    def adopt_unpartitioned(self) -> int:
        """Move commands left on the single stream of earlier versions onto their partitions,
        oldest first, so an upgrade loses none and keeps each case's order. Not a transaction
        (a replica's WAIT cannot be inside one): a crash midway copies some commands twice,
        and the engine applies each command id once."""
        moved = 0
        while True:
            items: Any = self.r.xrange(self.keys.commands, count=1000)
            if not items:
                return moved
            pipe = self.r.pipeline(transaction=False)
            for _entry_id, fields in items:
                payload = fields.get(b"c", b"")
                pipe.xadd(self.stream_key(self.partition_for(payload)), {"c": payload})
            execute_acknowledged(self.r, pipe)
            self.r.xdel(self.keys.commands, *[entry_id for entry_id, _ in items])
            moved += len(items)

    # ------------------------------------------------------------------ consuming

    def read(
        self, positions: dict[int, str], count: int = 500, block_ms: int | None = 1000
    ) -> dict[int, list[Entry]]:
        """Entries after each partition's position, at most ``count`` a partition; waits up
        to ``block_ms`` for the first (``None``: no wait)."""
        if not positions:
            if block_ms:
                time.sleep(block_ms / 1000)
            return {}
        streams: dict[Any, Any] = {self.stream_key(p): pos for p, pos in positions.items()}
        resp: Any = self.r.xread(streams, count=count, block=block_ms)
        by_key = {self.stream_key(p): p for p in positions}
        out: dict[int, list[Entry]] = {}
        for key, items in resp or []:
            entries = _entries(items)
            if entries:
                out[by_key[_s(key)]] = entries
        return out

    def delete(self, done: dict[int, Sequence[str]]) -> None:
        """Delete entries whose batch has committed."""
        pipe = self.r.pipeline(transaction=False)
        for p, ids in done.items():
            if ids:
                pipe.xdel(self.stream_key(p), *ids)
        pipe.execute()

    def trim_through(self, p: int, position: str) -> None:
        """Delete what a partition holds up to ``position`` (left by an engine that died
        between its commit and its delete)."""
        if position != START:
            self.r.xtrim(self.stream_key(p), minid=entry_after(position), approximate=False)

    # ------------------------------------------------------------------ dead letters

    def dead_letter(self, entry_id: str, payload: bytes, error: str) -> None:
        """Set a bad command aside, with why, where it can be inspected and replayed (the
        engine moves past it after this: it must be kept like the command it was)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.xadd(
            self.keys.dead,
            {"c": payload, "error": error, "entry": entry_id, "at": str(time.time())},
        )
        execute_acknowledged(self.r, pipe)

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
            self.add(fields[b"c"])
            self.r.xdel(self.keys.dead, eid)
            n += 1
        return n

    # ------------------------------------------------------------------ gauges

    def backlog(self) -> int:
        """Commands on the stream not yet applied (or applied a moment ago, not yet deleted)."""
        pipe = self.r.pipeline(transaction=False)
        for p in range(self.partitions):
            pipe.xlen(self.stream_key(p))
        pipe.xlen(self.keys.commands)
        return sum(int(n) for n in pipe.execute())

    def wait_drained(self, timeout: float, poll: float = 0.2) -> float | None:
        """Seconds until the engines have emptied the stream, or None if they did not within
        ``timeout`` (Redis away meanwhile counts as not yet): for tests, benchmarks and
        scripts that load commands and then read SQL."""
        t0 = time.monotonic()
        while True:
            try:
                if self.backlog() == 0:
                    return time.monotonic() - t0
            except redis.RedisError:
                pass
            if time.monotonic() - t0 >= timeout:
                return None
            time.sleep(poll)


def _entries(items: Any) -> list[Entry]:
    out = []
    for entry_id, fields in items:
        if fields is None:  # deleted while being read
            continue
        out.append((_s(entry_id), fields.get(b"c", b"")))
    return out


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
