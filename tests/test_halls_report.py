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
    assert len(halls) == 11 and halls["H361102001"]["on_post_rate"] == 0.0
