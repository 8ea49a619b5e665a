"""backend.deadlines.workcalendar: statutory calendar, the three meters, overrides, fallback."""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from backend.deadlines.workcalendar import (
    BUILTIN_CALENDAR_FILE,
    Allowance,
    CalendarFileError,
    WorkCalendar,
)

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


def wd(n: int) -> Allowance:
    return Allowance(n, "wd")


def wh(n: float) -> Allowance:
    return Allowance(n, "wh")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture(scope="module", autouse=True)
def statutory_facts() -> None:
    """The hand-computed expectations below rest on these package facts; check them first."""
    off = [date(2026, 10, d) for d in range(1, 8)] + [date(2026, 2, d) for d in range(15, 24)]
    off += [date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)]
    off += [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    on = [date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)]
    on += [date(2026, 10, 8), date(2026, 10, 9), date(2026, 1, 4), date(2026, 2, 24)]
    for d in off:
        assert not chinese_calendar.is_workday(d), d
    for d in on:
        assert chinese_calendar.is_workday(d), d
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 3, 1))


# ---------------------------------------------------------------------------------------------
# Allowance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit", "shown"),
    [
        ("5 wd", 5, "wd", "5 wd"),
        ("5wd", 5, "wd", "5 wd"),
        ("  8 wh ", 8, "wh", "8 wh"),
        ("1.5 h", 1.5, "h", "1.5 h"),
        ("24h", 24, "h", "24 h"),
        ("10 WD", 10, "wd", "10 wd"),
        ("0.5 wh", 0.5, "wh", "0.5 wh"),
    ],
)
def test_allowance_parse(text: str, amount: float, unit: str, shown: str) -> None:
    a = Allowance.parse(text)
    assert a == Allowance(amount, unit)  # type: ignore[arg-type]
    assert str(a) == shown
    assert Allowance.parse(str(a)) == a


@pytest.mark.parametrize("text", ["5 days", "wd", "5", "-1 h", "5 w d", "", "1e3 h", "5 wd 2"])
def test_allowance_parse_rejects_and_lists_forms(text: str) -> None:
    with pytest.raises(ValueError) as err:
        Allowance.parse(text)
    assert "'5 wd', '8 wh', '24 h'" in str(err.value)


def test_allowance_rejects_fractional_working_days_and_non_positive() -> None:
    with pytest.raises(ValueError, match="whole number"):
        Allowance.parse("0.5 wd")
    with pytest.raises(ValueError, match="positive"):
        Allowance.parse("0 h")
    with pytest.raises(ValueError, match="unit"):
        Allowance(5, "days")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Statutory calendar
# ---------------------------------------------------------------------------------------------


def test_is_working_day_follows_statutory_calendar(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2026, 10, 5)) is False  # National Day holiday (Mon)
    assert cal.is_working_day(date(2026, 10, 10)) is True  # make-up working Saturday
    assert cal.is_working_day(date(2026, 9, 20)) is True  # make-up working Sunday
    assert cal.is_working_day(date(2026, 10, 11)) is False  # ordinary Sunday
    assert cal.is_working_day(date(2026, 3, 10)) is True  # ordinary Tuesday
    assert cal.is_working_day(datetime(2026, 10, 10, 9, tzinfo=SH)) is True
    # 2026-10-09 20:00 UTC is already Sat Oct 10 04:00 in Shanghai (a make-up working day);
    # 2026-10-10 20:00 UTC is Sun Oct 11 04:00 (off).
    assert cal.is_working_day(datetime(2026, 10, 9, 20, tzinfo=UTC)) is True
    assert cal.is_working_day(datetime(2026, 10, 10, 20, tzinfo=UTC)) is False
    assert cal.fallback_years == set()


