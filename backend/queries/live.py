"""What a live subscriber starts from: the cases it needs as deltas, with the sequence number
they are current to, and the wall's latest happenings from the event log.

The sequence number is read *before* the snapshot's query: a change committed in between is
then either in the snapshot or arrives after it; versions make both harmless. A subscriber that
sees a gap in the sequence asks for a new snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, or_, select

from backend.domain.case import CaseState, case_code
from backend.domain.events import TICKER_TYPES, EventType, Ticker
from backend.engine.delta import delta
from backend.queries import rules
from backend.queries.reports import local_midnight
from backend.queries.scope import Scope
from backend.store.models import case_events, cases

INTAKE_HOURS = 24
TICKER_LENGTH = 30


@dataclass(slots=True)
class Snapshot:
    seq: int
    cases: list[dict[str, Any]]


def take_snapshot(conn: Connection, last_seq: Callable[[], int], scope: Scope) -> Snapshot:
    """The open cases in ``scope`` as deltas, with the sequence number they are current to."""
    seq = last_seq()  # first: see the module docstring
    rows = conn.execute(select(cases).where(rules.is_open(), scope.clause(cases))).all()
    return Snapshot(seq, [delta(CaseState.from_row(r)) for r in rows])


@dataclass(frozen=True, slots=True)
class TickerItem:
    """One line of the live ticker: something just happened to a case."""

    seq: int
    kind: Ticker
    at: datetime
    case_id: int
    code: str
    category: str
    unit: str | None
    tier: str | None
    #: the case's severity: urgent and major intake flashes on the wall
    severity: str = "general"


@dataclass(slots=True)
class WallSnapshot:
    seq: int
    now: datetime
    deltas: list[dict[str, Any]]
    #: the latest happenings from the event log, newest first, for a wall that starts empty
    recent: list[TickerItem] = field(default_factory=list)


def wall_snapshot(
    conn: Connection, last_seq: Callable[[], int], scope: Scope, now: datetime, tz: ZoneInfo
) -> WallSnapshot:
    """Every case the wall needs, as deltas, with the sequence number they are current to.

    The sequence is read first, as in ``take_snapshot``: a change committed in
    between is in the snapshot or arrives after it, and versions make both harmless.
    """
    seq = last_seq()
    since = min(local_midnight(now, tz), now - timedelta(hours=INTAKE_HOURS))
    rows = conn.execute(
        select(cases).where(
            or_(
                rules.is_open(),
                cases.c.reported_at >= since,
                cases.c.completed_at >= local_midnight(now, tz),
            ),
            scope.clause(cases),
        )
    ).all()
    return WallSnapshot(
        seq, now, [delta(CaseState.from_row(r)) for r in rows], recent(conn, scope, tz)
    )


def recent(conn: Connection, scope: Scope, tz: ZoneInfo) -> list[TickerItem]:
    """The latest ticker-worthy events of the log (newest first), read backwards by id."""
    rows = conn.execute(
        select(
            case_events.c.id,
            case_events.c.type,
            case_events.c.at,
            case_events.c.case_id,
            case_events.c.to_unit,
            case_events.c.to_tier,
            case_events.c.from_tier,
            cases.c.reported_at,
            cases.c.category,
            cases.c.unit_code,
            cases.c.tier,
            cases.c.severity,
        )
        .join(cases, cases.c.id == case_events.c.case_id)
        .where(case_events.c.type.in_(sorted(TICKER_TYPES)), scope.clause(cases))
        .order_by(case_events.c.id.desc())
        .limit(TICKER_LENGTH * 5)
    ).all()
    # the log is in commit order; commands carry their own time, so put the latest in time order
    rows = sorted(rows, key=lambda r: (r.at, r.id), reverse=True)[:TICKER_LENGTH]
    return [
        TickerItem(
            seq=0,
            kind=TICKER_TYPES[r.type],
            at=r.at,
            case_id=r.case_id,
            code=case_code(r.case_id, r.reported_at, tz),
            category=r.category,
            unit=r.to_unit or r.unit_code,
            # an overdue line names the tier where the deadline passed
            tier=(r.from_tier if r.type == EventType.OVERDUE else None) or r.to_tier or r.tier,
            severity=r.severity,
        )
        for r in rows
    ]
