"""The periodic report and the KPI tiles, with the definitions of DESIGN.md "Report definitions".

One function computes every figure from SQL aggregates, so the screen, the export and
``gridwatch report --json`` always give the same number for the same question.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, literal_column, select, text

from backend.domain.vocabulary import TIER_ORDER
from backend.queries import rules
from backend.queries.scope import Scope
from backend.store.models import cases

#: The figures of a report (and of each group in it), in the order people read them.
FIGURES = (
    "cases_total",
    "cancelled",
    "closed",
    "close_rate",
    "on_time_rate",
    "overdue_open",
    "median_hours_to_close",
    "satisfaction_rate",
)
GROUPS = {
    "by_unit": cases.c.unit_code,
    "by_channel": cases.c.channel,
    "by_category": cases.c.category,
    "by_tier": cases.c.tier,
}


_SUMMED = (
    "total",
    "cancelled",
    "closed",
    "on_time",
    "rated",
    "satisfied",
    "overdue_open",
    "overdue_cases",
    "overdue_cases_open",
    "escalated_cases",
)


def rates(r: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(close rate, on-time rate, satisfaction rate) of one row of sums, as a report gives
    them (``None`` with nothing to measure)."""
    handled = r["total"] - r["cancelled"]
    closed, rated = r["closed"], r["rated"]
    return (
        round(closed / handled, 6) if handled else None,
        round(r["on_time"] / closed, 6) if closed else None,
        round(r["satisfied"] / rated, 6) if rated else None,
    )


def _figures(rows: list[dict[str, Any]], durations: list[float]) -> dict[str, Any]:
    # one row (or none) is the rule: a report has 12,000 units, each its own row
    r = rows[0] if len(rows) == 1 else {k: sum(x[k] for x in rows) for k in _SUMMED}
    close_rate, on_time_rate, satisfaction_rate = rates(r)
    return {
        "cases_total": r["total"],
        "cancelled": r["cancelled"],
        "closed": r["closed"],
        "close_rate": close_rate,
        "on_time_rate": on_time_rate,
        "overdue_open": r["overdue_open"],
        "overdue_cases": r["overdue_cases"],
        "overdue_cases_open": r["overdue_cases_open"],
        "median_hours_to_close": _median(durations),
        "satisfaction_rate": satisfaction_rate,
        # beside FIGURES (the screens' and exports' columns): the cases moved up a tier or
        # more, which a simulated city is held to (sim/profiles.py)
        "escalated_cases": r["escalated_cases"],
    }


def _median(hours: list[float]) -> float | None:
    """``statistics.median`` rounded to 4 places. A month's 12,000 units each have one or two
    values (few cases, or the two middle ones the days' histograms give): taken without
    sorting a copy, the same float."""
    n = len(hours)
    if n == 0:
        return None
    if n == 1:
        return round(hours[0], 4)
    if n == 2:
        return round((hours[0] + hours[1]) / 2, 4)
    return round(statistics.median(hours), 4)


def settled_measures() -> list[Any]:
    """The sums that change only when a case row does (with an event): the days' roll-ups
    keep them (backend/drill/days.py)."""
    return [
        func.count().label("total"),
        rules.count_where(rules.is_cancelled()).label("cancelled"),
        rules.count_where(rules.is_completed()).label("closed"),
        rules.count_where(rules.on_time()).label("on_time"),
        rules.count_where(rules.is_rated()).label("rated"),
        rules.count_where(rules.is_satisfied()).label("satisfied"),
        rules.count_where(rules.was_escalated()).label("escalated_cases"),
    ]


def clock_measures(now: datetime) -> list[Any]:
    """The sums that change with the clock alone (a deadline passing): counted at ``now``.
    Only open cases count in them, as ``overdue_now`` holds only for a running case."""
    return [
        rules.count_where(rules.overdue_now(now)).label("overdue_open"),
        rules.count_where(rules.went_overdue(now)).label("overdue_cases"),
        rules.count_where(and_(rules.is_open(), rules.went_overdue(now))).label(
            "overdue_cases_open"
        ),
    ]


