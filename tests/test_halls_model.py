"""Service halls' reference data: generated for the demo cities, round-tripped through files,
loaded into SQL by the migration's tables, open on working days only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from backend.deadlines.workcalendar import WorkCalendar
from backend.halls.files import load_halls, write_halls
from backend.halls.generator import generate_halls
from backend.halls.hours import is_open
from backend.halls.model import parse_hours
from backend.halls.store import read_halls
from backend.refdata.files import RefDataError
from backend.refdata.generator import generate_city
from backend.store.db import make_engine
from backend.system import init_database

TZ = ZoneInfo("Asia/Shanghai")


def test_shangrao_has_shanggao_like_halls() -> None:
    data = generate_halls(generate_city("shangrao"), "shangrao")
    assert len(data.halls) == 24
    assert sum(1 for h in data.halls if h.kind == "county") == 1
    per_hall = [len(data.windows_of(h.code)) for h in data.halls]
    assert min(per_hall) >= 8 and max(per_hall) <= 16
    assert 9 <= sum(per_hall) / len(per_hall) <= 12
    # every window is staffed on some shift, and serves something
    shifted = {(s.hall_code, s.window_code) for s in data.shifts}
    assert shifted == {(w.hall_code, w.code) for w in data.windows}
    assert all(w.services for w in data.windows)


def test_generation_is_repeatable(small_city) -> None:
    assert generate_halls(small_city, "small") == generate_halls(small_city, "small")


def test_files_round_trip(tmp_path: Path, small_city) -> None:
    data = generate_halls(small_city, "small")
    write_halls(data, tmp_path)
    assert load_halls(tmp_path) == data
    assert load_halls(tmp_path / "nowhere") is None


def test_bad_files_say_where(tmp_path: Path, small_city) -> None:
    write_halls(generate_halls(small_city, "small"), tmp_path)
    halls = tmp_path / "halls.csv"
    lines = halls.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("township", "village").replace("08:30-12:00", "12:00-08:30")
    halls.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RefDataError) as err:
        load_halls(tmp_path)
    where = {(p.file, p.line, p.column) for p in err.value.problems}
    assert ("halls.csv", 3, "kind") in where and ("halls.csv", 3, "hours") in where


def test_init_loads_halls(tmp_path: Path) -> None:
    db = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    init_database(db, "small")
    with db.connect() as conn:
        data = read_halls(conn)
        assert data == generate_halls(generate_city("small"), "small")
        # the alert log is append-only, refused by the database itself
        conn.execute(
            text(
                "INSERT INTO hall_alert_events (alert_id, at, type, actor) "
                "VALUES (1, '2026-11-23 01:00:00', 'opened', 'system')"
            )
        )
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE hall_alert_events SET actor = 'x'"))
    db.dispose()


def test_opening_hours_follow_the_working_day_calendar(small_city) -> None:
    hall = generate_halls(small_city, "small").halls[0]
    cal = WorkCalendar()
    assert is_open(hall, datetime(2026, 11, 23, 9, 0, tzinfo=TZ), cal, TZ)  # a Monday
    assert not is_open(hall, datetime(2026, 11, 23, 12, 30, tzinfo=TZ), cal, TZ)  # lunch
    assert not is_open(hall, datetime(2026, 11, 22, 9, 0, tzinfo=TZ), cal, TZ)  # a Sunday
    assert not is_open(hall, datetime(2026, 10, 1, 9, 0, tzinfo=TZ), cal, TZ)  # National Day


@pytest.mark.parametrize("bad", ["", "8-12", "12:00-08:30", "08:00-12:00,11:00-13:00"])
def test_bad_hours_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(bad)
