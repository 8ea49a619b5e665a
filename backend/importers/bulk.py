"""The import's fast path: the same state machine, the same rows, written in bulk.

Through the engine, every 500 records cost a look-up of each command id, each ref, a batch of
CaseState loads and a live publish: right for live work, where other engines race for the
same cases, but 1.5–2.6k rows/s for a file of history that nobody else is writing. Here each
new record goes through the very transitions the engine would apply (``new_case``, then
``close_imported`` or ``cancel`` at the source's times, with the same command ids recorded as
processed), and a whole batch of cases, events and processed commands is written in one
transaction: COPY on PostgreSQL, executemany on SQLite.

A record whose case exists already (a re-run, or a newer export that closes what was open)
goes through the engine itself, so what it does to an existing case is the engine's decision.
A batch is one transaction: an interrupted import leaves whole records or none, and running it
again takes up where it stopped (what is there is "already imported").

Several processes may import parts of one file at once (importers/parallel.py): each writes
with its own BulkWriter, leaves existing cases to the parent's engine (``defer_existing``),
and when another worker inserted one of its refs first (the same record twice in a file),
the unique index refuses the batch and it is simply written again, that ref now existing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.core.errors import CommandInvalid, GridwatchError, VersionConflict
from backend.domain.case import CaseState
from backend.domain.commands import Command
from backend.domain.transitions import Ctx, apply_action, new_case, validate_new_case
from backend.store.fastsql import CaseSQL
from backend.store.writeturn import WriteTurn
from backend.system import System


class PlannerStatistics:
    """PostgreSQL plans by its statistics, which autovacuum refreshes only now and then: a
    table filled by a long import still looks nearly empty to the planner, and each batch's
    look-up of refs becomes a scan of the whole table (an import of 100,000 rows slowed to a
    crawl on either road). So the tables are analysed whenever the import has doubled what
    they held when last analysed (ANALYZE reads a sample: a fraction of a second), and
    only in the columns that the import's and the engine's look-ups plan by (a third of
    the whole tables' cost; autovacuum analyses the rest as the tables grow)."""

    #: table → the columns looked up by (BulkWriter, the engine's loads)
    LOOKED_UP = {
        "cases": ("id", "ref"),
        "case_events": ("case_id",),
        "processed_commands": ("command_id",),
    }

    def __init__(self, system: System, scale: int = 1) -> None:
        """``scale``: how many of the import's writers this one stands for. Several worker
        processes share an import: one of them (``scale`` = their number) analyses for all,
        counting its own cases that many times over, and the others (0) never do, so the
        tables are not analysed once per worker."""
        self.system = system
        self.analyses = system.db.dialect.name == "postgresql" and scale > 0
        self.scale = scale
        self.written = 0
        self.analyzed_at = 0

    def grew(self, cases: int) -> None:
        self.written += cases * self.scale
        if not self.analyses or self.written < max(2 * self.analyzed_at, 10_000):
            return
        with self.system.db.begin() as conn:
            for table, columns in self.LOOKED_UP.items():
                conn.exec_driver_sql(f"ANALYZE {table} ({', '.join(columns)})")
        self.analyzed_at = self.written


@dataclass(slots=True)
class Outcome:
    """What became of one record's commands."""

    error: GridwatchError | None = None
    already: bool = False  # the case was there before (the file importer's contract)
    changed: bool = False  # ... and this record changed it (a newer state: closed since)
    deferred: bool = False  # the case exists: left to the engine of the parent process


class BulkWriter:
    """Writes batches of (record, commands) pairs, the first command always the create."""

    #: times a batch is written again after another writer inserted one of its refs first
    RETRIES = 3

    def __init__(
        self,
        system: System,
        *,
        defer_existing: bool = False,
        publish: bool = True,
        analyse_for: int = 1,
        settle_at_end: bool = False,
    ) -> None:
        """``defer_existing``: records whose case exists get ``deferred`` outcomes instead of
        going through this process's engine; ``publish``: tell live screens of new cases;
        ``analyse_for``: the writers whose growth this one analyses for (PlannerStatistics);
        ``settle_at_end``: the caller calls ``settle`` once it has written everything, so a
        batch's commit need not wait for the disk (PostgreSQL; see ``settle``)."""
        self.system = system
        self.settle_at_end = settle_at_end and system.db.dialect.name == "postgresql"
        self.defer_existing = defer_existing
        self.publish = publish
        self.ref = system.ref
        self.deadlines = system.deadlines
        self.sql = CaseSQL(system.db.dialect.name)
        self.turn = WriteTurn(system.db)
        self.statistics = PlannerStatistics(system, analyse_for)
        #: look the batch's refs up before writing; off while batches find none there (a
        #: first import), so a new ref costs no look-up: the unique index still refuses an
        #: existing one, and that batch is written again with the look-up (``_write``)
        self.look_up = True

    def write(self, groups: Sequence[list[Command]]) -> list[Outcome]:
        """Apply each group of commands; one Outcome per group, in order."""
        for attempt in range(self.RETRIES + 1):
            try:
                return self._write(groups)
            except VersionConflict:  # a ref inserted meanwhile by another writer
                if attempt == self.RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _write(self, groups: Sequence[list[Command]]) -> list[Outcome]:
        """Which records exist (a read, unless the batches before found none), the new ones
        replayed and their rows converted, all outside the transaction; then ids given and
        the rows written in one transaction, the only part that holds SQLite's single writer
        (another worker process replays and converts meanwhile). A ref that was there
        unlooked-up, or that another writer inserted since the read, makes the database
        refuse the batch: VersionConflict, and ``write`` does it again, looking up."""
        outcomes = [Outcome() for _ in groups]
        engine_path: list[int] = []
        refs = [g[0].ref or g[0].id for g in groups]
        taken: set[str] = set()
        if self.look_up:
            with self.system.db.connect() as conn:
                taken = self.sql.existing(conn, "cases", "ref", refs)
            self.look_up = bool(taken)
        new_cases: list[CaseState] = []
        events: list[dict[str, Any]] = []
        processed: list[tuple[str, datetime]] = []
        seen: set[str] = set()
        for i, group in enumerate(groups):
            ref = refs[i]
            if ref in taken:
                engine_path.append(i)
                continue
            if ref in seen:  # the same record twice in one batch: the engine refuses
                outcomes[i].error = CommandInvalid(
                    {"ref": f"a case with ref {ref!r} exists already"}
                )
                continue
            seen.add(ref)
            case = self._replay(group, events, processed, outcomes[i])
            if case is not None:
                new_cases.append(case)
        sql = self.sql
        case_rows = sql.case_rows(new_cases)
        event_rows = [sql.event_values(e) for e in events]
        processed_rows = sql.processed_rows(processed)
        try:
            with self.system.db.begin() as conn:
                self.turn.take()  # SQLite's one writer, from the first write to the commit
                if self.settle_at_end:  # made durable by settle, all at once
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                sql.insert_processed_rows(conn, processed_rows)
                sql.insert_case_rows(conn, new_cases, case_rows)
                sql.insert_event_rows(conn, event_rows, [e["case"] for e in events])
        except VersionConflict:
            self.look_up = True  # a ref was there: look them up when the batch is redone
            raise
        finally:
            self.turn.give_back()
        self.statistics.grew(len(new_cases))
        if new_cases and self.publish:
            # no delta per historical case: burn a sequence number, so live screens see a
            # gap at their next message and fetch a fresh snapshot
            # (Redis away: SQL has it all, and the screens resync when they reconnect)
            with contextlib.suppress(Exception):
                self.system.publisher.skip()
        if engine_path and self.defer_existing:
            for i in engine_path:
                outcomes[i].deferred = True
        elif engine_path:
            self.through_engine(
                [groups[i] for i in engine_path], [outcomes[i] for i in engine_path]
            )
        return outcomes

    def settle(self) -> None:
        """Make every batch written so far durable. With ``settle_at_end`` on PostgreSQL a
        batch's commit returns before its WAL reaches the disk (the WAL writer flushes it
        within a fraction of a second): a file of history gains by not waiting a flush per
        batch, and a crash of the server meanwhile loses whole batches only, which running
        the import again writes. This commits one transaction that waits for its flush, and
        so for the flush of all the WAL before it, every batch of this writer included. (A
        transaction that writes no WAL of its own never waits for a flush, so it creates a
        temporary table, which it drops as it commits.)"""
        if not self.settle_at_end:
            return
        with self.system.db.begin() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit = on")
            conn.exec_driver_sql("CREATE TEMPORARY TABLE gridwatch_settle () ON COMMIT DROP")

    def _replay(
        self,
        group: list[Command],
        events: list[dict[str, Any]],
        processed: list[tuple[str, datetime]],
        outcome: Outcome,
    ) -> CaseState | None:
        """The engine's _apply_in for one new case and its actions, without SQL."""
        create = group[0]
        now = create.at
        assert now is not None  # an imported command always carries the source's time
        ctx = Ctx(self.ref, self.deadlines, now, create.actor)
        try:
            fields_in = validate_new_case(create.case, self.ref)
            case = new_case(fields_in, ctx, create.ref or create.id)
        except GridwatchError as exc:
            outcome.error = exc
            return None
        events += ctx.events
        processed.append((create.id, now))
        for cmd in group[1:]:
            at = cmd.at
            assert at is not None
            actx = Ctx(self.ref, self.deadlines, at, cmd.actor)
            snapshot = case.snapshot()
            try:
                case.updated_at = at
                apply_action(case, actx, cmd.action or "", cmd.params)
            except GridwatchError as exc:
                case.restore(snapshot)
                outcome.error = outcome.error or exc
                continue
            events += actx.events
            processed.append((cmd.id, at))
        return case

    def through_engine(self, groups: list[list[Command]], outcomes: list[Outcome]) -> None:
        """Records whose case exists: the engine decides (already there, or a newer state)."""
        cmds = [c for g in groups for c in g]
        results = self.system.engine.apply(cmds).results
        i = 0
        for group, outcome in zip(groups, outcomes, strict=True):
            mine = results[i : i + len(group)]
            i += len(group)
            outcome.error = next((r.error for r in mine if not r.ok), None)
            outcome.already = outcome.error is None and mine[0].skipped
            outcome.changed = outcome.already and any(not r.skipped for r in mine[1:])
