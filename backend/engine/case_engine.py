"""The case engine: validate → apply to the state machine → persist a batch in one SQL
transaction → publish the deltas with a sequence number.

Many engine processes may run at once: each case row carries a version, every UPDATE checks it,
and a batch that lost a race is rolled back and retried on fresh state. Commands already applied
(a redelivered stream entry) are recognised by id and skipped, so each takes effect once.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from backend.core.clock import Clock
from backend.core.errors import CaseNotFound, CommandInvalid, GridwatchError, VersionConflict
from backend.deadlines.sla import DeadlineClock
from backend.domain.case import CaseState
from backend.domain.commands import Command
from backend.domain.transitions import (
    Ctx,
    apply_action,
    apply_clock,
    new_case,
    validate_new_case,
)
from backend.domain.vocabulary import FINAL_VALUES
from backend.engine.delta import delta
from backend.refdata.index import RefIndex
from backend.store.fastsql import CaseSQL, is_transient
from backend.store.writeturn import WriteTurn

log = logging.getLogger("gridwatch.engine")
T = TypeVar("T")


#: Called in a batch's transaction before it commits, with the batch's commands.
Checkpoint = Callable[[Connection, Sequence[Command]], None]


class Publisher(Protocol):
    def publish(self, deltas: list[dict[str, Any]]) -> int | None: ...

    def skip(self) -> None:
        """Advance the sequence without a message, so subscribers notice a gap."""
        ...


@dataclass(slots=True)
class CommandResult:
    command_id: str
    ok: bool
    case_id: int | None = None
    error: GridwatchError | None = None
    skipped: bool = False  # already applied earlier


@dataclass(slots=True)
class BatchResult:
    results: list[CommandResult] = field(default_factory=list)
    events: int = 0
    seq: int | None = None
    cases: list[CaseState] = field(default_factory=list)


class CaseEngine:
    """Applies batches of commands and clock ticks. Stateless between batches."""

    def __init__(
        self,
        db: Engine,
        ref: RefIndex,
        deadlines: DeadlineClock,
        clock: Clock,
        publisher: Publisher | None = None,
        max_retries: int = 12,
        cache_size: int = 50_000,
    ) -> None:
        self.db = db
        self.ref = ref
        self.deadlines = deadlines
        self.clock = clock
        self.publisher = publisher
        self.max_retries = max_retries
        self.sql = CaseSQL(db.dialect.name)
        # Committed states of recently changed cases, so a busy case is not re-read for every
        # command. Safe across processes: a stale entry fails the version check, the batch is
        # retried, and the cache is dropped.
        self._cache: OrderedDict[int, tuple[Any, ...]] = OrderedDict()
        self._cache_lock = threading.Lock()  # the web threads and the worker share an engine
        self._cache_size = cache_size
        self._turn = WriteTurn(db)

    # ------------------------------------------------------------------ public

    def apply(
        self, commands: Sequence[Command], checkpoint: Checkpoint | None = None
    ) -> BatchResult:
        """Apply ``commands`` in order in one transaction (retried on a version conflict).

        ``checkpoint(conn, commands)`` runs in each transaction that applies some of them,
        before its commit: the stream reader records its progress there, atomically."""
        try:
            batch = self._retrying(lambda conn: self._apply_in(conn, commands, checkpoint))
            self._remember(batch.cases)
        except VersionConflict:
            # persistent contention: one command per transaction, so one loser cannot block all
            batch = BatchResult()
            for cmd in commands:
                one = self._retrying(partial(self._apply_one, cmd, checkpoint))
                batch.results += one.results
                batch.events += one.events
                batch.cases += one.cases
                self._remember(one.cases)
                batch.seq = self._publish(one.cases) or batch.seq  # committed: publish now
            return batch
        batch.seq = self._publish(batch.cases)
        return batch

    def tick(
        self,
        now: datetime | None = None,
        limit: int = 2000,
        counties: Sequence[str] | None = None,
    ) -> BatchResult:
        """Fire the deadlines now due. Cost follows the number due, not the number open.

        ``counties``: only the cases of these counties, for an engine that keeps the clock of
        a part of the city (a city simulated in shards, each on its own clock)."""
        when = now or self.clock.now()
        total = BatchResult()
        while True:
            batch, n_due = self._retrying(lambda conn: self._tick_in(conn, when, limit, counties))
            self._remember(batch.cases)
            total.events += batch.events
            total.cases += batch.cases
            total.seq = self._publish(batch.cases) or total.seq
            if n_due < limit:
                return total

    def _remember(self, changed: list[CaseState]) -> None:
        cache = self._cache
        with self._cache_lock:
            for c in changed:
                if c.id is None:
                    continue
                if c.status in FINAL_VALUES:  # no command changes it any more: not kept
                    cache.pop(c.id, None)
                    continue
                cache[c.id] = c.snapshot()
                cache.move_to_end(c.id)
            while len(cache) > self._cache_size:
                cache.popitem(last=False)

    def _apply_one(
        self, cmd: Command, checkpoint: Checkpoint | None, conn: Connection
    ) -> BatchResult:
        return self._apply_in(conn, [cmd], checkpoint)

    def _retrying(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction; on a lost race, back off with jitter and rerun."""
        for attempt in range(self.max_retries):
            try:
                try:
                    with self.db.begin() as conn:
                        return work(conn)
                finally:
                    self._turn.give_back()  # taken by _persist; given back after the commit
            except Exception as exc:
                if not isinstance(exc, VersionConflict) and not is_transient(exc):
                    raise
                log.debug("lost a race (%s), retrying (attempt %d)", exc, attempt + 1)
                with self._cache_lock:
                    self._cache.clear()
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise VersionConflict(f"still conflicting after {self.max_retries} attempts")

    # ------------------------------------------------------------------ internals

    def _apply_in(
        self, conn: Connection, commands: Sequence[Command], checkpoint: Checkpoint | None = None
    ) -> BatchResult:
        sql = self.sql
        batch = BatchResult()
        done = sql.existing(conn, "processed_commands", "command_id", [c.id for c in commands])
        actions = [c for c in commands if c.kind == "action" and c.id not in done]
        loaded: dict[int, CaseState] = {}
        ids = {c.case_id for c in actions if c.case_id is not None}
        refs = {c.ref for c in actions if c.case_id is None and c.ref is not None}
        with self._cache_lock:
            hits = {i: self._cache[i] for i in ids if i in self._cache}
        from_cache = set(hits)
        for cid, snap in hits.items():
            loaded[cid] = CaseState(*snap)
        missing = [i for i in ids if i not in loaded]
        for case in sql.load(conn, "id", missing) + sql.load(conn, "ref", list(refs)):
            assert case.id is not None
            loaded[case.id] = case
        by_ref = {c.ref: c for c in loaded.values()}
        taken = sql.existing(
            conn, "cases", "ref", [c.ref or c.id for c in commands if c.kind == "create"]
        )
        new_cases: list[CaseState] = []
        touched: dict[int, CaseState] = {}
        originals: dict[int, tuple[Any, ...]] = {}
        events: list[dict[str, Any]] = []
        processed: list[tuple[str, datetime]] = []
        seen_ids: set[str] = set()
        for cmd in commands:
            if cmd.id in done or cmd.id in seen_ids:
                batch.results.append(CommandResult(cmd.id, True, skipped=True))
                continue
            seen_ids.add(cmd.id)
            now = cmd.at or self.clock.now()
            ctx = Ctx(self.ref, self.deadlines, now, cmd.actor)
            try:
                if cmd.kind == "create":
                    fields_in = validate_new_case(cmd.case, self.ref)
                    ref = cmd.ref or cmd.id
                    if ref in by_ref or ref in taken:
                        raise CommandInvalid({"ref": f"a case with ref {ref!r} exists already"})
                    case = new_case(fields_in, ctx, ref)
                    new_cases.append(case)
                    by_ref[ref] = case
                    result = CommandResult(cmd.id, True)
                else:
                    case = self._find(cmd, loaded, by_ref)
                    snapshot = case.snapshot()
                    try:
                        case.updated_at = now
                        apply_action(case, ctx, cmd.action or "", cmd.params)
                    except GridwatchError:
                        case.restore(snapshot)  # a refused action leaves no trace
                        if case.id in from_cache:
                            # the cached state may be stale (another process changed the case)
                            # and a refusal writes nothing, so no version check would notice:
                            # decide again on the state in SQL
                            raise VersionConflict(f"case {case.id}: re-check a refusal") from None
                        raise
                    if case.id is not None:
                        touched[case.id] = case
                        originals.setdefault(case.id, snapshot)
                    result = CommandResult(cmd.id, True, case.id)
            except VersionConflict:
                raise
            except GridwatchError as exc:
                batch.results.append(CommandResult(cmd.id, False, error=exc))
                continue
            events += ctx.events
            processed.append((cmd.id, now))
            batch.results.append(result)
        self._persist(conn, new_cases, touched, originals, events, processed)
        if checkpoint is not None:
            self._turn.take()
            checkpoint(conn, commands)
        for r, cmd in zip(batch.results, commands, strict=True):
            if r.ok and not r.skipped and cmd.kind == "create":
                r.case_id = by_ref[cmd.ref or cmd.id].id
        batch.events = len(events)
        batch.cases = new_cases + list(touched.values())
        return batch

    def _tick_in(
        self, conn: Connection, now: datetime, limit: int, counties: Sequence[str] | None
    ) -> tuple[BatchResult, int]:
        due = self.sql.due(conn, now, limit, counties)
        touched: dict[int, CaseState] = {}
        originals: dict[int, tuple[Any, ...]] = {}
        events: list[dict[str, Any]] = []
        for case in due:
            assert case.id is not None
            originals[case.id] = case.snapshot()
            ctx = Ctx(self.ref, self.deadlines, now, "clock")
            try:
                apply_clock(case, ctx)
            except (GridwatchError, LookupError) as exc:  # e.g. a routing gap in reference data
                # undo what was half done and park this case's clock, so one bad case cannot
                # stop every other deadline from firing; the log says which and why
                log.error("clock could not move case %s: %s", case.id, exc)
                case.restore(originals[case.id])
                case.next_due_at = None
                ctx.events.clear()
            case.updated_at = now
            touched[case.id] = case
            events += ctx.events
        self._persist(conn, [], touched, originals, events, [])
        return BatchResult(events=len(events), cases=list(touched.values())), len(due)

    @staticmethod
    def _find(
        cmd: Command, loaded: dict[int, CaseState], by_ref: dict[str, CaseState]
    ) -> CaseState:
        case = loaded.get(cmd.case_id) if cmd.case_id is not None else by_ref.get(cmd.ref or "")
        if case is None:
            raise CaseNotFound(cmd.case_id if cmd.case_id is not None else cmd.ref)
        return case

    def _persist(
        self,
        conn: Connection,
        new_cases: list[CaseState],
        touched: dict[int, CaseState],
        originals: dict[int, tuple[Any, ...]],
        events: list[dict[str, Any]],
        processed: list[tuple[str, datetime]],
    ) -> None:
        if not (new_cases or touched or events or processed):
            return  # nothing to write: no need to wait for the writer's turn
        sql = self.sql
        self._turn.take()  # from here to the commit this engine is SQLite's one writer
        # the processed-command rows go first: on SQLite that write takes the write lock,
        # which makes allocating the new case ids safe across processes
        sql.insert_processed(conn, processed)
        sql.insert_cases(conn, new_cases)
        sql.update_cases(conn, list(touched.values()), originals)
        for e in events:
            e["case_id"] = e["case"].id
        sql.insert_events(conn, events)

    def _publish(self, changed: list[CaseState]) -> int | None:
        if not changed or self.publisher is None:
            return None
        try:
            return self.publisher.publish([delta(c) for c in changed])
        except Exception:  # SQL has it all; make sure subscribers see a gap and resync
            log.warning("live publish failed; screens will resync", exc_info=True)
            # if Redis is away altogether, subscribers reconnect and resync anyway
            with contextlib.suppress(Exception):
                self.publisher.skip()
            return None