def build_report(
    conn: Connection,
    frm: datetime,
    to: datetime,
    now: datetime,
    *,
    scope: Scope,
    where: Sequence[Any] = (),
    groups: Sequence[str] = tuple(GROUPS),
    medians: bool = True,
) -> dict[str, Any]:
    """Cases reported in ``[frm, to)``, as they stand at ``now``; ``where`` narrows the cases
    further (the leader's filters: tier, unit, category, channel), with the same definitions.
    ``groups`` names the breakdowns wanted (a screen that shows only the totals asks for none:
    the totals are the same sums either way). ``medians=False`` leaves the times to close out
    (``None``): the assessment scores rates only, and the median is the costly figure."""
    window = and_(
        cases.c.reported_at >= frm,
        cases.c.reported_at < to,
        scope.clause(cases),
        *where,
    )
    completed = rules.is_completed()
    measures = [*settled_measures(), *clock_measures(now)]
    wanted = {g: GROUPS[g] for g in groups}
    keys = list(wanted.values())
    # the times to close whose median is each group's: on PostgreSQL the two middle ones,
    # from the same scan as the sums; elsewhere every one, read in a second query
    in_sql = medians and conn.dialect.name == "postgresql"
    if in_sql:
        measures += _sql_middles(completed)
    totals, per_group = aggregate(conn, window, measures, wanted)
    all_durations: list[float] = _middles(totals) if in_sql else []
    durations: dict[str, dict[Any, list[float]]] = {g: defaultdict(list) for g in wanted}
    if medians and not in_sql:
        for *group_keys, hours in _durations(conn, keys, and_(window, completed)):
            all_durations.append(hours)
            for g, key in zip(wanted, group_keys, strict=True):
                durations[g][key].append(hours)
    return assemble(
        frm,
        to,
        now,
        totals,
        per_group,
        all_durations,
        lambda g, key: _middles(per_group[g][key]) if in_sql else durations[g][key],
    )


def assemble(
    frm: datetime,
    to: datetime,
    now: datetime,
    totals: list[dict[str, Any]],
    per_group: dict[str, dict[Any, list[dict[str, Any]]]],
    hours: list[float],
    hours_of: Callable[[str, Any], list[float]],
) -> dict[str, Any]:
    """The report from its sums: ``totals`` and ``per_group`` are rows of the measures
    (``total``, ``cancelled``, …), ``hours`` and ``hours_of(group, key)`` the times to close
    whose median is taken (every one, or the two middle ones). The days' roll-ups
    (backend/drill/day_report.py) build the same document from other sums."""
    report: dict[str, Any] = {
        "from": frm.isoformat(),
        "to": to.isoformat(),
        "as_of": now.isoformat(),
        **_figures(totals, hours),
    }
    for g, parts in per_group.items():
        out = {}
        for key in sorted(parts, key=lambda k: (k is None, str(k))):
            out[key if key is not None else "unassigned"] = _figures(parts[key], hours_of(g, key))
        if g == "by_tier":
            out = {t.value: out[t.value] for t in TIER_ORDER if t.value in out} | {
                k: v for k, v in out.items() if k not in {t.value for t in TIER_ORDER}
            }
        report[g] = out
    return report


def aggregate(
    conn: Connection, window: Any, measures: list[Any], wanted: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[Any, list[dict[str, Any]]]]]:
    """The sums for the whole window and for each key of each breakdown.

    On PostgreSQL one scan with GROUPING SETS; elsewhere one query per breakdown. Either way
    a breakdown has a row per key (12,000 grid units in Shangrao), not a row per combination
    of unit, channel, category and tier."""
    per_group: dict[str, dict[Any, list[dict[str, Any]]]] = {g: {} for g in wanted}
    cols = list(wanted.values())
    if conn.dialect.name == "postgresql" and cols:
        sets = ", ".join(f"({c.name})" for c in cols) + ", ()"
        flag = func.grouping(*cols).label("_set")
        q = select(flag, *cols, *measures).where(window).group_by(text(f"GROUPING SETS ({sets})"))
        totals: list[dict[str, Any]] = []
        n = len(cols)
        for r in conn.execute(q).mappings():
            row = _ints(r)
            if not row["total"]:
                continue
            if row["_set"] == (1 << n) - 1:
                totals = [row]
                continue
            for i, (g, col) in enumerate(wanted.items()):
                if row["_set"] == ((1 << n) - 1) ^ (1 << (n - 1 - i)):
                    per_group[g][row[col.name]] = [row]
        return totals, per_group
    totals = [_ints(r) for r in conn.execute(select(*measures).where(window)).mappings()]
    totals = [r for r in totals if r["total"]]  # an empty window: one row of NULLs
    for g, col in wanted.items():
        for r in conn.execute(select(col, *measures).where(window).group_by(col)).mappings():
            row = _ints(r)
            per_group[g][row[col.name]] = [row]
    return totals, per_group


def _durations(conn: Connection, keys: list[Any], where: Any) -> list[tuple[Any, ...]]:
    """(breakdown keys…, hours from report to completion) of the completed cases, where the
    median is taken in Python (not PostgreSQL: ``_sql_middles``). SQLite's date arithmetic is
    not exact, so the instants are read and subtracted here. An imported record closed at an
    unknown time (no completed_at) counts as closed but has no duration."""
    where = and_(where, cases.c.completed_at.is_not(None))
    return [
        (*r[:-2], (r[-1] - r[-2]).total_seconds() / 3600)
        for r in conn.execute(select(*keys, cases.c.reported_at, cases.c.completed_at).where(where))
    ]


