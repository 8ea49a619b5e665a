"""The rules every figure is counted by, each written once (DESIGN.md "Report definitions").

Every query of the screens, the API, the exports and ``gridwatch report`` builds its conditions
from these, so "open", "overdue now", "on time" and "stuck" mean the same thing everywhere.
The SQL expressions take the table (``cases`` by default); the Python predicates are the same
rules for one row already read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, or_

from backend.domain.vocabulary import (
    COMPLETED_VALUES,
    OPEN_VALUES,
    RUNNING_VALUES,
    Rating,
    Status,
)
from backend.store.models import cases


def is_open(t: Table = cases) -> ColumnElement[bool]:
    """Still being handled (received, dispatched, accepted, in progress, paused)."""
    return t.c.status.in_(OPEN_VALUES)


def is_completed(t: Table = cases) -> ColumnElement[bool]:
    """Handling completed (办结: resolved, rated or closed), whenever it happened."""
    return t.c.status.in_(COMPLETED_VALUES)


def is_cancelled(t: Table = cases) -> ColumnElement[bool]:
    return t.c.status == Status.CANCELLED.value


def overdue_now(now: datetime, t: Table = cases) -> ColumnElement[bool]:
    """Open, its clock running, and its present deadline passed. A case waiting for the
    citizen is not overdue: its clock is stopped."""
    return and_(t.c.status.in_(RUNNING_VALUES), t.c.due_at <= now)


def went_overdue(now: datetime, t: Table = cases) -> ColumnElement[bool]:
    """A 超期件 (DESIGN.md ``overdue_cases``): overdue at one tier or more (the tiers are
    recorded on the case, whether auto-escalation has since moved it up), or past its present
    deadline now. With auto-escalation a case is past its deadline only for an instant, so
    "overdue now" alone hides nearly every case that went overdue."""
    return or_(t.c.overdue_tiers != "", overdue_now(now, t))


def went_overdue_at(tier: str, now: datetime, t: Table = cases) -> ColumnElement[bool]:
    """Went overdue at ``tier``: recorded there, or past its deadline there now. Tier names
    are no substring of one another, so a LIKE over the recorded list is exact."""
    return or_(
        t.c.overdue_tiers.contains(tier, autoescape=True),
        and_(overdue_now(now, t), t.c.tier == tier),
    )


def not_overdue_now(now: datetime, t: Table = cases) -> ColumnElement[bool]:
    """The complement of ``overdue_now`` among open cases (a case with no deadline yet, or
    paused, is not overdue)."""
    return or_(t.c.due_at > now, t.c.due_at.is_(None), t.c.status.not_in(RUNNING_VALUES))


def on_time(t: Table = cases) -> ColumnElement[bool]:
    """Completed by the deadline it was working to, and never overdue at a tier before (an
    auto-escalated case got a fresh allowance, not a clean record)."""
    return and_(is_completed(t), t.c.completed_at <= t.c.due_at, t.c.overdue_tiers == "")


def was_escalated(t: Table = cases) -> ColumnElement[bool]:
    """Moved up one tier or more, by the clock or by a person."""
    return t.c.escalations > 0


def is_rated(t: Table = cases) -> ColumnElement[bool]:
    return t.c.rating.is_not(None)


def is_satisfied(t: Table = cases) -> ColumnElement[bool]:
    return t.c.rating == Rating.SATISFIED.value


def count_where(condition: ColumnElement[bool]) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a count per group in the same scan."""
    return func.sum(case((condition, 1), else_=0))


def stuck_order(t: Table = cases) -> tuple[Any, ...]:
    """Stuck longest first: the earliest start of the present stage (ties by id)."""
    return (t.c.stage_started_at.asc(), t.c.id)


# ----------------------------------------------------------------------------- one row


def went_overdue_tiers(overdue_tiers: str, tier: str | None, overdue: bool) -> frozenset[str]:
    """The tiers one case went overdue at: those recorded, plus its present one when it is
    overdue there now (``went_overdue_at`` for one row already read)."""
    tiers = {x for x in overdue_tiers.split(",") if x}
    if overdue and tier is not None:
        tiers.add(tier)
    return frozenset(tiers)


def overdue_now_row(status: str, due_at: datetime | None, now: datetime) -> bool:
    """``overdue_now`` for one case already read."""
    return status in RUNNING_VALUES and due_at is not None and due_at <= now
