"""The engine process loop: read the command stream, apply, acknowledge, tick the clock.

A command is acknowledged only after its batch has committed. A command that cannot be applied
(bad JSON, bad fields, a forbidden transition, an unknown case) goes to the dead-letter stream
with the reason, and the loop carries on.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

from backend.bus.stream import CommandStream
from backend.core.errors import CommandInvalid
from backend.domain.commands import Command, parse_command
from backend.engine.case_engine import CaseEngine

log = logging.getLogger("gridwatch.worker")


@dataclass(slots=True)
class WorkerStats:
    commands: int = 0
    events: int = 0
    dead: int = 0
    failures: int = 0


class EngineWorker:
    """One consumer in the ``engine`` group."""

    def __init__(
        self,
        engine: CaseEngine,
        stream: CommandStream,
        consumer: str | None = None,
        batch_size: int = 500,
        tick_every: float = 1.0,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
    ) -> None:
        self.engine = engine
        self.stream = stream
        self.consumer = consumer or f"{socket.gethostname()}-{threading.get_ident()}"
        self.batch_size = batch_size
        self.tick_every = tick_every
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.stats = WorkerStats()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Loop until stopped. A failure (Redis or the database away) is logged and retried
        with backoff; unacknowledged commands stay pending and are claimed again later."""
        backoff = 0.5
        last_tick = 0.0
        last_claim = 0.0
        group_ready = False
        while not self._stop.is_set():
            try:
                if not group_ready:
                    self.stream.ensure_group()
                    group_ready = True
                now = time.monotonic()
                if now - last_claim > self.claim_idle_ms / 1000:
                    self.process(
                        self.stream.claim_stale(self.consumer, self.claim_idle_ms, self.batch_size)
                    )
                    last_claim = now
                entries = self.stream.read(self.consumer, self.batch_size, block_ms=200)
                self.process(entries)
                if time.monotonic() - last_tick >= self.tick_every:
                    self.tick()
                    last_tick = time.monotonic()
                backoff = 0.5
            except Exception:
                log.exception("engine loop failed; retrying in %.1fs", backoff)
                self.stats.failures += 1
                group_ready = False
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def tick(self) -> None:
        self.engine.tick()

    def process(self, entries: list[tuple[str, bytes]]) -> None:
        """Apply one read of entries; dead-letter what fails; ack after commit."""
        if not entries:
            return
        good: list[tuple[str, bytes, Command]] = []
        for entry_id, payload in entries:
            try:
                good.append((entry_id, payload, parse_command(payload)))
            except CommandInvalid as exc:
                self._dead(entry_id, payload, str(exc))
        if good:
            try:
                result = self.engine.apply([c for _, _, c in good])
            except Exception:
                log.exception("batch of %d failed; applying its commands one by one", len(good))
                self._isolate(good)
            else:
                for (entry_id, payload, _cmd), r in zip(good, result.results, strict=True):
                    if not r.ok:
                        self._dead(entry_id, payload, f"{type(r.error).__name__}: {r.error}")
                self.stats.commands += len(good)
                self.stats.events += result.events
        self.stream.ack([e for e, _ in entries])

    def _isolate(self, good: list[tuple[str, bytes, Command]]) -> None:
        """A batch failed unexpectedly: find the command(s) at fault.

        Each command is applied alone. Those that fail while others succeed are set aside. If
        none succeeds the cause is not the commands (the database is away): the error is raised
        and the batch stays pending, except commands already delivered ``max_deliveries``
        times, which are set aside so that one poisoned command cannot stall the engine.
        """
        failed: list[tuple[str, bytes, Exception]] = []
        applied = 0
        for entry_id, payload, cmd in good:
            try:
                res = self.engine.apply([cmd])
            except Exception as exc:
                failed.append((entry_id, payload, exc))
                continue
            applied += 1
            self.stats.commands += 1
            self.stats.events += res.events
            r = res.results[0]
            if not r.ok:
                self._dead(entry_id, payload, f"{type(r.error).__name__}: {r.error}")
        if failed and not applied:
            counts = self.stream.delivery_counts([e for e, _, _ in failed])
            poisoned = [f for f in failed if counts.get(f[0], 0) >= self.max_deliveries]
            if len(poisoned) < len(failed):
                raise failed[0][2]
            failed = poisoned
        for entry_id, payload, error in failed:
            self._dead(entry_id, payload, f"{type(error).__name__}: {error}")

    def _dead(self, entry_id: str, payload: bytes, error: str) -> None:
        log.warning("dead letter %s: %s", entry_id, error)
        self.stream.dead_letter(entry_id, payload, error)
        self.stats.dead += 1