def _sql_middles(completed: Any) -> list[Any]:
    """The two middle times to close of each group, computed by PostgreSQL in the same scan
    as the sums (ordered-set aggregates work with GROUPING SETS): the lower middle, and the
    lower middle of the times negated, which is the upper one. ``statistics.median`` averages
    the same two values (the one value twice when the count is odd), so the median is the
    same float as the one Python computes from every time, without sending a time per case."""
    hours: Any = literal_column(
        "(EXTRACT(EPOCH FROM (cases.completed_at - cases.reported_at))::float8 / 3600)"
    )
    timed = and_(completed, cases.c.completed_at.is_not(None))
    lo = func.percentile_disc(0.5).within_group(hours).filter(timed).label("_mid_lo")
    hi = func.percentile_disc(0.5).within_group(-hours).filter(timed).label("_mid_hi")
    return [lo, hi]


def _middles(rows: list[dict[str, Any]]) -> list[float]:
    """The values whose median is the group's (``[]`` when nothing closed with a time)."""
    if not rows or rows[0].get("_mid_lo") is None:
        return []
    return [float(rows[0]["_mid_lo"]), -float(rows[0]["_mid_hi"])]


def _ints(r: Any) -> dict[str, Any]:
    return {k: (int(v) if k in _MEASURES and v is not None else v) for k, v in dict(r).items()}


_MEASURES = {
    "total",
    "cancelled",
    "closed",
    "on_time",
    "overdue_open",
    "overdue_cases",
    "overdue_cases_open",
    "rated",
    "satisfied",
}


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tz)


def kpi(conn: Connection, now: datetime, tz: ZoneInfo, *, scope: Scope) -> dict[str, Any]:
    """The big screen's tiles: today so far, each rate with its base, plus what is open, and
    the open 超期件 by the tier where they went overdue and the tier where they are now."""
    midnight = local_midnight(now, tz)
    today = build_report(
        conn, midnight, midnight + timedelta(days=1), now, scope=scope, groups=(), medians=False
    )
    sc = scope.clause(cases)
    bases = (
        conn.execute(
            select(
                rules.count_where(rules.on_time()).label("on_time"),
                rules.count_where(rules.is_rated()).label("rated"),
                rules.count_where(rules.is_satisfied()).label("satisfied"),
            ).where(
                cases.c.reported_at >= midnight,
                cases.c.reported_at < midnight + timedelta(days=1),
                sc,
            )
        )
        .mappings()
        .one()
    )
    went = rules.went_overdue(now)
    open_rows = (
        conn.execute(
            select(
                cases.c.tier,
                func.count().label("open"),
                rules.count_where(rules.overdue_now(now)).label("overdue"),
                rules.count_where(went).label("overdue_cases"),
                *(
                    rules.count_where(rules.went_overdue_at(t.value, now)).label(t.value)
                    for t in TIER_ORDER
                ),
            )
            .where(rules.is_open(), sc)
            .group_by(cases.c.tier)
        )
        .mappings()
        .all()
    )
    closed_today = conn.execute(
        select(func.count())
        .select_from(cases)
        .where(cases.c.completed_at >= midnight, rules.is_completed(), sc)
    ).scalar_one()
    by_tier = {t.value: _tier_figures() for t in TIER_ORDER}
    untriaged = untriaged_overdue = 0
    for r in open_rows:
        if r["tier"] is None:
            untriaged += int(r["open"])
            untriaged_overdue += int(r["overdue_cases"] or 0)
        else:
            v = by_tier[r["tier"]]
            v["open"] = int(r["open"])
            v["overdue"] = int(r["overdue"] or 0)
            v["overdue_cases"] = int(r["overdue_cases"] or 0)
        for t in TIER_ORDER:  # where it went overdue, whatever tier holds it now
            by_tier[t.value]["went_overdue"] += int(r[t.value] or 0)
    return {
        "as_of": now.isoformat(),
        "received_today": today["cases_total"],
        "handled_today": today["cases_total"] - today["cancelled"],
        "closed_of_today": today["closed"],
        "on_time_of_today": int(bases["on_time"] or 0),
        "rated_today": int(bases["rated"] or 0),
        "satisfied_today": int(bases["satisfied"] or 0),
        "closed_today": int(closed_today),
        "open": sum(v["open"] for v in by_tier.values()) + untriaged,
        "awaiting_triage": untriaged,
        "overdue": sum(v["overdue"] for v in by_tier.values()),
        "overdue_cases_open": sum(v["overdue_cases"] for v in by_tier.values()) + untriaged_overdue,
        "close_rate_today": today["close_rate"],
        "on_time_rate_today": today["on_time_rate"],
        "satisfaction_rate_today": today["satisfaction_rate"],
        "by_tier": by_tier,
    }


def _tier_figures() -> dict[str, int]:
    """One tier's open cases; past their deadline there now; 超期件 now at the tier; and
    open cases that went overdue at the tier (a case overdue at two tiers counts at both)."""
    return {"open": 0, "overdue": 0, "overdue_cases": 0, "went_overdue": 0}
