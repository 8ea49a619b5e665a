"""The engine process loop: hold partitions, read them in order, apply, commit, tick the clock.

Per-case order (README, "Engines and the order of commands"): the stream is partitioned by
case and each partition is read by one engine at a time under a lease; the engine reads on
from the position committed in SQL and moves it in the transaction of each batch, fenced by the
lease's epoch. So with any number of engines, a case's commands take effect in the order they
entered the stream, and an engine killed mid-batch hands its partitions over within one lease
time, its successor starting exactly after the last committed command.

A command that is wrong in itself (bad JSON, bad fields, a forbidden transition, an unknown
case) goes to the dead-letter stream with the reason, and the loop carries on.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from sqlalchemy import Connection, select

from backend.bus.leases import PartitionLeases
from backend.bus.stream import CommandStream, Entry
from backend.core.errors import CommandInvalid
from backend.domain.commands import Command, parse_command
from backend.engine.case_engine import BatchResult, CaseEngine, Checkpoint
from backend.store.models import stream_partitions
from backend.store.offsets import LeaseLost, advance, later, take_over

log = logging.getLogger("gridwatch.worker")

Read = dict[int, list[Entry]]  # partition → its entries, in stream order


@dataclass(slots=True)
class WorkerStats:
    commands: int = 0
    events: int = 0
    dead: int = 0
    failures: int = 0
    handovers: int = 0  # partitions taken over from another engine (or at start)


@dataclass(slots=True)
class _Pending:
    partition: int
    entry_id: str
    payload: bytes
    command: Command


class EngineWorker:
    """One engine: a share of the partitions, read in order."""

    def __init__(
        self,
        engine: CaseEngine,
        stream: CommandStream,
        consumer: str | None = None,
        batch_size: int = 500,
        tick_every: float = 1.0,
        lease_ms: int = 3000,
        max_deliveries: int = 5,
    ) -> None:
        self.engine = engine
        self.stream = stream
        self.consumer = consumer or f"{socket.gethostname()}-{threading.get_ident()}"
        self.batch_size = batch_size
        self.tick_every = tick_every
        self.lease_ms = lease_ms
        self.max_deliveries = max_deliveries
        self.stats = WorkerStats()
        self.leases: PartitionLeases | None = None
        self.positions: dict[int, str] = {}  # partition → last entry applied (= SQL's)
        self._attempts: dict[str, int] = {}  # entry id → failed deliveries, for poison
        self._stale = False  # a batch failed: the positions in memory may be ahead of SQL
        self._stop = threading.Event()

    # ------------------------------------------------------------------ the loop

    def stop(self) -> None:
        self._stop.set()

    def start(self) -> None:
        """Settle the partition count, adopt an old single stream, take a first share."""
        self.stream.settle_partitions()
        moved = self.stream.adopt_unpartitioned()
        if moved:
            log.info("moved %d commands from the unpartitioned stream onto partitions", moved)
        if self.leases is None:
            self.leases = PartitionLeases(
                self.stream.r,
                self.stream.keys,
                self.stream.partitions,
                self.consumer,
                self.lease_ms,
            )
        self.upkeep()

    def run(self) -> None:
        """Loop until stopped. A failure (Redis or the database away) is logged and retried
        with backoff; what was not committed is read again from the committed position."""
        backoff = 0.5
        last_tick = 0.0
        last_upkeep = 0.0
        started = False
        try:
            while not self._stop.is_set():
                try:
                    if not started:
                        self.start()
                        started = True
                        last_upkeep = time.monotonic()
                    if time.monotonic() - last_upkeep >= self.lease_ms / 3000:
                        self.upkeep()
                        last_upkeep = time.monotonic()
                    self.step(block_ms=200)
                    if time.monotonic() - last_tick >= self.tick_every:
                        self.tick()
                        last_tick = time.monotonic()
                    backoff = 0.5
                except redis.ConnectionError as exc:
                    # Redis away, or a failover under way (a demoted primary's READONLY
                    # comes as one too): one line, and a short backoff, since Sentinel
                    # promotes a replica within seconds
                    log.warning("Redis away (%s); retrying in %.1fs", exc, backoff)
                    self.stats.failures += 1
                    started = False
                    self._stale = True
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 2.0)
                except Exception:
                    log.exception("engine loop failed; retrying in %.1fs", backoff)
                    self.stats.failures += 1
                    started = False
                    self._stale = True  # read on from SQL's positions when back
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
        finally:
            self.close()

    def close(self) -> None:
        """Hand every partition over at once (a clean stop; a killed engine's leases lapse)."""
        if self.leases is not None:
            try:
                self.leases.release_all()
            except Exception:
                log.warning("could not give the partitions back; they lapse by themselves")

    def tick(self) -> None:
        self.engine.tick()

    # ------------------------------------------------------------------ partitions

    def upkeep(self) -> None:
        """Renew leases, give back above the fair share, take over free partitions."""
        assert self.leases is not None
        changes = self.leases.upkeep()
        for p in changes.lost:
            log.warning("partition %d was taken by another engine", p)
        for p, epoch in changes.taken.items():
            self._take(p, epoch)
        for p in list(self.positions):
            if p not in self.leases.held:
                del self.positions[p]

    def _take(self, p: int, epoch: int) -> None:
        """Start reading a partition just leased: after its last committed entry."""
        assert self.leases is not None
        try:
            with self.engine.db.begin() as conn:
                got, position = take_over(conn, p, epoch)
            if got != epoch:  # Redis lost its epochs: move past SQL's and record that
                epoch = self.leases.raise_epoch(p, got)
                with self.engine.db.begin() as conn:
                    got, position = take_over(conn, p, epoch)
                if got != epoch:
                    raise LeaseLost(p)
        except Exception as exc:
            log.warning("could not take partition %d (%s); giving it back", p, exc)
            self.leases.release(p)
            return
        self.positions[p] = position
        self.stats.handovers += 1
        self.stream.trim_through(p, position)

    def held(self) -> list[int]:
        return sorted(self.positions)

    # ------------------------------------------------------------------ one batch

    def step(self, block_ms: int | None = 200) -> int:
        """Read what follows each held partition's position and apply it; the entries read."""
        if self._stale:
            self._reload_positions()
        per_partition = max(10, self.batch_size // max(1, len(self.positions)))
        got = self.stream.read(dict(self.positions), per_partition, block_ms)
        self.process(got)
        return sum(len(v) for v in got.values())

    def process(self, read: Read) -> None:
        """Apply one read; dead-letter what is wrong in itself; commit the positions with the
        effects; delete the entries after the commit."""
        read = {p: entries for p, entries in read.items() if entries and p in self.positions}
        if not read:
            return
        assert self.leases is not None
        epochs = {p: self.leases.held[p] for p in read}
        last = {p: entries[-1][0] for p, entries in read.items()}
        good: list[_Pending] = []
        for p, entries in read.items():
            for entry_id, payload in entries:
                try:
                    good.append(_Pending(p, entry_id, payload, parse_command(payload)))
                except CommandInvalid as exc:
                    self._dead(entry_id, payload, str(exc))
        where = {id(g.command): g for g in good}
        recorded: dict[int, str] = {}

        def checkpoint(conn: Connection, commands: Sequence[Command]) -> None:
            if len(commands) == len(good):  # the whole read: past its trailing bad entries too
                moved = dict(last)
            else:
                moved = {}
                for c in commands:
                    g = where[id(c)]
                    moved[g.partition] = later(moved.get(g.partition, "0-0"), g.entry_id)
            advance(conn, moved, epochs)
            recorded.update(moved)

        try:
            if good:
                self._apply(good, checkpoint)
            behind = {p: pos for p, pos in last.items() if recorded.get(p) != pos}
            if behind:  # nothing applied past these (bad entries only): move the position
                with self.engine.db.begin() as conn:
                    advance(conn, behind, epochs)
        except LeaseLost as exc:
            log.warning("%s; giving it up", exc)
            self.leases.drop(exc.partition)
            self.positions.pop(exc.partition, None)
            self._reload_positions()
            return
        for p, pos in last.items():
            self.positions[p] = pos
        self.stream.delete({p: [e for e, _ in entries] for p, entries in read.items()})

    def _reload_positions(self) -> None:
        """After a batch that did not commit whole: read on from what SQL holds, for the
        partitions still ours (an epoch moved on means another engine has it now), and
        delete what the stream still holds up to there (applied, but its delete was lost,
        e.g. to a Redis restart: left, it would count as backlog for ever)."""
        assert self.leases is not None
        sp = stream_partitions
        with self.engine.db.connect() as conn:
            rows = conn.execute(
                select(sp.c.partition, sp.c.epoch, sp.c.position).where(
                    sp.c.partition.in_(list(self.positions))
                )
            ).all()
        for p, epoch, position in rows:
            if self.leases.held.get(p) == epoch:
                self.positions[p] = position
                self.stream.trim_through(p, position)
            else:
                self.leases.drop(p)
                self.positions.pop(p, None)
        self._stale = False

    def _apply(self, good: list[_Pending], checkpoint: Checkpoint) -> None:
        cmds = [g.command for g in good]
        try:
            result = self.engine.apply(cmds, checkpoint)
        except LeaseLost:
            raise
        except Exception:
            log.exception("batch of %d failed; applying its commands one by one", len(good))
            self._isolate(good, checkpoint)
            return
        self._count(good, result)

    def _count(self, good: list[_Pending], result: BatchResult) -> None:
        for g, r in zip(good, result.results, strict=True):
            if not r.ok:
                self._dead(g.entry_id, g.payload, f"{type(r.error).__name__}: {r.error}")
        self.stats.commands += len(good)
        self.stats.events += result.events

    def _isolate(self, good: list[_Pending], checkpoint: Checkpoint) -> None:
        """A batch failed unexpectedly: find the command(s) at fault.

        Each command is applied alone, in order. Those that fail while others succeed are set
        aside. If none succeeds the cause is not the commands (the database is away): the
        error is raised and the batch is read again, except commands that have failed
        ``max_deliveries`` times, which are set aside so one poisoned command cannot stall
        its partition.
        """
        failed: list[tuple[_Pending, Exception]] = []
        applied = 0
        for g in good:
            try:
                res = self.engine.apply([g.command], checkpoint)
            except LeaseLost:
                raise
            except Exception as exc:
                failed.append((g, exc))
                continue
            applied += 1
            self._count([g], res)
        if failed and not applied:
            for g, _ in failed:
                self._attempts[g.entry_id] = self._attempts.get(g.entry_id, 0) + 1
            poisoned = [f for f in failed if self._attempts[f[0].entry_id] >= self.max_deliveries]
            if len(poisoned) < len(failed):
                self._stale = True
                raise failed[0][1]
            failed = poisoned
        for g, error in failed:
            self._attempts.pop(g.entry_id, None)
            self._dead(g.entry_id, g.payload, f"{type(error).__name__}: {error}")
        if len(self._attempts) > 10_000:
            self._attempts.clear()

    def _dead(self, entry_id: str, payload: bytes, error: str) -> None:
        log.warning("dead letter %s: %s", entry_id, error)
        self.stream.dead_letter(entry_id, payload, error)
        self.stats.dead += 1
