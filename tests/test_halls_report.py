"""The leader's hall figures: on-post minutes from the attendance events, alerts and their
answer times, 好差评; and in ``gridwatch report --json``."""

from __future__ import annotations

from datetime import timedelta

from backend.halls import alerts
from backend.halls.processor import HallProcessor
from backend.halls.rules import load_rules
from backend.queries.hall_report import hall_figures
from backend.queries.scope import Scope
from tests.conftest import local
from tests.hallsdata import ev, load_halls
from tests.test_cli import _json_out, cli  # noqa: F401  (a fixture)
from tests.test_halls_processor import HALL, only


def test_a_hall_morning_in_figures(system, small_city, clock) -> None:
    data = load_halls(system, small_city)
    proc = HallProcessor(system, only(load_rules(), "window_vacant"))
    proc.start()
    windows = [w.code for w in data.windows_of(HALL)]
    clock.set(local(2026, 11, 23, 8, 30))
    t0 = clock.now()
    # every window staffed from 08:30; window 01 left 09:00–09:30 with a queue
    proc.apply([ev(HALL, "staff_arrived", t0, w, staff=f"s{w}") for w in windows])
    proc.apply(
        [
            ev(HALL, "ticket_taken", t0 + timedelta(minutes=25), "01", ticket="A1"),
            ev(HALL, "staff_left", t0 + timedelta(minutes=30), "01", staff="s01"),
        ]
    )
    clock.set(local(2026, 11, 23, 9, 10))
    proc.tick()
    (alert,) = [r for r in proc_alerts(system)]
    clock.set(local(2026, 11, 23, 9, 16))
    with system.db.begin() as conn:
        alerts.acknowledge(conn, alert, "李", "已电话", clock.now())
    proc.apply(
        [
            ev(HALL, "staff_arrived", local(2026, 11, 23, 9, 30), "01", staff="s01"),
            ev(HALL, "rating", t0, "02", value="very_satisfied"),
            ev(HALL, "rating", t0, "02", value="satisfied"),
            ev(HALL, "rating", t0, "03", value="dissatisfied"),
        ]
    )
    with system.db.connect() as conn:
        figs = hall_figures(
            conn,
            system.halls,
            t0,
            local(2026, 11, 23, 10, 30),
            system.calendar,
            system.tz,
            scope=Scope.city(),
        )
    f = figs[HALL]
    assert f["open_minutes"] == 120 * len(windows)
    assert f["vacant_minutes"] == 30
    assert f["on_post_rate"] == round(1 - 30 / (120 * len(windows)), 4)
    assert f["alerts"] == 1 and f["alerts_by_rule"] == {"window_vacant": 1}
    assert f["median_answer_minutes"] == 6.0
    assert f["ratings"] == {"dissatisfied": 1, "satisfied": 1, "very_satisfied": 1}
    assert f["good_rate"] == round(2 / 3, 4)
    other = figs["H361102002"]
    assert other["staffed_minutes"] == 0 and other["alerts"] == 0 and other["good_rate"] is None


def proc_alerts(system) -> list[int]:
    from sqlalchemy import select

    from backend.store.models import hall_alerts

    with system.db.connect() as conn:
        return list(conn.execute(select(hall_alerts.c.id)).scalars())


def test_the_report_cli_adds_the_halls_on_request(system, small_city, clock, cli) -> None:  # noqa: F811
    load_halls(system, small_city)
    args = [
        "report",
        "--json",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-24",
        "--as-of",
        clock.now().isoformat(),
    ]
    plain = cli(*args)
    assert plain.exit_code == 0, plain.output
    assert "halls" not in _json_out(plain)
    out = cli(*args, "--halls")
    assert out.exit_code == 0, out.output
    halls = _json_out(out)["halls"]
    # no hall has reported anything yet: nothing known, rather than a day of vacant windows
    assert len(halls) == 11 and halls["H361102001"]["on_post_rate"] is None
    assert halls["H361102001"]["open_minutes"] == 0


def _sampled(system, data, code, start, end) -> tuple[int, int]:
    """The figures computed the plain way, as the first version did: minute by minute from
    ``start`` on the minute, replaying the attendance events up to each minute."""
    from collections import defaultdict

    from sqlalchemy import select

    from backend.halls.hours import is_open
    from backend.store.models import hall_events

    hall = data.hall(code)
    windows = [w.code for w in data.windows_of(code)]
    ev_ = hall_events
    with system.db.connect() as conn:
        rows = conn.execute(
            select(ev_.c.window_code, ev_.c.type, ev_.c.at, ev_.c.data)
            .where(ev_.c.hall_code == code, ev_.c.type.in_(("staff_arrived", "staff_left")))
            .order_by(ev_.c.at)
        ).all()
    present: dict[str, set[str]] = defaultdict(set)
    i = staffed = open_min = 0
    t = start.replace(second=0, microsecond=0)
    while t < end:
        while i < len(rows) and rows[i].at <= t:
            w, kind, _, d = rows[i]
            (present[w].add if kind == "staff_arrived" else present[w].discard)(d["staff"])
            i += 1
        if is_open(hall, t, system.calendar, system.tz):
            open_min += len(windows)
            staffed += sum(1 for w in windows if present[w])
        t += timedelta(minutes=1)
    return staffed, open_min