def test_national_day_2026_working_day_deadlines(cal: WorkCalendar) -> None:
    # Reported Fri 2026-09-18 10:00. The 1st working day *after* Sep 18 is Sun Sep 20, a make-up
    # working day (调休) for National Day (Sat Sep 19 is off), so 1 wd ends Sep 20 23:59:59.
    t = local(2026, 9, 18, 10)
    assert cal.deadline(t, wd(1)) == local(2026, 9, 20, 23, 59, 59)
    # 2nd working day: Mon Sep 21.
    assert cal.deadline(t, wd(2)) == local(2026, 9, 21, 23, 59, 59)
    # Reported Wed Sep 30: Oct 1-7 are off, so the 1st working day after is Thu Oct 8; the
    # 3rd is Sat Oct 10 (make-up working Saturday): Oct 8, Oct 9, Oct 10.
    t = local(2026, 9, 30, 16, 45)
    assert cal.deadline(t, wd(1)) == local(2026, 10, 8, 23, 59, 59)
    assert cal.deadline(t, wd(3)) == local(2026, 10, 10, 23, 59, 59)
    # 4th: Sun Oct 11 is off, so Mon Oct 12.
    assert cal.deadline(t, wd(4)) == local(2026, 10, 12, 23, 59, 59)
    # Reported Thu Sep 24 23:00: Mid-Autumn Sep 25-27 off, so 1 wd ends Mon Sep 28.
    assert cal.deadline(local(2026, 9, 24, 23), wd(1)) == local(2026, 9, 28, 23, 59, 59)


def test_deadline_returns_utc(cal: WorkCalendar) -> None:
    d = cal.deadline(local(2026, 9, 18, 10), wd(1))
    assert d.tzinfo is UTC
    # 2026-09-20 23:59:59 +08:00 is 15:59:59 UTC.
    assert d == datetime(2026, 9, 20, 15, 59, 59, tzinfo=UTC)
    # Inputs in any zone give the same answer.
    t_utc = local(2026, 9, 18, 10).astimezone(UTC)
    assert cal.deadline(t_utc, wd(1)) == d


def test_spring_festival_2026(cal: WorkCalendar) -> None:
    # Spring Festival 2026: Feb 15-23 off; Sat Feb 14 and Sat Feb 28 are make-up working days.
    # Reported Fri Feb 13 09:00: 1st working day after is Sat Feb 14; the 2nd is Tue Feb 24.
    t = local(2026, 2, 13, 9)
    assert cal.deadline(t, wd(1)) == local(2026, 2, 14, 23, 59, 59)
    assert cal.deadline(t, wd(2)) == local(2026, 2, 24, 23, 59, 59)
    # 5 wd: Feb 14, 24, 25, 26, 27 -> Fri Feb 27; 6 wd -> Sat Feb 28 (make-up).
    assert cal.deadline(t, wd(5)) == local(2026, 2, 27, 23, 59, 59)
    assert cal.deadline(t, wd(6)) == local(2026, 2, 28, 23, 59, 59)
    # 8 wh from Sat Feb 14 16:00: 16:00-17:30 = 1.5 h, then nothing until Tue Feb 24:
    # 08:30-12:00 = 3.5 h (5 h total), 14:00 + 3 h = 17:00.
    assert cal.deadline(local(2026, 2, 14, 16), wh(8)) == local(2026, 2, 24, 17)


def test_working_day_deadline_from_a_rest_day_and_across_new_year(cal: WorkCalendar) -> None:
    # Reported Sat 2026-03-14: the next working day is Mon Mar 16.
    assert cal.deadline(local(2026, 3, 14, 11), wd(1)) == local(2026, 3, 16, 23, 59, 59)
    # Reported Wed 2025-12-31: Jan 1-3 2026 are off and Sun Jan 4 is a make-up working day.
    assert cal.deadline(local(2025, 12, 31, 9), wd(1)) == local(2026, 1, 4, 23, 59, 59)
    # Local midnight belongs to its own date, which never counts.
    assert cal.deadline(local(2026, 3, 16), wd(1)) == local(2026, 3, 17, 23, 59, 59)
    # The last second of a day still counts as that day.
    assert cal.deadline(local(2026, 3, 16, 23, 59, 59), wd(1)) == local(2026, 3, 17, 23, 59, 59)


