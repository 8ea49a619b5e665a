"""The city's report and the units' assessment figures of a period, as a sum over its days
(``drill_days``, backend/drill/days.py) instead of a scan of its cases.

What changes only with the case rows comes from the days' sums; what changes with the clock
alone (open cases past their deadline now, the 超期件 that are so only because they are
overdue now) is counted live over the period's open cases, a few hundred of a month's
hundred thousand. The medians come from the days' histograms of the exact times to close
(microseconds): the two middle values of the merged histogram are the two ``build_report``
takes its median from, so the median is the same float (error bound: none). Same document as
``build_report(…, scope=Scope.city())``, as of the roll-up's last refresh for what the events
changed since (the stages projection's freshness, which the assessment's escalations already
had).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Select, Table, and_, func, select, text

from backend.drill import days
from backend.drill.days import ALL, COUNTS, DIMS, NO_KEY
from backend.drill.periods import Period
from backend.queries import rules
from backend.queries.reports import GROUPS, aggregate, assemble, clock_measures
from backend.store.models import cases, drill_days, drill_months

_DIM_GROUP = {dim: g for g, dim in DIMS.items()}
_SECONDS_PER_HOUR = 3600
#: a histogram shorter than this (characters) is taken with the many small ones (``_middles``)
_SMALL = 2000
#: ``_middles`` packs (histogram, value) into one int64: values below 2**49 µs (17 years)
_VALUE_BITS = 49


def _source(conn: Connection, period: Period) -> tuple[Table, ColumnElement[bool]]:
    """Where a period's sums are read: a month's own row per group once the months are
    summed (``drill_months``: 12,000 rows of Shangrao's units instead of 85,000 days'), else
    its days' rows."""
    if period.kind == "monthly" and days.months_ready(conn):
        return drill_months, drill_months.c.month == period.start
    d = drill_days.c
    return drill_days, and_(d.day >= period.start, d.day < period.end)


def _sums_query(
    conn: Connection, period: Period, counts: Sequence[str], dims: Sequence[str], *, closes: bool
) -> Select[Any]:
    """dim, key, the sums ``counts`` (and the merged histogram if ``closes``) of each group of
    ``dims`` over the period."""
    table, in_period = _source(conn, period)
    d = table.c
    if table is drill_months:  # a row per group already
        cols = [getattr(d, c) for c in counts] + ([d.closes] if closes else [])
        return select(d.dim, d.key, *cols).where(in_period, d.dim.in_(dims))
    cols = [func.sum(getattr(d, c)) for c in counts]
    if closes:
        cols.append(_concat(conn, d.closes))
    return select(d.dim, d.key, *cols).where(in_period, d.dim.in_(dims)).group_by(d.dim, d.key)