def test_minutes_counted_by_interval_equal_minute_by_minute(system, small_city, clock) -> None:
    """Three days (a weekend among them) of random arrivals and departures, at odd seconds,
    over the hall's lunch break and its closing: the same minutes as sampling each minute."""
    import random

    data = load_halls(system, small_city)
    proc = HallProcessor(system, only(load_rules()))
    proc.start()
    windows = [w.code for w in data.windows_of(HALL)]
    rnd = random.Random(7)
    start = local(2026, 11, 20, 7, 13, 41)  # a Friday, before opening, off the minute
    end = local(2026, 11, 23, 18, 2, 5)  # the Monday after, after closing
    clock.set(end + timedelta(minutes=5))
    events = []
    at = start - timedelta(hours=3)  # someone may already be in when the period begins
    while at < end:
        at += timedelta(seconds=rnd.randint(30, 2400), microseconds=rnd.randint(0, 999999))
        w = rnd.choice(windows)
        kind = rnd.choice(("staff_arrived", "staff_left"))
        events.append(ev(HALL, kind, at, w, staff=f"s{w}-{rnd.randint(1, 2)}"))
    proc.apply(events)
    with system.db.connect() as conn:
        f = hall_figures(
            conn, system.halls, start, end, system.calendar, system.tz, scope=Scope.city()
        )[HALL]
    staffed, open_min = _sampled(system, data, HALL, start, end)
    assert open_min > 0 and 0 < staffed < open_min  # the case is not trivial
    assert (f["staffed_minutes"], f["open_minutes"]) == (staffed, open_min)


def test_the_period_reports_and_workbook_carry_the_halls(system, small_city, clock) -> None:
    """The reports page, the assessment and the XLSX: the period's halls up to now (minutes
    still to come are not vacant ones), the lowest on-post rate first, a sheet of their own."""
    import io

    from openpyxl import load_workbook

    from backend.drill import export
    from backend.drill.periods import period_of
    from backend.queries.hall_report import HALL_COLUMNS, hall_rows
    from callbacks.leader.periodic import period_halls
    from layouts.leader.periodic import halls_table
    from layouts.plain import plain

    data = load_halls(system, small_city)
    proc = HallProcessor(system, only(load_rules()))
    proc.start()
    clock.set(local(2026, 11, 23, 10, 0))  # a Monday, mid-morning
    t0 = local(2026, 11, 23, 8, 30)
    windows = [w.code for w in data.windows_of(HALL)]
    proc.apply([ev(HALL, "staff_arrived", t0, w, staff=f"s{w}") for w in windows])
    p = period_of("daily", local(2026, 11, 23).date())
    rows = period_halls(system, p, clock.now())
    with system.db.connect() as conn:
        expected = hall_rows(
            hall_figures(
                conn,
                system.halls,
                local(2026, 11, 23),
                clock.now(),
                system.calendar,
                system.tz,
                scope=Scope.city(),
            )
        )
    assert rows == expected
    mine = next(r for r in rows if r["key"] == HALL)
    assert mine["open_minutes"] == 90 * len(windows)  # 08:30 to 10:00, not the whole day
    assert mine["on_post_rate"] == 1.0
    # the other halls never reported: nothing known of them, no vacant minute (shown "—",
    # after the halls with figures)
    assert rows[0]["key"] == HALL
    assert all(r["open_minutes"] == 0 and r["on_post_rate"] is None for r in rows[1:])

    shown = str(plain(halls_table(rows, "2026-11-23", "2026-11-23", "zh")))
    assert "便民服务中心考勤与作风" in shown and "100.0%" in shown

    wb = load_workbook(io.BytesIO(export.to_xlsx([_total_row()], {"title": "日报"}, "zh", rows)))
    sheet = wb["服务中心"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "代码" and len(values) == len(rows) + 1
    by_key = {v[0]: dict(zip(HALL_COLUMNS, v, strict=True)) for v in values[1:]}
    assert (
        by_key[HALL]["on_post_rate"] == 1.0 and by_key[HALL]["open_minutes"] == mine["open_minutes"]
    )
    rate_col = HALL_COLUMNS.index("on_post_rate") + 1
    assert sheet.cell(row=2, column=rate_col).number_format == "0.0%"


def _total_row() -> dict[str, object]:
    from backend.queries.reports import FIGURES

    return {"section": "total", "key": "", "name": "合计", **{k: 0 for k in FIGURES}}
