"""Report snapshots: the periodic reports and the assessment, computed in the background and
kept in SQL, so that opening one is a read of a stored document instead of a scan of a month
of cases (about 115,000 in Shangrao, with 12,000 units to break down: seconds, bench/RESULTS.md).

A snapshot is the whole figure set of one period at one instant of the city's clock, exactly
as ``build_report`` (or ``assess``) gave it then, so the screen, its CSV and its XLSX still say
the numbers ``gridwatch report --json`` prints for that window *as of* the snapshot's time,
which the screen shows. The background job (dashboard/drill_jobs.py) keeps the current and
the previous period of each kind fresh, and fills in the earlier months, ten-day periods and
days a few seconds of work at a time (``backfill``); until it has, an earlier period is
computed when first opened, and kept. A snapshot of a kept period older than ``MAX_AGE`` on
the city's clock is computed again when opened; an earlier period has settled (its cases
closed long ago), and its snapshot may be ``SETTLED_MAX_AGE`` old.
Nothing depends on a snapshot but what is shown: the source of truth stays the case rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.drill import assessment, day_report, days
from backend.drill.periods import KINDS, Period, period_of
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import cases, report_snapshots

REPORT = "report"
ASSESSMENT = "assessment"
#: how old (on the city's clock) a snapshot may be when it is opened
MAX_AGE = timedelta(minutes=10)
#: how old the snapshot of a period before the previous one may be
SETTLED_MAX_AGE = timedelta(days=1)
#: the kinds whose earlier periods the job fills in, the costliest first
BACKFILLED = ("monthly", "dekad", "daily")

Computer = Callable[[Connection, Period, datetime], Any]


def scope_key(scope: Scope | None) -> str:
    if scope is None or scope.area is None:
        return "city"
    return f"{scope.level or 'township'}:{scope.area}"


def load(
    conn: Connection, what: str, period: Period, scope: Scope | None = None
) -> tuple[Any, datetime] | None:
    """The stored body of ``what`` for ``period`` and the instant it was computed, if any."""
    c = report_snapshots.c
    row = conn.execute(
        select(c.body, c.as_of).where(
            and_(
                c.what == what,
                c.kind == period.kind,
                c.period_start == period.start,
                c.scope == scope_key(scope),
            )
        )
    ).first()
    return (orjson.loads(row.body), row.as_of) if row is not None else None


def store(
    conn: Connection,
    what: str,
    period: Period,
    as_of: datetime,
    body: Any,
    scope: Scope | None = None,
) -> None:
    """Insert or replace one snapshot (two web processes may refresh the same one at once:
    the later write wins, and both are the figures of their instant)."""
    values = {
        "what": what,
        "kind": period.kind,
        "period_start": period.start,
        "scope": scope_key(scope),
        "as_of": as_of,
        # orjson: the same text as json.dumps(ensure_ascii=False, compact), four times faster
        # (a month's report is 3 MB)
        "body": orjson.dumps(body).decode(),
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    ins = dialect.insert(report_snapshots).values(**values)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["what", "kind", "period_start", "scope"],
            set_={"as_of": ins.excluded.as_of, "body": ins.excluded.body},
        )
    )


def cached(
    db: Engine,
    what: str,
    period: Period,
    now: datetime,
    compute: Computer,
    scope: Scope | None = None,
    max_age: timedelta = MAX_AGE,
    read: Engine | None = None,
) -> tuple[Any, datetime]:
    """The snapshot of ``period`` if it is at most ``max_age`` old at ``now`` (and not from
    ``now``'s future: a clock set back, as in a replay); else computed at ``now`` and kept.

    ``read`` is where the snapshot is looked up and the figures computed (the leader desk's
    replica); the snapshot is always written to ``db``, the primary. A snapshot just written
    that the replica has not replayed yet is computed again, never lost."""
    with (read or db).connect() as conn:
        found = load(conn, what, period, scope)
    if found is not None and now - max_age <= found[1] <= now:
        return found
    return refresh(db, what, period, now, compute, scope, read=read), now


def refresh(
    db: Engine,
    what: str,
    period: Period,
    now: datetime,
    compute: Computer,
    scope: Scope | None = None,
    read: Engine | None = None,
) -> Any:
    """Compute ``what`` for ``period`` at ``now`` (reading ``read``, else ``db``) and keep it
    on ``db``; the body computed."""
    with (read or db).connect() as conn:
        body = compute(conn, period, now)
    with db.begin() as conn:
        store(conn, what, period, now, body, scope)
    return body


def kept_periods(today: Any, depth: int = 2) -> Iterable[Period]:
    """The periods the background job keeps fresh: of each kind, the current one and the
    ``depth - 1`` before it (the assessment compares a period with the one before)."""
    for kind in KINDS:
        p = period_of(kind, today)
        for _ in range(depth):
            yield p
            p = p.previous()


def from_days(conn: Connection, p: Period, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``p`` is summed over the days' roll-ups: a settled period (before the previous
    one), once the roll-up is built. It trails the event log by a refresh of the background
    job, well within the day a settled period's snapshot may be old anyway; the current and
    the previous period are counted over their cases, to the instant."""
    return max_age_of(p, now, tz) == SETTLED_MAX_AGE and days.ready(conn)


def _report(tz: ZoneInfo) -> Computer:
    def compute(conn: Connection, p: Period, now: datetime) -> dict[str, Any]:
        frm, to = p.window(tz)
        if from_days(conn, p, now, tz):
            return day_report.report_from_days(conn, p, frm, to, now)
        return build_report(conn, frm, to, now, scope=Scope.city())

    return compute


def _assessment(tz: ZoneInfo) -> Computer:
    def compute(conn: Connection, p: Period, now: datetime) -> dict[str, list[Any]]:
        days_ = from_days(conn, p, now, tz)
        return assessment.assess_table(conn, p, tz, now, from_days=days_).body()

    return compute


def max_age_of(p: Period, now: datetime, tz: ZoneInfo) -> timedelta:
    """``MAX_AGE`` for the current and the previous period of its kind, ``SETTLED_MAX_AGE``
    for the earlier ones."""
    kept = period_of(p.kind, now.astimezone(tz).date()).previous()
    return MAX_AGE if p.end > kept.start else SETTLED_MAX_AGE


def period_report(
    db: Engine,
    tz: ZoneInfo,
    p: Period,
    now: datetime,
    max_age: timedelta | None = None,
    *,
    read: Engine | None = None,
) -> dict[str, Any]:
    """The city's report of ``p`` (its ``as_of`` says at which instant), read from ``read``
    when given (see ``cached``)."""
    age = max_age if max_age is not None else max_age_of(p, now, tz)
    body, _ = cached(db, REPORT, p, now, _report(tz), max_age=age, read=read)
    return dict(body)


def period_assessment(
    db: Engine,
    tz: ZoneInfo,
    p: Period,
    now: datetime,
    max_age: timedelta | None = None,
    *,
    read: Engine | None = None,
    screen: bool = False,
) -> tuple[list[assessment.UnitScore], datetime]:
    """The units' scores of ``p`` with their change against the period before, and the
    instant the (older of the two) scores were computed. ``screen``: only the rows the
    screen shows (``assessment.shown``: 60 of Shangrao's 12,000 units), the others are never
    turned into scores (tens of thousands of objects for a month and the month before)."""
    compute = _assessment(tz)

    def age(q: Period) -> timedelta:
        return max_age if max_age is not None else max_age_of(q, now, tz)

    body, at = cached(db, ASSESSMENT, p, now, compute, max_age=age(p), read=read)
    prev = p.previous()
    before, at_before = cached(db, ASSESSMENT, prev, now, compute, max_age=age(prev), read=read)
    scores = assessment.ScoreTable.from_body(body)
    mine = scores.rows(scores.shown_rows() if screen else None)
    return assessment.ScoreTable.from_body(before).with_change(mine), min(at, at_before)


def refresh_kept(db: Engine, tz: ZoneInfo, now: datetime) -> int:
    """Compute again, at ``now``, every snapshot the screens open most: the report of the
    current and the previous period of each kind, and their assessments with the period
    before each (what the change column compares with). Returns how many were written."""
    today = now.astimezone(tz).date()
    n = 0
    for p in kept_periods(today, depth=2):
        refresh(db, REPORT, p, now, _report(tz))
        n += 1
    for p in kept_periods(today, depth=3):
        refresh(db, ASSESSMENT, p, now, _assessment(tz))
        n += 1
    return n


def backfill(db: Engine, tz: ZoneInfo, now: datetime, budget: float = math.inf) -> int:
    """Fill in the report and the assessment of the earlier months, ten-day periods and days,
    newest first, back to the first case: those with no snapshot, or one older than
    ``SETTLED_MAX_AGE``. Stops once ``budget`` seconds have been spent, to go on next time.
    Returns how many were written."""
    with db.connect() as conn:
        first = conn.execute(select(func.min(cases.c.reported_at))).scalar_one()
        c = report_snapshots.c
        have = {
            (r.what, r.kind, r.period_start): r.as_of
            for r in conn.execute(
                select(c.what, c.kind, c.period_start, c.as_of).where(c.scope == "city")
            )
        }
    if first is None:
        return 0
    first_day = first.astimezone(tz).date()
    today = now.astimezone(tz).date()
    started = time.monotonic()
    n = 0
    for kind in BACKFILLED:
        p = period_of(kind, today).previous().previous()
        while p.end > first_day:
            for what, compute in ((REPORT, _report(tz)), (ASSESSMENT, _assessment(tz))):
                at = have.get((what, kind, p.start))
                if at is not None and now - SETTLED_MAX_AGE <= at <= now:
                    continue
                if time.monotonic() - started >= budget:
                    return n
                refresh(db, what, p, now, compute)
                n += 1
            p = p.previous()
    return n