def _concat(conn: Connection, col: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.string_agg(col, ",")
    return func.group_concat(col, ",")


def _hours(pair: tuple[int, int]) -> list[float]:
    # as build_report's timedelta.total_seconds() / 3600: the same floats
    return [pair[0] / 10**6 / _SECONDS_PER_HOUR, pair[1] / 10**6 / _SECONDS_PER_HOUR]


def _middle_hours(text: str) -> list[float]:
    """The one or two middle times to close (hours) of one merged histogram, as
    ``statistics.median`` would average them."""
    us = np.fromstring(text, dtype=np.int64, sep=",")
    half = len(us) // 2
    if len(us) % 2:
        mid = int(np.partition(us, half)[half])
        return _hours((mid, mid))
    part = np.partition(us, (half - 1, half))
    return _hours((int(part[half - 1]), int(part[half])))


def _middles(texts: list[str]) -> list[list[float]]:
    """``_middle_hours`` of many small histograms at once (a month's 12,000 units, a handful
    of values each): one array, sorted by (histogram, value)."""
    counts = np.array([t.count(",") + 1 for t in texts], dtype=np.int64)
    values = np.fromstring(",".join(texts), dtype=np.int64, sep=",")
    if not len(values) or values.min() < 0 or values.max() >= 1 << _VALUE_BITS:
        return [_middle_hours(t) for t in texts]  # beyond the packing's range: one by one
    group = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    ordered = np.sort((group << _VALUE_BITS) | values) & ((1 << _VALUE_BITS) - 1)
    starts = np.cumsum(counts) - counts
    lo = ordered[starts + (counts - 1) // 2].tolist()
    hi = ordered[starts + counts // 2].tolist()
    return [_hours(pair) for pair in zip(lo, hi, strict=True)]


def _roomy(conn: Connection) -> None:
    """Sums over days group many rows (a ten-day period's 28,000 rows of the units' days into
    12,000; a month summed over its days before its own rows are there, 85,000): with
    PostgreSQL's default 4 MB of sort memory that sort spills to disk (100 ms a month); with
    more, it is a hash (80 ms with the histograms, 30 ms without). For this transaction
    only."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('work_mem', '256MB', true)"))


Sums = dict[tuple[str, str], tuple[dict[str, Any], str | None]]


def day_sums(conn: Connection, period: Period, dims: Sequence[str], *, medians: bool) -> Sums:
    """(dim, key) → (the period's sums, its merged histogram of times to close, if asked)."""
    q = _sums_query(conn, period, COUNTS, [ALL, *dims], closes=medians)
    out: Sums = {}
    _roomy(conn)
    n = len(COUNTS)
    # tuples, 12,000 rows a month; sums of integers are ints on both databases
    if medians:
        for dim, key, *values in conn.execute(q).all():
            out[(dim, key)] = (dict(zip(COUNTS, values[:n], strict=True)), values[n])
    else:
        for dim, key, *values in conn.execute(q).all():
            out[(dim, key)] = (dict(zip(COUNTS, values, strict=True)), None)
    return out


def report_from_days(
    conn: Connection,
    period: Period,
    frm: datetime,
    to: datetime,
    now: datetime,
    *,
    groups: Sequence[str] = tuple(GROUPS),
    medians: bool = True,
    sums: Sums | None = None,
) -> dict[str, Any]:
    """``build_report(conn, frm, to, now, scope=Scope.city(), groups=…, medians=…)`` from the
    days' sums (``sums``: those already read, with the dims of ``groups``); ``frm``/``to``
    are the period's window in the city's zone."""
    if sums is None:
        sums = day_sums(conn, period, [DIMS[g] for g in groups], medians=medians)
    wanted = {g: GROUPS[g] for g in groups}
    window = and_(cases.c.reported_at >= frm, cases.c.reported_at < to, rules.is_open())
    live = [func.count().label("total"), *clock_measures(now)]
    live.append(
        rules.count_where(and_(rules.overdue_now(now), cases.c.overdue_tiers == "")).label(
            "untiered_overdue_now"
        )
    )
    open_totals, open_groups = aggregate(conn, window, live, wanted)

    def figures(base: dict[str, Any], opened: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if opened:
            o = opened[0]
            base["overdue_open"] = int(o["overdue_open"] or 0)
            base["overdue_cases_open"] = int(o["overdue_cases_open"] or 0)
            base["overdue_cases"] = base["tiered"] + int(o["untiered_overdue_now"] or 0)
        else:
            base["overdue_open"] = base["overdue_cases_open"] = 0
            base["overdue_cases"] = base["tiered"]
        return [base]

    hours: dict[tuple[str, str], list[float]] = {}
    totals: list[dict[str, Any]] = []
    per_group: dict[str, dict[Any, list[dict[str, Any]]]] = {g: {} for g in wanted}
    small = [(k, c) for k, (b, c) in sums.items() if b["total"] and c and len(c) < _SMALL]
    hours.update(zip([k for k, _ in small], _middles([c for _, c in small]), strict=True))
    for (dim, key), (base, closes) in sums.items():
        if not base["total"]:
            continue  # a unit that held stages of the period's cases but is none's unit
        if closes and len(closes) >= _SMALL:
            hours[(dim, key)] = _middle_hours(closes)
        if dim == ALL:
            totals = figures(base, open_totals)
            continue
        g = _DIM_GROUP[dim]
        value = key if key != NO_KEY else None
        per_group[g][value] = figures(base, open_groups[g].get(value, []))
    return assemble(
        frm,
        to,
        now,
        totals,
        per_group,
        hours.get((ALL, NO_KEY), []),
        lambda g, key: hours.get((DIMS[g], key if key is not None else NO_KEY), []),
    )


#: the sums the assessment reads, a unit's and the city's: all but the cases moved up and the
#: cases overdue at a tier, which only the report shows
UNIT_COUNTS = tuple(c for c in COUNTS if c not in ("escalated_cases", "tiered"))


def unit_columns(
    conn: Connection, period: Period
) -> tuple[list[str], dict[str, np.ndarray], dict[str, int]]:
    """The assessment's sums of the period, as columns: the units with cases or stages (in
    no particular order), a numpy column per count of ``UNIT_COUNTS``; and the city's counts,
    with the stages and moved up of all the units (those of cases with none included)."""
    unit = DIMS["by_unit"]
    q = _sums_query(conn, period, UNIT_COUNTS, [ALL, unit], closes=False)
    _roomy(conn)
    rows = conn.execute(q).all()
    city = dict.fromkeys(UNIT_COUNTS, 0)
    for r in rows:
        if r[0] == ALL:
            city.update(zip(UNIT_COUNTS, r[2:], strict=True))
    units = [r for r in rows if r[0] == unit]
    keys = np.array([r[1] for r in units], dtype=str)
    sums = np.array([r[2:] for r in units], dtype=np.int64).reshape(len(units), len(UNIT_COUNTS))
    col = dict(zip(UNIT_COUNTS, sums.T, strict=True))
    city["stages"], city["moved_up"] = int(col["stages"].sum()), int(col["moved_up"].sum())
    keep = (keys != NO_KEY) & ((col["total"] > 0) | (col["stages"] > 0))
    return keys[keep].tolist(), {k: v[keep] for k, v in col.items()}, city