def test_working_hours_across_lunch_and_weekend(cal: WorkCalendar) -> None:
    # Mon 2026-03-09 11:00 + 2 wh: 11:00-12:00 (1 h), lunch, 14:00-15:00 -> 15:00.
    assert cal.deadline(local(2026, 3, 9, 11), wh(2)) == local(2026, 3, 9, 15)
    # Starting during lunch counts from 14:00.
    assert cal.deadline(local(2026, 3, 9, 12, 30), wh(1)) == local(2026, 3, 9, 15)
    # Exactly at the end of the morning window: 08:30 + 3.5 wh is 12:00, not 14:00.
    assert cal.deadline(local(2026, 3, 9, 8, 30), wh(3.5)) == local(2026, 3, 9, 12)
    # A full working day is 7 wh: 08:30 -> 17:30.
    assert cal.deadline(local(2026, 3, 9, 8, 30), wh(7)) == local(2026, 3, 9, 17, 30)
    # Fri Mar 13 17:00 + 2 wh: 0.5 h on Friday, weekend off, Mon Mar 16 08:30 + 1.5 h -> 10:00.
    assert cal.deadline(local(2026, 3, 13, 17), wh(2)) == local(2026, 3, 16, 10)
    # Starting in the evening counts from the next morning.
    assert cal.deadline(local(2026, 3, 9, 20), wh(1)) == local(2026, 3, 10, 9, 30)


def test_clock_hours_ignore_calendar(cal: WorkCalendar) -> None:
    t = local(2026, 10, 1, 10)  # a holiday
    assert cal.deadline(t, Allowance(24, "h")) == local(2026, 10, 2, 10)
    assert cal.deadline(t, Allowance(1.5, "h")) == local(2026, 10, 1, 11, 30)
    assert cal.measure(t, local(2026, 10, 2, 10), "h") == 86400


def test_measure(cal: WorkCalendar) -> None:
    fri_noon, mon_noon = local(2026, 3, 13, 12), local(2026, 3, 16, 12)
    # wd: the rest of Friday (12 h) + Monday up to noon (12 h); the weekend does not count.
    assert cal.measure(fri_noon, mon_noon, "wd") == 24 * 3600
    # wh: Friday 14:00-17:30 (3.5 h) + Monday 08:30-12:00 (3.5 h).
    assert cal.measure(fri_noon, mon_noon, "wh") == 7 * 3600
    assert cal.measure(fri_noon, mon_noon, "h") == 72 * 3600
    for unit in ("wd", "wh", "h"):
        assert cal.measure(mon_noon, fri_noon, unit) == 0.0
        assert cal.measure(mon_noon, mon_noon, unit) == 0.0
    # A whole holiday week counts nothing on wd/wh.
    assert cal.measure(local(2026, 10, 1), local(2026, 10, 8), "wd") == 0.0
    assert cal.measure(local(2026, 10, 1), local(2026, 10, 8), "wh") == 0.0


def test_fifty_percent_reminder(cal: WorkCalendar) -> None:
    # Reported Mon 2026-03-09 10:00 with 2 wd: due Wed Mar 11 23:59:59. Counted time: the rest of
    # Monday (14 h) + Tuesday (24 h) + Wednesday (24 h - 1 s) = 62 h - 1 s; half is 31 h - 0.5 s,
    # i.e. Monday's 14 h + 17 h - 0.5 s into Tuesday: Tue 16:59:59.5.
    t = local(2026, 3, 9, 10)
    due = cal.deadline(t, wd(2))
    half = cal.advance(t, 0.5 * cal.measure(t, due, "wd"), "wd")
    assert half == local(2026, 3, 10, 16, 59, 59) + timedelta(microseconds=500_000)


def test_advance_basics(cal: WorkCalendar) -> None:
    t = local(2026, 3, 13, 17)
    assert cal.advance(t, 0, "wh") == t
    assert cal.advance(t, 0, "wh").tzinfo is UTC
    assert cal.advance(t, 1800, "wh") == local(2026, 3, 13, 17, 30)  # earliest instant
    assert cal.advance(t, 1801, "wh") == local(2026, 3, 16, 8, 30, 1)
    with pytest.raises(ValueError):
        cal.advance(t, -1, "wh")
    with pytest.raises(ValueError, match="unit"):
        cal.advance(t, 1, "days")
    with pytest.raises(ValueError, match="unit"):
        cal.measure(t, t, "days")


def test_naive_datetimes_rejected(cal: WorkCalendar) -> None:
    naive = datetime(2026, 3, 9, 10)
    aware = local(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="naive"):
        cal.deadline(naive, wd(1))
    with pytest.raises(ValueError, match="naive"):
        cal.deadline(naive, Allowance(1, "h"))
    with pytest.raises(ValueError, match="naive"):
        cal.measure(naive, aware, "wd")
    with pytest.raises(ValueError, match="naive"):
        cal.measure(aware, naive, "h")
    with pytest.raises(ValueError, match="naive"):
        cal.advance(naive, 10, "wh")


