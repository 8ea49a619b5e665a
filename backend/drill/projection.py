"""Keep ``drill_stages`` current from the event log, incrementally.

Each refresh takes the events added since the last one, re-derives the stages of every case
they touch from that case's whole log (``stages_from_events``) and replaces that case's rows.
Re-deriving a case is idempotent, so re-reading an event is harmless.

That is what makes the watermark safe on PostgreSQL, where event ids come from a sequence and a
transaction holding lower ids may commit after a higher id is visible: every refresh reads again
the last ``OVERLAP`` ids below its watermark. A transaction that commits more than that many ids
late would be missed until a full ``rebuild``; the engine's batches are far smaller (README,
"Leader drill-down", freshness). On SQLite there is one writer and ids commit in order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from backend.deadlines.sla import DeadlineClock
from backend.deadlines.stage_due import policy_due_seconds
from backend.domain.events import StageEnd
from backend.domain.stages import bin_of, stages_from_events
from backend.store.models import case_events, cases, drill_stages, drill_state

log = logging.getLogger("gridwatch.drill")

STAGES = "stages"
OVERLAP = 20_000
BATCH_EVENTS = 20_000
#: the PostgreSQL advisory lock that takes turns replacing stage rows ("gwds")
STAGES_LOCK = 0x67776473
_CASE_COLS = (
    cases.c.id,
    cases.c.reported_at,
    cases.c.grid_code,
    cases.c.township_code,
    cases.c.county_code,
    cases.c.category,
    cases.c.channel,
    cases.c.severity,
    cases.c.complexity,
)
_EVENT_COLS = (
    case_events.c.case_id,
    case_events.c.seq,
    case_events.c.at,
    case_events.c.type,
    case_events.c.actor,
    case_events.c.to_unit,
    case_events.c.to_tier,
    case_events.c.reason,
    case_events.c.data,
)


def state_of(conn: Connection, name: str) -> tuple[int, int, datetime | None]:
    """(last event id folded in, events seen just below it, when) of projection ``name``."""
    row = conn.execute(
        select(
            drill_state.c.last_event_id, drill_state.c.window_count, drill_state.c.refreshed_at
        ).where(drill_state.c.name == name)
    ).first()
    return (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)


def set_state(conn: Connection, name: str, last_id: int, window: int, at: datetime) -> None:
    values = {"last_event_id": last_id, "window_count": window, "refreshed_at": at}
    done = conn.execute(update(drill_state).where(drill_state.c.name == name).values(**values))
    if done.rowcount == 0:
        conn.execute(insert(drill_state).values(name=name, **values))


def events_between(conn: Connection, lo: int, hi: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(case_events)
            .where(case_events.c.id > lo, case_events.c.id <= hi)
        ).scalar_one()
    )


def stage_rows(
    case: Any, events: list[Any], tz: ZoneInfo, deadlines: DeadlineClock | None
) -> list[dict[str, Any]]:
    """The ``drill_stages`` rows of one case."""
    day: date = case.reported_at.astimezone(tz).date()
    out = []
    for s in stages_from_events(events):
        ended = s.end_kind != StageEnd.OPEN
        dwell = s.dwell(s.ended_at or s.started_at)
        if s.overdue_at is not None:
            due: float | None = (s.overdue_at - s.started_at).total_seconds()
        elif deadlines is not None:
            due = policy_due_seconds(
                deadlines, case, s.tier, s.unit, s.started_at, s.start_event == "consultation"
            )
        else:
            due = None
        out.append(
            {
                "case_id": case.id,
                "stage_no": s.no,
                "day": day,
                "grid_code": case.grid_code,
                "township_code": case.township_code,
                "county_code": case.county_code,
                "category": case.category,
                "channel": case.channel,
                "tier": s.tier,
                "unit_code": s.unit,
                "start_event": s.start_event,
                "started_at": s.started_at,
                "ended_at": s.ended_at,
                "end_kind": s.end_kind,
                "dwell_seconds": dwell if ended else None,
                "bin": bin_of(dwell) if ended else None,
                "due_seconds": due,
                "next_tier": s.next_tier,
                "overdue_at": s.overdue_at,
                "reminders": s.reminders,
                "warnings": s.warnings,
            }
        )
    return out


def take_turn(conn: Connection) -> None:
    """Every web process behind the proxy refreshes the stages (dashboard/drill_jobs.py). Two
    replacing the same cases at once would collide: the second's delete, under its older
    snapshot, misses the first's new rows and its insert meets them (or it writes what it read
    before the first's newer rows). On PostgreSQL they take turns, each holding the turn to the
    end of its transaction; SQLite has one writer anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": STAGES_LOCK})


def _rederive(
    conn: Connection, case_ids: list[int], tz: ZoneInfo, deadlines: DeadlineClock | None
) -> int:
    """Replace the stages of ``case_ids`` with what their logs say now."""
    take_turn(conn)  # first: what is read is what the other process may just have written
    by_case: dict[int, list[Any]] = defaultdict(list)
    for e in conn.execute(
        select(*_EVENT_COLS)
        .where(case_events.c.case_id.in_(case_ids))
        .order_by(case_events.c.case_id, case_events.c.seq)
    ).mappings():
        by_case[e["case_id"]].append(e)
    rows: list[dict[str, Any]] = []
    for c in conn.execute(select(*_CASE_COLS).where(cases.c.id.in_(case_ids))):
        rows += stage_rows(c, by_case.get(c.id, []), tz, deadlines)
    conn.execute(delete(drill_stages).where(drill_stages.c.case_id.in_(case_ids)))
    if rows:
        conn.execute(insert(drill_stages), rows)
    return len(rows)


def refresh_stages(
    db: Engine,
    tz: ZoneInfo,
    now: datetime,
    deadlines: DeadlineClock | None = None,
    *,
    rebuild: bool = False,
    overlap: int = OVERLAP,
) -> int:
    """Fold the events added since the last refresh into ``drill_stages``; returns the number
    of cases re-derived. ``rebuild`` starts again from the first event."""
    with db.begin() as conn:
        last, window, _ = state_of(conn, STAGES)
        if rebuild:
            conn.execute(delete(drill_stages))
            last = window = 0
        top = int(conn.execute(select(func.max(case_events.c.id))).scalar() or 0)
        start = last
        # ids below the watermark that were not there last time committed late: read again
        if last and events_between(conn, max(0, last - overlap), last) != window:
            start = max(0, last - overlap)
    touched = 0
    while start < top:
        hi = min(top, start + BATCH_EVENTS)
        with db.begin() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    select(case_events.c.case_id)
                    .where(case_events.c.id > start, case_events.c.id <= hi)
                    .distinct()
                )
            ]
            for i in range(0, len(ids), 2000):
                _rederive(conn, ids[i : i + 2000], tz, deadlines)
            touched += len(ids)
        start = hi
    with db.begin() as conn:
        top = max(top, last)
        set_state(conn, STAGES, top, events_between(conn, max(0, top - overlap), top), now)
    return touched
