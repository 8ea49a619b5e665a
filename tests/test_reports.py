"""The periodic report and the KPI tiles against DESIGN.md "Report definitions".

A scenario built with the real engine exercises every definition; each figure is then computed
again here, independently, from the raw case rows with plain Python, and compared with
``build_report`` / ``kpi`` (totals and every group)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backend.queries.reports import build_report, kpi
from backend.queries.scope import Scope
from backend.store.models import cases
from tests.conftest import TZ, local
from tests.helpers import act, grid_category, report

FROM = local(2026, 11, 23, 0, 0)  # Monday
TO = local(2026, 11, 26, 0, 0)  # Thursday: the window is Mon, Tue, Wed
NOW = local(2026, 11, 26, 12, 0)

# DESIGN.md's words, as sets of statuses
COMPLETED = {"resolved", "rated", "closed"}  # 办结: resolved, rated or closed
OPEN = {"received", "dispatched", "accepted", "in_progress", "paused"}
RATES = ("close_rate", "on_time_rate", "satisfaction_rate")
COUNTS = (
    "cases_total",
    "cancelled",
    "closed",
    "overdue_open",
    "overdue_cases",
    "overdue_cases_open",
)
GROUP_COLUMNS = {
    "by_unit": "unit_code",
    "by_channel": "channel",
    "by_category": "category",
    "by_tier": "tier",
}


# ----------------------------------------------------------------------------- the scenario


def _scenario(system, clock) -> dict[str, int]:
    """Cases covering every definition, acted on at realistic local times, in time order."""
    ref = system.ref
    by_town: dict[str, list[str]] = defaultdict(list)
    for g in sorted(ref.grids):
        by_town[ref.grids[g].township_code].append(g)
    town_a, town_b = sorted(by_town)[:2]
    ga, gb = by_town[town_a][0], by_town[town_b][0]
    gcat = grid_category(system)
    gcat2 = next(
        c
        for c, i in sorted(ref.categories.items())
        if i.default_tier.value == "grid" and not i.major and c != gcat
    )
    tcat = next(
        c
        for c, i in sorted(ref.categories.items())
        if i.default_tier.value == "township" and not i.major
    )
    ids: dict[str, int] = {}

    def at(*when: int) -> None:
        clock.set(local(*when))

    def new(name: str, **fields: Any) -> None:
        ids[name] = report(system, **fields)

    def do(name: str, action: str, **params: Any) -> None:
        r = act(system, ids[name], action, **params).results[0]
        assert r.ok, (name, action, r.error)

    # Sunday evening: before the window (its unsatisfied rating must not count)
    at(2026, 11, 22, 20, 0)
    new("before", channel="hotline", grid=ga)
    do("before", "accept")
    do("before", "resolve", reason="已处理")
    do("before", "rate", rating="unsatisfied")

    # the first instant of the window belongs to it
    at(2026, 11, 23, 0, 0)
    new("on_time", channel="grid_worker", grid=ga)

    at(2026, 11, 23, 9, 0)
    new("cancelled", channel="hotline", grid=gb)
    new("township_basic", channel="qr", grid=gb, category=tcat)
    new("overdue_open", channel="wechat", grid=ga, category=gcat2)
    new("paused", channel="app", grid=gb)
    new("late", channel="walk_in", grid=ga, category=gcat2)
    new("unsatisfied", channel="hotline", grid=ga, category=tcat)
    new("major", channel="grid_worker", grid=gb, severity="major")
    new("urgent", channel="hotline", grid=gb, severity="urgent")  # department, 24 clock hours
    new("nowhere", channel="app", grid=None, address="火星基地一号")  # no grid: awaiting triage

    at(2026, 11, 23, 9, 30)
    do("cancelled", "cancel", reason="重复反映，已合并处理")
    for name in ("on_time", "township_basic", "overdue_open", "paused", "late"):
        do(name, "accept")
    for name in ("unsatisfied", "major", "urgent"):
        do(name, "accept")

    at(2026, 11, 23, 10, 0)
    do("on_time", "resolve", reason="已清理")
    do("on_time", "rate", rating="satisfied")
    do("on_time", "close")

    at(2026, 11, 23, 11, 0)
    do("paused", "pause", reason="等待群众补充材料")  # stays paused past its due time
    do("overdue_open", "start")

    at(2026, 11, 23, 16, 0)
    do("unsatisfied", "resolve", reason="已答复")
    do("unsatisfied", "rate", rating="unsatisfied")  # reopens at its unit, rating kept

    at(2026, 11, 24, 9, 0)
    do("major", "resolve", reason="已处置")
    do("major", "rate", rating="satisfied")

    # the clock: the urgent case is overdue at the department and climbs to the county
    at(2026, 11, 24, 9, 30)
    system.engine.tick()

    at(2026, 11, 24, 10, 0)
    do("urgent", "accept")
    new("escalated", channel="qr", grid=gb)
    do("escalated", "accept")
    do("escalated", "escalate", reason="需乡镇统筹协调")
    new("overdue_dispatched", channel="hotline", grid=ga)  # due Wed 23:59:59, never signed for

    at(2026, 11, 24, 10, 30)  # the same matter reported again: merged into its case
    do("overdue_dispatched", "attach", channel="hotline", reason="同一事项再次来电")

    at(2026, 11, 24, 11, 0)
    new("resolved_only", channel="open311", grid=gb, category=gcat2)
    do("resolved_only", "accept")

    at(2026, 11, 24, 14, 0)
    do("resolved_only", "resolve", reason="已处理")
    do("urgent", "resolve", reason="险情排除")
    do("urgent", "close")

    at(2026, 11, 24, 15, 0)
    do("township_basic", "resolve", reason="已协调")
    do("township_basic", "rate", rating="basic")
    new("revisited", channel="grid_worker", grid=gb)
    do("revisited", "accept")
    do("revisited", "resolve", reason="已修复")

    at(2026, 11, 24, 16, 0)
    do("revisited", "revisit", result="satisfied")

    at(2026, 11, 25, 10, 0)
    do("late", "resolve", reason="拖延后处理")  # its grid deadline was Tue 23:59:59
    do("late", "close")

    # the first instant after the window is outside it (a satisfied, on-time case)
    at(2026, 11, 26, 0, 0)
    new("after", channel="grid_worker", grid=ga)
    do("after", "accept")
    do("after", "resolve", reason="已处理")
    do("after", "rate", rating="satisfied")

    at(2026, 11, 26, 12, 0)
    return ids


def _rows(system) -> list[dict[str, Any]]:
    with system.db.connect() as conn:
        return [dict(r) for r in conn.execute(select(cases).order_by(cases.c.id)).mappings()]


# ----------------------------------------------------------------------------- the definitions


def _median(xs: list[float]) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _figures(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """DESIGN.md "Report definitions", one by one, over already-windowed rows."""
    total = len(rows)
    cancelled = sum(1 for r in rows if r["status"] == "cancelled")
    closed = [r for r in rows if r["status"] in COMPLETED]
    on_time = [r for r in closed if r["completed_at"] <= r["due_at"] and not r["overdue_tiers"]]
    # open and past the current deadline; a paused case's clock is stopped, so it is not overdue
    overdue = [
        r
        for r in rows
        if r["status"] in OPEN - {"paused"} and r["due_at"] is not None and r["due_at"] < now
    ]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    # 超期件: overdue at a tier before (recorded on the case), or past the deadline now
    went = [r for r in rows if r["overdue_tiers"] or r in overdue]
    return {
        "overdue_cases": len(went),
        "overdue_cases_open": sum(1 for r in went if r["status"] in OPEN),
        "cases_total": total,
        "cancelled": cancelled,
        "closed": len(closed),
        "close_rate": _ratio(len(closed), total - cancelled),
        "on_time_rate": _ratio(len(on_time), len(closed)),
        "overdue_open": len(overdue),
        "median_hours_to_close": _median(
            [(r["completed_at"] - r["reported_at"]).total_seconds() / 3600 for r in closed]
        ),
        "satisfaction_rate": _ratio(sum(1 for x in ratings if x == "satisfied"), len(ratings)),
    }


def _expected(
    rows: list[dict[str, Any]], frm: datetime, to: datetime, now: datetime
) -> dict[str, Any]:
    window = [r for r in rows if frm <= r["reported_at"] < to]
    out = _figures(window, now)
    for g, col in GROUP_COLUMNS.items():
        parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in window:
            parts[r[col] if r[col] is not None else "unassigned"].append(r)
        out[g] = {k: _figures(v, now) for k, v in parts.items()}
    return out


def _assert_same_figures(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for k in COUNTS:
        assert actual[k] == expected[k], (where, k)
    for k in RATES:
        if expected[k] is None:
            assert actual[k] is None, (where, k)
        else:
            assert actual[k] == pytest.approx(expected[k], abs=1e-6), (where, k)
    m = expected["median_hours_to_close"]
    if m is None:
        assert actual["median_hours_to_close"] is None, where
    else:
        assert actual["median_hours_to_close"] == pytest.approx(m, abs=1e-4), where


def _assert_report_matches(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    _assert_same_figures(actual, expected, "totals")
    for g in GROUP_COLUMNS:
        assert set(actual[g]) == set(expected[g]), g
        for key, figures in expected[g].items():
            _assert_same_figures(actual[g][key], figures, f"{g}[{key}]")


# ----------------------------------------------------------------------------- tests


def test_the_scenario_covers_every_definition(system, clock):
    """Guard: the raw rows really contain what the report tests below rely on."""
    ids = _scenario(system, clock)
    rows = {r["id"]: r for r in _rows(system)}
    now = clock.now()
    row = {name: rows[i] for name, i in ids.items()}
    assert row["cancelled"]["status"] == "cancelled"
    assert row["on_time"]["status"] == "closed"
    assert row["on_time"]["completed_at"] <= row["on_time"]["due_at"]
    assert row["late"]["status"] == "closed"
    assert row["late"]["completed_at"] > row["late"]["due_at"]
    assert row["overdue_open"]["status"] == "in_progress" and row["overdue_open"]["due_at"] < now
    assert row["overdue_dispatched"]["status"] == "dispatched"
    assert row["overdue_dispatched"]["due_at"] < now
    assert row["paused"]["status"] == "paused" and row["paused"]["due_at"] < now
    assert row["unsatisfied"]["status"] == "dispatched"
    assert row["unsatisfied"]["rating"] == "unsatisfied"
    assert row["unsatisfied"]["completed_at"] is None
    assert row["township_basic"]["rating"] == "basic"
    assert row["revisited"]["status"] == "rated" and row["revisited"]["rating"] == "satisfied"
    assert row["nowhere"]["status"] == "received" and row["nowhere"]["tier"] is None
    assert row["urgent"]["tier"] == "county" and row["urgent"]["overdue_tiers"] == "department"
    assert row["escalated"]["tier"] == "township" and row["escalated"]["escalations"] == 1
    assert row["major"]["tier"] == "department"
    assert row["before"]["reported_at"] < FROM and row["after"]["reported_at"] == TO
    assert row["on_time"]["reported_at"] == FROM
    window = [r for r in rows.values() if FROM <= r["reported_at"] < TO]
    assert len({r["channel"] for r in window}) >= 6
    assert len({r["category"] for r in window}) >= 3
    assert {r["tier"] for r in window} == {None, "grid", "township", "department", "county"}


def test_build_report_follows_the_definitions(system, clock):
    ids = _scenario(system, clock)
    rows = _rows(system)
    with system.db.connect() as conn:
        got = build_report(conn, FROM, TO, NOW, scope=Scope.city())
        later = local(2026, 12, 10, 12, 0)
        got_later = build_report(conn, FROM, TO, later, scope=Scope.city())
    assert got["from"] == FROM.isoformat() and got["to"] == TO.isoformat()
    assert got["as_of"] == NOW.isoformat()
    _assert_report_matches(got, _expected(rows, FROM, TO, NOW))
    _assert_report_matches(got_later, _expected(rows, FROM, TO, later))

    # the same numbers, worked out by hand from the scenario
    # 15 reports in the window, one of them merged into the case it repeats
    assert got["cases_total"] == 14
    assert next(r for r in rows if r["id"] == ids["overdue_dispatched"])["duplicate_count"] == 2
    assert got["cancelled"] == 1
    assert got["closed"] == 7
    assert got["close_rate"] == pytest.approx(7 / 13, abs=1e-6)
    # "late" missed its deadline; the urgent case was closed inside its county allowance but
    # had gone overdue at the department first, so it is not on time either
    assert got["on_time_rate"] == pytest.approx(5 / 7, abs=1e-6)
    assert got["overdue_open"] == 2  # the in-progress and the never-accepted one; not paused
    assert got["satisfaction_rate"] == pytest.approx(3 / 5, abs=1e-6)
    # twelve days on, the reopened and the escalated cases are past their township deadlines
    assert got_later["overdue_open"] == 4
    # 超期件: the two overdue now and the urgent one overdue at the department, since closed
    assert got["overdue_cases"] == 3 and got["overdue_cases_open"] == 2
    # hours to close, Monday 00:00 → 10:00 for the first one
    assert got["median_hours_to_close"] is not None
    assert got["by_channel"]["grid_worker"]["median_hours_to_close"] == pytest.approx(
        10.0, abs=1e-4
    )  # median of 10 h (on_time), 24 h (major) and 0 h (revisited)
    # groups: tiers in their order, unassigned last; the awaiting-triage case has no unit
    assert list(got["by_tier"]) == ["grid", "township", "department", "county", "unassigned"]
    assert got["by_unit"]["unassigned"]["cases_total"] == 1
    assert got["by_channel"]["hotline"]["cancelled"] == 1
    for g in GROUP_COLUMNS:
        assert sum(f["cases_total"] for f in got[g].values()) == got["cases_total"]


def test_report_windows_and_scopes(system, clock):
    ids = _scenario(system, clock)
    rows = _rows(system)
    paused = next(r for r in rows if r["id"] == ids["paused"])
    town_b, county = paused["township_code"], paused["county_code"]
    windows = [
        (FROM, TO),
        (local(2026, 11, 22, 0, 0), local(2026, 11, 27, 0, 0)),  # before and after included
        (local(2026, 11, 24, 0, 0), local(2026, 11, 25, 0, 0)),  # Tuesday only
        (local(2026, 11, 23, 9, 0), local(2026, 11, 23, 9, 0)),  # empty
    ]
    with system.db.connect() as conn:
        for frm, to in windows:
            _assert_report_matches(
                build_report(conn, frm, to, NOW, scope=Scope.city()), _expected(rows, frm, to, NOW)
            )
        empty = build_report(conn, windows[-1][0], windows[-1][1], NOW, scope=Scope.city())
        assert empty["cases_total"] == 0 and empty["close_rate"] is None
        assert all(empty[g] == {} for g in GROUP_COLUMNS)
        wide = build_report(conn, *windows[1], NOW, scope=Scope.city())
        assert wide["cases_total"] == len(rows)

        town = build_report(conn, FROM, TO, NOW, scope=Scope(area=town_b, level="township"))
        town_rows = [r for r in rows if r["township_code"] == town_b]
        _assert_report_matches(town, _expected(town_rows, FROM, TO, NOW))
        assert (
            0
            < town["cases_total"]
            < build_report(conn, FROM, TO, NOW, scope=Scope.city())["cases_total"]
        )
        whole_county = build_report(conn, FROM, TO, NOW, scope=Scope(area=county, level="county"))
        county_rows = [r for r in rows if r["county_code"] == county]
        _assert_report_matches(whole_county, _expected(county_rows, FROM, TO, NOW))


def _expected_kpi(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    local_now = now.astimezone(TZ)
    midnight = datetime(local_now.year, local_now.month, local_now.day, tzinfo=TZ)
    today = _expected(rows, midnight, midnight + timedelta(days=1), now)
    open_rows = [r for r in rows if r["status"] in OPEN]
    overdue = [
        r for r in open_rows if r["status"] != "paused" and r["due_at"] and r["due_at"] < now
    ]
    tiers = ("grid", "township", "department", "county")
    went = [r for r in open_rows if r["overdue_tiers"] or r in overdue]

    def went_at(r: dict[str, Any], t: str) -> bool:
        return t in r["overdue_tiers"].split(",") or (r in overdue and r["tier"] == t)

    window = [r for r in rows if midnight <= r["reported_at"] < midnight + timedelta(days=1)]
    closed = [r for r in window if r["status"] in COMPLETED]
    return {
        "handled_today": sum(1 for r in window if r["status"] != "cancelled"),
        "closed_of_today": len(closed),
        "on_time_of_today": sum(
            1 for r in closed if r["completed_at"] <= r["due_at"] and not r["overdue_tiers"]
        ),
        "rated_today": sum(1 for r in window if r["rating"] is not None),
        "satisfied_today": sum(1 for r in window if r["rating"] == "satisfied"),
        "overdue_cases_open": len(went),
        "received_today": today["cases_total"],
        "closed_today": sum(
            1
            for r in rows
            if r["status"] in COMPLETED and r["completed_at"] and r["completed_at"] >= midnight
        ),
        "open": len(open_rows),
        "awaiting_triage": sum(1 for r in open_rows if r["tier"] is None),
        "overdue": len(overdue),
        "close_rate_today": today["close_rate"],
        "on_time_rate_today": today["on_time_rate"],
        "satisfaction_rate_today": today["satisfaction_rate"],
        "by_tier": {
            t: {
                "open": sum(1 for r in open_rows if r["tier"] == t),
                "overdue": sum(1 for r in overdue if r["tier"] == t),
                "overdue_cases": sum(1 for r in went if r["tier"] == t),
                "went_overdue": sum(1 for r in went if went_at(r, t)),
            }
            for t in tiers
        },
    }


def _assert_kpi(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for k, v in expected.items():
        if isinstance(v, float):
            assert actual[k] == pytest.approx(v, abs=1e-6), k
        else:
            assert actual[k] == v, k


def test_kpi_tiles(system, clock):
    ids = _scenario(system, clock)
    # Thursday noon: one case reported and completed today, the rest from earlier days
    rows = _rows(system)
    with system.db.connect() as conn:
        got = kpi(conn, NOW, TZ, scope=Scope.city())
    assert got["as_of"] == NOW.isoformat()
    _assert_kpi(got, _expected_kpi(rows, NOW))
    assert got["received_today"] == 1 and got["closed_today"] == 1
    assert got["awaiting_triage"] == 1
    # overdue_open and overdue_dispatched (reported again at 10:30: still one case)
    assert got["overdue"] == 2 and got["by_tier"]["grid"]["overdue"] == 2
    # open: overdue_open, paused, unsatisfied and before (both reopened), nowhere, escalated,
    # overdue_dispatched
    assert got["open"] == 7
    assert got["satisfaction_rate_today"] == 1.0
    # 超期件: the two past their deadline now, and the case reported before the window that
    # went overdue at the grid and climbed to the township (within its deadline there now)
    assert got["overdue_cases_open"] == 3 and got["overdue"] == 2
    assert got["by_tier"]["grid"]["went_overdue"] == 3
    assert got["by_tier"]["township"]["overdue_cases"] == 1
    assert got["rated_today"] == 1 and got["satisfied_today"] == 1

    # later that day: a new case, one more completion; the tiles follow
    clock.set(local(2026, 11, 26, 15, 0))
    cid = report(system, channel="qr")
    assert act(system, cid, "cancel", reason="群众撤回").results[0].ok
    assert act(system, ids["overdue_open"], "resolve", reason="终于处理").results[0].ok
    later = clock.now()
    rows = _rows(system)
    with system.db.connect() as conn:
        got = kpi(conn, later, TZ, scope=Scope.city())
        town = next(r["township_code"] for r in rows if r["id"] == ids["paused"])
        scoped = kpi(conn, later, TZ, scope=Scope(area=town, level="township"))
    _assert_kpi(got, _expected_kpi(rows, later))
    assert got["received_today"] == 2 and got["close_rate_today"] == 1.0
    assert got["closed_today"] == 2 and got["overdue"] == 1  # overdue_dispatched
    _assert_kpi(scoped, _expected_kpi([r for r in rows if r["township_code"] == town], later))
    assert scoped["open"] < got["open"]

    # the next morning, "today" starts again at local midnight
    tomorrow = local(2026, 11, 27, 8, 0)
    with system.db.connect() as conn:
        got = kpi(conn, tomorrow, TZ, scope=Scope.city())
    _assert_kpi(got, _expected_kpi(rows, tomorrow))
    assert got["received_today"] == 0 and got["close_rate_today"] is None
    assert got["closed_today"] == 0