# ---------------------------------------------------------------------------------------------
# Round-trip invariants
# ---------------------------------------------------------------------------------------------


def _random_instants(rng: random.Random, n: int) -> list[datetime]:
    lo = local(2025, 12, 1).timestamp()
    hi = local(2027, 2, 1).timestamp()  # spans the 2026/2027 boundary and the 2027 fallback
    out = []
    for _ in range(n):
        x = rng.uniform(lo, hi)
        out.append(datetime.fromtimestamp(round(x, 6), UTC).astimezone(SH))
    # Instants exactly on window edges and midnights.
    out += [local(2026, 3, 9, 8, 30), local(2026, 3, 9, 12), local(2026, 3, 9, 17, 30)]
    out += [local(2026, 10, 1), local(2026, 12, 31, 23, 59, 59), local(2027, 1, 1)]
    return out


def test_measure_advance_round_trip() -> None:
    cal = WorkCalendar()
    rng = random.Random(20260918)
    limits = {"wd": 20 * 86400.0, "wh": 100 * 3600.0, "h": 30 * 86400.0}
    for t in _random_instants(rng, 1500):
        for unit, limit in limits.items():
            s = rng.choice([0.0, 1.0, rng.uniform(0, 3600), rng.uniform(0, limit)])
            end = cal.advance(t, s, unit)
            assert end >= t
            assert cal.measure(t, end, unit) == pytest.approx(s, abs=1e-6), (t, s, unit)


def test_deadline_round_trip() -> None:
    cal = WorkCalendar()
    rng = random.Random(1371)
    allowances = [wd(1), wd(3), wd(5), wd(10), wd(15), wh(1), wh(7.5), wh(8), wh(40)]
    allowances += [Allowance(24, "h"), Allowance(0.25, "h")]
    for t in _random_instants(rng, 800):
        for a in allowances:
            due = cal.deadline(t, a)
            assert due > t
            spent = cal.measure(t, due, a.unit)
            assert cal.advance(t, spent, a.unit) == due, (t, a)
            if a.unit == "wd":
                loc = due.astimezone(SH)
                assert (loc.hour, loc.minute, loc.second, loc.microsecond) == (23, 59, 59, 0)
                assert loc.date() > t.astimezone(SH).date()
                assert cal.is_working_day(loc.date())


def test_schedule_is_deadline_measure_and_advance_at_once() -> None:
    """A clock's start (deadline, budget, reminder and warning) gives exactly the values of
    the separate calls, at year ends and for every unit; a later year's meter too."""
    cal = WorkCalendar()
    rng = random.Random(2026)
    allowances = [wd(1), wd(3), wd(10), wd(15), wh(8), wh(40), Allowance(24, "h")]
    instants = _random_instants(rng, 600)
    instants += [local(2026, 12, 28, 10), local(2026, 12, 31, 23, 59, 59), local(2025, 12, 30)]
    for t in instants:
        for a in allowances:
            due = cal.deadline(t, a)
            budget = cal.measure(t, due, a.unit)
            marks = [cal.advance(t, max(0.0, budget * f), a.unit) for f in (0.5, 0.8, 0.0, 1.0)]
            assert cal.schedule(t, a, (0.5, 0.8, 0.0, 1.0)) == (due, budget, marks), (t, a)
    with pytest.raises(ValueError, match="naive"):
        cal.schedule(datetime(2026, 3, 9, 9), wd(3), (0.5,))


def test_wd_deadline_counts_exactly_n_working_days() -> None:
    cal = WorkCalendar()
    rng = random.Random(7)
    for t in _random_instants(rng, 300):
        n = rng.randint(1, 15)
        due = cal.deadline(t, wd(n)).astimezone(SH).date()
        start = t.astimezone(SH).date()
        days = [start + timedelta(days=k) for k in range(1, (due - start).days + 1)]
        assert sum(cal.is_working_day(d) for d in days) == n


# ---------------------------------------------------------------------------------------------
# Fallback and override file
# ---------------------------------------------------------------------------------------------


