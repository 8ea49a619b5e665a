"""Keep ``drill_days`` current: the city's cases summed by the local day they were reported,
per unit, category, channel and current tier, so that a report or an assessment of any period
is a sum over its days (backend/drill/day_report.py) rather than a scan of its cases.

A day's sums are computed from its case rows with the report's own rules
(``reports.settled_measures``), so a day's roll-up is what ``build_report`` would count for
that day. The roll-up follows the stages projection's watermark (the unit's stages and the
stages that ended with the case moved up come from ``drill_stages``): the events added since
the last refresh name the cases that changed, their reporting days are computed again, and only
the rows that differ are written. As in projection.py, the last ``OVERLAP`` ids below the
watermark are read again when some committed late.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, tuple_

from backend.domain.events import StageEnd
from backend.drill.periods import period_of
from backend.drill.projection import OVERLAP, STAGES, events_between, set_state, state_of, take_turn
from backend.queries import rules
from backend.queries.reports import GROUPS, aggregate, settled_measures
from backend.store.models import case_events, cases, drill_days, drill_months, drill_stages

DAYS = "days"
MONTHS = "months"
#: ``dim`` of each breakdown of the report (``reports.GROUPS``); "all" is the whole city
DIMS = {"by_unit": "unit", "by_category": "category", "by_channel": "channel", "by_tier": "tier"}
ALL = "all"
#: the key of a case with no unit or no tier yet ("unassigned" in a report): codes are never ""
NO_KEY = ""
#: what a day's case rows give (``reports.settled_measures`` and ``tiered``), then its stages
SETTLED = (
    "total",
    "cancelled",
    "closed",
    "on_time",
    "rated",
    "satisfied",
    "escalated_cases",
    "tiered",
)
COUNTS = (*SETTLED, "stages", "moved_up")
_MOVED_UP = (StageEnd.OVERDUE.value, StageEnd.ESCALATED.value)
#: how many cases' reporting days are looked up at once
_CHUNK = 2000

Key = tuple[date, str, str]


def day_rows(conn: Connection, day: date, tz: ZoneInfo) -> dict[Key, dict[str, Any]]:
    """The roll-up rows of one day, by (day, dim, key), computed from its case rows."""
    frm, to = period_of("daily", day).window(tz)
    window = and_(cases.c.reported_at >= frm, cases.c.reported_at < to)
    measures = [*settled_measures(), rules.count_where(cases.c.overdue_tiers != "").label("tiered")]
    totals, per_group = aggregate(conn, window, measures, GROUPS)
    rows: dict[Key, dict[str, Any]] = {}

    def row(dim: str, key: str | None) -> dict[str, Any]:
        k = (day, dim, key if key is not None else NO_KEY)
        if k not in rows:
            rows[k] = {"day": day, "dim": k[1], "key": k[2], **dict.fromkeys(COUNTS, 0)}
            rows[k]["closes"] = None
        return rows[k]

    def add(target: dict[str, Any], sums: dict[str, Any]) -> None:
        for c in SETTLED:
            target[c] += int(sums.get(c) or 0)

    for t in totals:
        add(row(ALL, NO_KEY), t)
    for g, parts in per_group.items():
        for key, found in parts.items():
            add(row(DIMS[g], key), found[0])
    # the exact times to close, in microseconds: the histograms the medians come from
    closes: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys = [GROUPS[g] for g in DIMS]
    timed = and_(window, rules.is_completed(), cases.c.completed_at.is_not(None))
    for *group_keys, reported, completed in conn.execute(
        select(*keys, cases.c.reported_at, cases.c.completed_at).where(timed)
    ):
        us = (completed - reported) // timedelta(microseconds=1)
        closes[(ALL, NO_KEY)].append(us)
        for dim, key in zip(DIMS.values(), group_keys, strict=True):
            closes[(dim, key if key is not None else NO_KEY)].append(us)
    for (dim, key), values in closes.items():
        values.sort()
        row(dim, key)["closes"] = ",".join(map(str, values))
    c = drill_stages.c
    for unit, n, moved in conn.execute(
        select(c.unit_code, func.count(), rules.count_where(c.end_kind.in_(_MOVED_UP)))
        .where(c.day == day)
        .group_by(c.unit_code)
    ):
        r = row("unit", unit)
        r["stages"], r["moved_up"] = int(n), int(moved or 0)
    return rows


def stored_rows(conn: Connection, day: date) -> dict[Key, dict[str, Any]]:
    return {
        (r["day"], r["dim"], r["key"]): dict(r)
        for r in conn.execute(select(drill_days).where(drill_days.c.day == day)).mappings()
    }


def write_day(conn: Connection, day: date, tz: ZoneInfo) -> int:
    """Compute one day again and write the rows that changed; returns how many."""
    return _write_changed(
        conn, drill_days.c.day, day, day_rows(conn, day, tz), stored_rows(conn, day)
    )


def month_rows(conn: Connection, month: date) -> dict[Key, dict[str, Any]]:
    """The roll-up rows of one calendar month (``month``: its first day), by (month, dim,
    key), summed from its days' rows; each histogram joined in the days' order, so that a
    month computed again from the same days is the same text."""
    p = period_of("monthly", month)
    d = drill_days.c
    in_month = and_(d.day >= p.start, d.day < p.end)
    sums = [func.sum(getattr(d, c)) for c in COUNTS]
    rows: dict[Key, dict[str, Any]] = {}
    for dim, key, *values in conn.execute(
        select(d.dim, d.key, *sums).where(in_month).group_by(d.dim, d.key)
    ):
        counts = {c: int(v) for c, v in zip(COUNTS, values, strict=True)}
        rows[(month, dim, key)] = {"month": month, "dim": dim, "key": key, **counts, "closes": None}
    ordered = (
        select(d.dim, d.key, d.closes)
        .where(in_month, d.closes.is_not(None))
        .order_by(d.dim, d.key, d.day)
    )
    for (dim, key), part in groupby(conn.execute(ordered), key=itemgetter(0, 1)):
        rows[(month, dim, key)]["closes"] = ",".join(r[2] for r in part)
    return rows


def write_month(conn: Connection, month: date) -> int:
    """Sum one month again from its days and write the rows that changed; returns how many."""
    m = drill_months.c
    old = {
        (r["month"], r["dim"], r["key"]): dict(r)
        for r in conn.execute(select(drill_months).where(m.month == month)).mappings()
    }
    return _write_changed(conn, m.month, month, month_rows(conn, month), old)


def _write_changed(
    conn: Connection,
    at: Any,
    when: date,
    new: dict[Key, dict[str, Any]],
    old: dict[Key, dict[str, Any]],
) -> int:
    """Replace the rows of ``at == when`` (a day's or a month's) that differ from ``new``."""
    gone = [k for k in old if k not in new]
    changed = [k for k, v in new.items() if old.get(k) != v]
    stale = gone + [k for k in changed if k in old]
    t = at.table
    for i in range(0, len(stale), 500):
        part = [(dim, key) for _, dim, key in stale[i : i + 500]]
        conn.execute(delete(t).where(at == when, tuple_(t.c.dim, t.c.key).in_(part)))
    if changed:
        conn.execute(insert(t), [new[k] for k in changed])
    return len(gone) + len(changed)


def days_of_cases(conn: Connection, case_ids: Iterable[int], tz: ZoneInfo) -> set[date]:
    """The local days the given cases were reported on."""
    ids = list(case_ids)
    out: set[date] = set()
    for i in range(0, len(ids), _CHUNK):
        for (at,) in conn.execute(
            select(cases.c.reported_at).where(cases.c.id.in_(ids[i : i + _CHUNK]))
        ):
            out.add(at.astimezone(tz).date())
    return out


def all_days(conn: Connection, tz: ZoneInfo) -> set[date]:
    """Every day from the first case reported to the last (and those the roll-up holds)."""
    at = cases.c.reported_at
    lo, hi = conn.execute(select(func.min(at), func.max(at))).one()
    held = {r[0] for r in conn.execute(select(drill_days.c.day).distinct())}
    if lo is None:
        return held
    first, last = lo.astimezone(tz).date(), hi.astimezone(tz).date()
    return held | {first + timedelta(days=i) for i in range((last - first).days + 1)}


def refresh_days(
    db: Engine, tz: ZoneInfo, now: datetime, *, rebuild: bool = False, overlap: int = OVERLAP
) -> int:
    """Fold the events the stages projection has folded in since the last refresh into
    ``drill_days``: the days of the cases they touch are computed again, and the months of
    those days (``drill_months``) summed again. ``rebuild`` computes every day. Returns the
    number of rows written."""
    with db.connect() as conn:
        last, window, _ = state_of(conn, DAYS)
        top, _, _ = state_of(conn, STAGES)
        months_built = state_of(conn, MONTHS)[0] > 0
        whole = rebuild or not last
        if whole:
            days = all_days(conn, tz)
        else:
            start = last
            if events_between(conn, max(0, last - overlap), last) != window:
                start = max(0, last - overlap)
            ids = {
                r[0]
                for r in conn.execute(
                    select(case_events.c.case_id)
                    .where(case_events.c.id > start, case_events.c.id <= top)
                    .distinct()
                )
            }
            days = days_of_cases(conn, ids, tz)
        # months summed for the first time (a roll-up built before them): every month
        month_days = days if months_built or whole else all_days(conn, tz)
    written = 0
    for day in sorted(days):
        with db.begin() as conn:
            take_turn(conn)
            written += write_day(conn, day, tz)
    # a month is summed again even when its days wrote nothing: a refresh stopped between
    # the days and the months leaves its watermark behind, and the next one comes here
    for month in sorted({d.replace(day=1) for d in month_days}):
        with db.begin() as conn:
            take_turn(conn)
            written += write_month(conn, month)
    if (whole or not months_built) and written and db.dialect.name == "postgresql":
        # a table filled at once has no planner statistics until autovacuum comes by: a
        # month's sum would be planned for 19 rows, and its sort spill to disk
        with db.begin() as conn:
            conn.execute(text("ANALYZE drill_days"))
            conn.execute(text("ANALYZE drill_months"))
    if top:
        with db.begin() as conn:
            top = max(top, last)
            seen = events_between(conn, max(0, top - overlap), top)
            set_state(conn, DAYS, top, seen, now)
            set_state(conn, MONTHS, top, seen, now)
    return written


def ready(conn: Connection) -> bool:
    """Whether the roll-up has been built (it may trail the event log by a refresh)."""
    return state_of(conn, DAYS)[0] > 0


def months_ready(conn: Connection) -> bool:
    """Whether the months' sums have been built (with the days, or by the first refresh
    after them)."""
    return state_of(conn, MONTHS)[0] > 0
