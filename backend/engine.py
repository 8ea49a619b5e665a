"""The case engine: validate → apply to the state machine → persist a batch in one SQL
transaction → publish the deltas with a sequence number.

Many engine processes may run at once: each case row carries a version, every UPDATE checks it,
and a batch that lost a race is rolled back and retried on fresh state. Commands already applied
(a redelivered stream entry) are recognised by id and skipped, so each takes effect once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from backend.casestate import CASE_FIELDS, EVENT_FIELDS, CaseState
from backend.clock import Clock
from backend.commands import Command
from backend.errors import CaseNotFound, CommandInvalid, GridwatchError, VersionConflict
from backend.refindex import RefIndex
from backend.sla import DeadlineClock
from backend.store.models import case_events, cases, processed_commands
from backend.transitions import Ctx, apply_action, apply_clock, new_case, validate_new_case

log = logging.getLogger("gridwatch.engine")
T = TypeVar("T")

_UPDATABLE = tuple(f for f in CASE_FIELDS if f not in ("id", "ref", "reported_at"))
_UPDATE_STMT = (
    update(cases)
    .where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_version"))
    .values({f: bindparam(f) for f in _UPDATABLE})
)
_INSERT_CASES = insert(cases).returning(cases.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(case_events)
_INSERT_PROCESSED = insert(processed_commands)

#: Fields of a case that screens need to update themselves (a "delta").
DELTA_FIELDS = (
    "status",
    "tier",
    "unit_code",
    "colour",
    "township_code",
    "county_code",
    "grid_code",
    "category",
    "channel",
    "severity",
    "overdue_tiers",
    "escalations",
    "mode",
)


class Publisher(Protocol):
    def publish(self, deltas: list[dict[str, Any]]) -> int | None: ...


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
    cases_changed: int = 0
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
    ) -> None:
        self.db = db
        self.ref = ref
        self.deadlines = deadlines
        self.clock = clock
        self.publisher = publisher
        self.max_retries = max_retries
        self._sane_multi_rowcount = bool(db.dialect.supports_sane_multi_rowcount)

    # ------------------------------------------------------------------ public

    def apply(self, commands: Sequence[Command]) -> BatchResult:
        """Apply ``commands`` in order in one transaction (retried on a version conflict)."""
        try:
            batch = self._retrying(lambda conn: self._apply_in(conn, commands))
        except VersionConflict:
            # persistent contention: one command per transaction, so one loser cannot block all
            batch = BatchResult()
            for cmd in commands:
                one = self._retrying(partial(self._apply_one, cmd))
                batch.results += one.results
                batch.events += one.events
                batch.cases += one.cases
        batch.seq = self._publish(batch.cases)
        return batch

    def tick(self, now: datetime | None = None, limit: int = 2000) -> BatchResult:
        """Fire the deadlines now due. Cost follows the number due, not the number open."""
        when = now or self.clock.now()
        total = BatchResult()
        while True:
            batch, n_due = self._retrying(lambda conn: self._tick_in(conn, when, limit))
            total.events += batch.events
            total.cases += batch.cases
            total.seq = self._publish(batch.cases) or total.seq
            if n_due < limit:
                return total

    def _apply_one(self, cmd: Command, conn: Connection) -> BatchResult:
        return self._apply_in(conn, [cmd])

    def _retrying(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction; on a lost race, back off with jitter and rerun."""
        for attempt in range(self.max_retries):
            try:
                with self.db.begin() as conn:
                    return work(conn)
            except VersionConflict:
                log.debug("version conflict, retrying (attempt %d)", attempt + 1)
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise VersionConflict(f"still conflicting after {self.max_retries} attempts")

    # ------------------------------------------------------------------ internals

    def _apply_in(self, conn: Connection, commands: Sequence[Command]) -> BatchResult:
        batch = BatchResult()
        done = self._already_applied(conn, [c.id for c in commands])
        loaded = self._load(conn, [c for c in commands if c.kind == "action" and c.id not in done])
        new_cases: list[CaseState] = []
        touched: dict[int, CaseState] = {}
        originals: dict[int, int] = {}
        events: list[dict[str, Any]] = []
        processed: list[dict[str, Any]] = []
        by_ref = {c.ref: c for c in loaded.values()}
        taken = self._existing_refs(conn, [c.ref or c.id for c in commands if c.kind == "create"])
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
                    current = self._find(cmd, loaded, by_ref)
                    work = current.copy()
                    work.updated_at = now
                    apply_action(work, ctx, cmd.action or "", cmd.params)
                    _replace(current, work)
                    for e in ctx.events:
                        e["case"] = current
                    if current.id is not None:
                        touched[current.id] = current
                        originals.setdefault(current.id, current.version)
                    result = CommandResult(cmd.id, True, current.id)
            except GridwatchError as exc:
                batch.results.append(CommandResult(cmd.id, False, error=exc))
                continue
            events += ctx.events
            processed.append({"command_id": cmd.id, "applied_at": now})
            batch.results.append(result)
        self._persist(conn, new_cases, touched, originals, events, processed)
        for r, cmd in zip(batch.results, commands, strict=True):
            if r.ok and not r.skipped and cmd.kind == "create":
                r.case_id = by_ref[cmd.ref or cmd.id].id
        batch.events = len(events)
        batch.cases = new_cases + list(touched.values())
        return batch

    def _tick_in(self, conn: Connection, now: datetime, limit: int) -> tuple[BatchResult, int]:
        rows = conn.execute(
            select(cases)
            .where(cases.c.next_due_at <= now)
            .order_by(cases.c.next_due_at)
            .limit(limit)
        ).all()
        touched: dict[int, CaseState] = {}
        originals: dict[int, int] = {}
        events: list[dict[str, Any]] = []
        for row in rows:
            case = CaseState.from_row(row)
            assert case.id is not None
            ctx = Ctx(self.ref, self.deadlines, now, "clock")
            try:
                apply_clock(case, ctx)
            except GridwatchError as exc:  # e.g. a routing gap in the reference data
                log.error("clock could not move case %s: %s", case.id, exc)
                case.next_due_at = None
            case.updated_at = now
            touched[case.id] = case
            originals[case.id] = case.version
            events += ctx.events
        self._persist(conn, [], touched, originals, events, [])
        return BatchResult(events=len(events), cases=list(touched.values())), len(rows)

    def _already_applied(self, conn: Connection, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        col = processed_commands.c.command_id
        return set(conn.execute(select(col).where(col.in_(ids))).scalars())

    def _existing_refs(self, conn: Connection, refs: list[str]) -> set[str]:
        if not refs:
            return set()
        return set(conn.execute(select(cases.c.ref).where(cases.c.ref.in_(refs))).scalars())

    def _load(self, conn: Connection, commands: Iterable[Command]) -> dict[int, CaseState]:
        ids = {c.case_id for c in commands if c.case_id is not None}
        refs = {c.ref for c in commands if c.case_id is None and c.ref is not None}
        out: dict[int, CaseState] = {}
        if ids:
            for row in conn.execute(select(cases).where(cases.c.id.in_(ids))):
                out[row.id] = CaseState.from_row(row)
        if refs:
            for row in conn.execute(select(cases).where(cases.c.ref.in_(refs))):
                out[row.id] = CaseState.from_row(row)
        return out

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
        originals: dict[int, int],
        events: list[dict[str, Any]],
        processed: list[dict[str, Any]],
    ) -> None:
        if new_cases:
            rows = [c.to_row() for c in new_cases]
            for r in rows:
                del r["id"]
            ids = conn.execute(_INSERT_CASES, rows).scalars().all()
            for case, new_id in zip(new_cases, ids, strict=True):
                case.id = new_id
        if touched:
            params = []
            for cid, case in touched.items():
                p = {f: getattr(case, f) for f in _UPDATABLE}
                p["b_id"] = cid
                p["b_version"] = originals[cid]
                p["version"] = originals[cid] + 1
                case.version = originals[cid] + 1
                params.append(p)
            self._update_cases(conn, params)
        if events:
            for e in events:
                e["case_id"] = e["case"].id
            conn.execute(_INSERT_EVENTS, [{k: e[k] for k in EVENT_FIELDS} for e in events])
        if processed:
            conn.execute(_INSERT_PROCESSED, processed)

    def _update_cases(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        if self._sane_multi_rowcount or len(params) == 1:
            res = conn.execute(_UPDATE_STMT, params)
            if res.rowcount != len(params):
                raise VersionConflict(f"{len(params) - res.rowcount} case(s) changed meanwhile")
            return
        for p in params:
            if conn.execute(_UPDATE_STMT, p).rowcount != 1:
                raise VersionConflict(f"case {p['b_id']} changed meanwhile")

    def _publish(self, changed: list[CaseState]) -> int | None:
        if not changed or self.publisher is None:
            return None
        try:
            return self.publisher.publish([delta(c) for c in changed])
        except Exception:  # Redis down: SQL has it all, screens resync when it is back
            log.warning("live publish failed; screens will resync", exc_info=True)
            return None


def delta(case: CaseState) -> dict[str, Any]:
    """The compact, idempotent (versioned) form of a changed case that screens apply."""
    d: dict[str, Any] = {f: getattr(case, f) for f in DELTA_FIELDS}
    d["id"] = case.id
    d["v"] = case.version
    d["code"] = case.code
    d["reported_at"] = case.reported_at.isoformat()
    d["due_at"] = case.due_at.isoformat() if case.due_at else None
    d["stage_started_at"] = case.stage_started_at.isoformat() if case.stage_started_at else None
    d["completed_at"] = case.completed_at.isoformat() if case.completed_at else None
    d["updated_at"] = case.updated_at.isoformat() if case.updated_at else None
    return d


def _replace(target: CaseState, source: CaseState) -> None:
    for f in CASE_FIELDS:
        setattr(target, f, getattr(source, f))