def test_fallback_2027_is_monday_to_friday_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkCalendar()
    assert cal.fallback_notice() is None
    cal.is_working_day(date(2026, 5, 6))
    assert cal.fallback_notice() is None
    with caplog.at_level(logging.WARNING, logger="gridwatch.calendar"):
        assert cal.is_working_day(date(2027, 1, 1)) is True  # Friday; New Year unknown here
        assert cal.is_working_day(date(2027, 1, 2)) is False  # Saturday
        assert cal.is_working_day(date(2027, 2, 8)) is True  # Monday
        # Fri 2027-01-08 + 1 wd: Mon 2027-01-11.
        assert cal.deadline(local(2027, 1, 8, 9), wd(1)) == local(2027, 1, 11, 23, 59, 59)
        cal.measure(local(2026, 12, 1), local(2027, 3, 1), "wh")
    records = [r for r in caplog.records if r.name == "gridwatch.calendar"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "2027" in records[0].getMessage()
    assert cal.fallback_years == {2027}
    notice = cal.fallback_notice()
    assert notice is not None and "2027" in notice and "Monday–Friday" in notice
    assert "2027" in (cal.fallback_notice("zh") or "")


def test_fallback_uses_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.calendar")
    cal = WorkCalendar(logger=log)
    with caplog.at_level(logging.WARNING, logger="test.calendar"):
        cal.is_working_day(date(2030, 6, 3))
    assert [r.name for r in caplog.records] == ["test.calendar"]
    assert cal.fallback_years == {2030}


OVERRIDE_2027 = """\
years:
  2027:
    holidays: [2027-01-01, 2027-02-05..2027-02-11]
    workdays: [2027-02-14]
"""


def test_override_defines_an_uncovered_year(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    f = tmp_path / "cal.yaml"
    f.write_text(OVERRIDE_2027, encoding="utf-8")
    cal = WorkCalendar(override_file=f)
    with caplog.at_level(logging.WARNING, logger="gridwatch.calendar"):
        assert cal.is_working_day(date(2027, 1, 1)) is False  # listed holiday (Friday)
        assert cal.is_working_day(date(2027, 2, 9)) is False  # inside the range (Tuesday)
        assert cal.is_working_day(date(2027, 2, 14)) is True  # make-up Sunday
        assert cal.is_working_day(date(2027, 2, 13)) is False  # plain Saturday
        assert cal.is_working_day(date(2027, 2, 12)) is True  # plain Friday
    assert not caplog.records
    assert cal.fallback_years == set()
    assert cal.fallback_notice() is None
    # Thu 2027-02-04 + 1 wd: Feb 5-11 off, Fri Feb 12 works.
    assert cal.deadline(local(2027, 2, 4, 10), wd(1)) == local(2027, 2, 12, 23, 59, 59)
    # + 2 wd: Sat Feb 13 off, Sun Feb 14 make-up.
    assert cal.deadline(local(2027, 2, 4, 10), wd(2)) == local(2027, 2, 14, 23, 59, 59)


def test_override_corrects_a_covered_year(tmp_path: Path) -> None:
    # A listed year is defined by the file alone, even when chinese_calendar covers it: here
    # 2026 with only Oct 8 as a holiday (so National Day week works, and Oct 8 does not).
    f = tmp_path / "cal.yaml"
    f.write_text("years:\n  2026:\n    holidays: ['2026-10-08']\n", encoding="utf-8")
    cal = WorkCalendar(override_file=f)
    assert cal.is_working_day(date(2026, 10, 8)) is False
    assert cal.is_working_day(date(2026, 10, 2)) is True
    assert cal.is_working_day(date(2026, 10, 10)) is False  # Saturday, no longer a make-up day
    # Wed Oct 7 + 1 wd: Oct 8 is off -> Fri Oct 9.
    assert cal.deadline(local(2026, 10, 7, 9), wd(1)) == local(2026, 10, 9, 23, 59, 59)


def test_provisional_override_is_announced(tmp_path: Path) -> None:
    f = tmp_path / "cal.yaml"
    f.write_text("years:\n  2027:\n    provisional: true\n    holidays: []\n", encoding="utf-8")
    cal = WorkCalendar(override_file=f)
    assert cal.fallback_notice() is None  # nothing about 2027 seen yet
    assert cal.is_working_day(date(2027, 1, 1)) is True
    assert cal.provisional_years == {2027}
    assert cal.fallback_years == set()
    assert "provisional" in (cal.fallback_notice() or "")


def test_shipped_2027_calendar_file_loads() -> None:
    cal = WorkCalendar(override_file=BUILTIN_CALENDAR_FILE)
    # Statutory dates that fall on weekdays are off; the file is marked provisional.
    for d in [date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5)]:
        assert cal.is_working_day(d) is False, d
    for d in [date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1)]:
        assert cal.is_working_day(d) is False, d
    assert cal.is_working_day(date(2027, 2, 9)) is True
    assert cal.provisional_years == {2027}
    assert cal.fallback_years == set()


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        # YAML syntax: the flow sequence on line 3 is never closed, so the parser trips on the
        # ":" after "workdays" (line 4, column 13).
        ("years:\n  2027:\n    holidays: [2027-01-01\n    workdays: []\n", 4, 13, "YAML syntax"),
        # Feb 30 does not exist: the second item on line 3, at column 28.
        ("years:\n  2027:\n    holidays: [2027-01-01, 2027-02-30]\n", 3, 28, "not a date"),
        # A date outside the year it is listed under.
        ("years:\n  2027:\n    workdays:\n      - 2026-12-27\n", 4, 9, "not in 2027"),
        # A range that ends before it starts.
        ("years:\n  2027:\n    holidays: [2027-02-11..2027-02-05]\n", 3, 16, "ends before"),
        # Unknown key under a year, on line 4.
        ("years:\n  2027:\n    holidays: []\n    holiday: []\n", 4, 5, "unknown key 'holiday'"),
        # Unknown top-level key on line 1.
        ("year:\n  2027: {}\n", 1, 1, "unknown key 'year'"),
        # Not a year.
        ("years:\n  twenty: {}\n", 2, 3, "not a year"),
        # Same date both off and on: reported where it is listed as a workday.
        (
            "years:\n  2027:\n    holidays: [2027-02-05..2027-02-11]\n    workdays: [2027-02-07]\n",
            4,
            16,
            "holiday and workday",
        ),
        ("years:\n  2027:\n    provisional: maybe\n", 3, 18, "true or false"),
    ],
)
def test_bad_override_file_reports_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, fragment: str
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as err:
        WorkCalendar(override_file=f)
    e = err.value
    assert (e.line, e.column) == (line, column), str(e)
    assert fragment in str(e)
    assert str(e).startswith(f"{f}:{line}:{column}: ")


def test_missing_override_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="cannot read"):
        WorkCalendar(override_file=tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------------------
# Configuration, other zones, speed
# ---------------------------------------------------------------------------------------------


def test_custom_windows() -> None:
    cal = WorkCalendar(windows=((time(9), time(12)), (time(13), time(18))))
    # Mon 2026-03-09 11:00 + 2 wh: 11-12 then 13-14.
    assert cal.deadline(local(2026, 3, 9, 11), wh(2)) == local(2026, 3, 9, 14)
    assert cal.measure(local(2026, 3, 9), local(2026, 3, 10), "wh") == 8 * 3600
    with pytest.raises(ValueError):
        WorkCalendar(windows=((time(12), time(9)),))
    with pytest.raises(ValueError):
        WorkCalendar(windows=((time(9), time(13)), (time(12), time(18))))


def test_dst_zone_counts_real_seconds(tmp_path: Path) -> None:
    # Europe/Berlin springs forward on Sun 2026-03-29 (a 23-hour day); make it a working day.
    f = tmp_path / "cal.yaml"
    f.write_text("years:\n  2026:\n    workdays: [2026-03-29]\n", encoding="utf-8")
    cal = WorkCalendar(tz="Europe/Berlin", override_file=f)
    ber = ZoneInfo("Europe/Berlin")
    sat, mon = datetime(2026, 3, 28, tzinfo=ber), datetime(2026, 3, 30, tzinfo=ber)
    assert cal.measure(sat, mon, "wd") == 23 * 3600
    assert cal.measure(sat, mon, "wh") == 7 * 3600
    due = cal.deadline(datetime(2026, 3, 28, 10, tzinfo=ber), wd(1))
    assert due == datetime(2026, 3, 29, 23, 59, 59, tzinfo=ber)
    assert cal.advance(sat, cal.measure(sat, due, "wd"), "wd") == due
