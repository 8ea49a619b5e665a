"""Working-day calendar and the three deadline meters: ``wd``, ``wh`` and ``h``.

Why this module exists: every deadline, reminder and warning in gridwatch is stated as an
allowance on one of three meters (DESIGN.md, "Deadlines"), and the engine evaluates them for every
case dispatch, so they must be exact, consistent with each other and fast.

Meters (what counts as elapsed time):

* ``wd`` (working days) counts the whole local day of every working day. ``N wd`` from *t* ends at
  23:59:59 local time on the N-th working day strictly after *t*'s local date.
* ``wh`` (working hours) counts only the seconds inside the working windows (default 08:30–12:00
  and 14:00–17:30 local) of working days. ``N wh`` from *t* ends when N such hours have elapsed.
* ``h`` (clock hours) counts plain elapsed time.

``measure(a, b, unit)`` and ``advance(a, seconds, unit)`` are exact inverses on every meter, so a
reminder at 50% of an allowance is ``advance(t, 0.5 * measure(t, due, unit), unit)``.

Working days follow the Chinese statutory calendar from the ``chinese_calendar`` package (public
holidays off, make-up working Saturdays and Sundays on). Years it does not cover come from an
override file, or else fall back to Monday–Friday with one warning per year. Override file format::

    years:
      2027:
        provisional: true                      # optional: shown on screens as provisional
        holidays: [2027-01-01, 2027-02-05..2027-02-11]   # ".." gives an inclusive range
        workdays: [2027-02-14]                 # make-up working days (调休)

A year listed in the file is defined by it alone: weekdays work unless listed as holidays,
weekends are off unless listed as workdays. This lets users correct the package too.

Implementation: per local calendar year, the UTC epoch of every local midnight, the counted
intervals of every day and the cumulative counted seconds at each midnight are built once and
cached, so ``measure``/``advance``/``deadline`` are a bisect and a few additions.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, cast
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from backend.core.errors import SourceError

__all__ = [
    "BUILTIN_CALENDAR_FILE",
    "DEFAULT_WINDOWS",
    "UNITS",
    "Allowance",
    "CalendarFileError",
    "Unit",
    "WorkCalendar",
]

Unit = Literal["wd", "wh", "h"]
UNITS: tuple[Unit, ...] = ("wd", "wh", "h")

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 0), time(17, 30)),
)

#: The shipped override file for years ``chinese_calendar`` does not cover yet (opt-in).
BUILTIN_CALENDAR_FILE: Path = Path(__file__).with_name("policies") / "calendar_2027.yaml"

_LOG_NAME = "gridwatch.calendar"
_MAX_YEARS_AHEAD = 200  # guard for advance()/deadline() walking into years without working time

# --------------------------------------------------------------------------------------------
# Allowance
# --------------------------------------------------------------------------------------------

_ALLOWANCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(wd|wh|h)\s*$", re.IGNORECASE)
_ALLOWANCE_FORMS = "use e.g. '5 wd', '8 wh', '24 h'"


@dataclass(frozen=True, slots=True)
class Allowance:
    """How long a tier has: ``amount`` of ``unit`` (working days, working hours, clock hours)."""

    amount: float
    unit: Unit
    #: ``str()`` of it, as cases store it: made once (every case's clock start stores it)
    text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown allowance unit {self.unit!r} (use one of: wd, wh, h)")
        amount = self.amount
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
            or amount <= 0
        ):
            raise ValueError(f"allowance amount must be a positive number, not {amount!r}")
        shown = str(int(amount)) if float(amount).is_integer() else repr(float(amount))
        object.__setattr__(self, "text", f"{shown} {self.unit}")
        if self.unit == "wd" and amount != int(amount):
            raise ValueError(
                f"'{self}': working days must be a whole number (use wh or h for part of a day)"
            )

    @classmethod
    def parse(cls, text: str) -> Allowance:
        """Parse ``"5 wd"``, ``"5wd"``, ``"8 wh"``, ``"1.5 h"``; errors name the valid forms."""
        m = _ALLOWANCE_RE.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"{text!r} is not an allowance ({_ALLOWANCE_FORMS})")
        return cls(float(m.group(1)), cast(Unit, m.group(2).lower()))

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------
# Override file
# --------------------------------------------------------------------------------------------


class CalendarFileError(SourceError, ValueError):
    """A calendar override file that cannot be used; the message names file, line and column."""


@dataclass(frozen=True, slots=True)
class _YearOverride:
    holidays: frozenset[date]
    workdays: frozenset[date]
    provisional: bool


_YEAR_KEYS = ("holidays", "workdays", "provisional")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


def _load_override(path: Path) -> dict[int, _YearOverride]:
    """Read and validate an override file; every error names the offending line and column."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(src, None, None, f"cannot read calendar file: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise CalendarFileError(src, None, None, f"YAML syntax error: {problem}") from exc
        raise CalendarFileError(
            src, mark.line + 1, mark.column + 1, f"YAML syntax error: {problem}"
        ) from exc
    except yaml.YAMLError as exc:
        raise CalendarFileError(src, None, None, f"YAML error: {exc}") from exc

    def fail(node: yaml.Node, message: str) -> CalendarFileError:
        m = node.start_mark
        return CalendarFileError(src, m.line + 1, m.column + 1, message)

    def pairs(node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise fail(node, f"{what} must be a mapping")
        seen: set[str] = set()
        for k, _ in node.value:
            if k.value in seen:
                raise fail(k, f"{what}: duplicate key {k.value!r}")
            seen.add(k.value)
        return list(node.value)

    def is_null(node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def parse_date(node: yaml.Node, text: str, year: int, where: str) -> date:
        try:
            d = date.fromisoformat(text.strip())
        except ValueError:
            raise fail(node, f"{where}: {text.strip()!r} is not a date (use YYYY-MM-DD)") from None
        if d.year != year:
            raise fail(node, f"{where}: {d.isoformat()} is not in {year}")
        return d

    def date_list(node: yaml.Node, year: int, where: str) -> list[tuple[date, yaml.Node]]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise fail(node, f"{where} must be a list of dates (YYYY-MM-DD or FROM..TO)")
        out: list[tuple[date, yaml.Node]] = []
        for i, item in enumerate(node.value):
            here = f"{where}[{i}]"
            if not isinstance(item, yaml.ScalarNode):
                raise fail(item, f"{here}: expected a date (YYYY-MM-DD) or a range FROM..TO")
            if ".." in item.value:
                first_s, _, last_s = item.value.partition("..")
                first = parse_date(item, first_s, year, here)
                last = parse_date(item, last_s, year, here)
                if last < first:
                    raise fail(item, f"{here}: range {item.value!r} ends before it starts")
                out.extend(
                    (first + timedelta(days=k), item) for k in range((last - first).days + 1)
                )
            else:
                out.append((parse_date(item, item.value, year, here), item))
        return out

    result: dict[int, _YearOverride] = {}
    if root is None:
        return result
    years_node: yaml.Node | None = None
    for k, v in pairs(root, "calendar file"):
        if k.value != "years":
            raise fail(k, f"unknown key {k.value!r} (allowed: years)")
        years_node = v
    if years_node is None or is_null(years_node):
        return result
    for k, v in pairs(years_node, "years"):
        if not (isinstance(k, yaml.ScalarNode) and re.fullmatch(r"\d{4}", k.value)):
            raise fail(k, f"years: {k.value!r} is not a year (use e.g. 2027)")
        year = int(k.value)
        if not 1 <= year <= 9998:
            raise fail(k, f"years: {year} is out of range")
        holidays: dict[date, yaml.Node] = {}
        workdays: dict[date, yaml.Node] = {}
        provisional = False
        if not is_null(v):
            for yk, yv in pairs(v, f"years.{year}"):
                where = f"years.{year}.{yk.value}"
                if yk.value == "holidays":
                    holidays.update((d, n) for d, n in date_list(yv, year, where))
                elif yk.value == "workdays":
                    workdays.update((d, n) for d, n in date_list(yv, year, where))
                elif yk.value == "provisional":
                    flag = yv.value.lower() if isinstance(yv, yaml.ScalarNode) else None
                    if flag not in _TRUE and flag not in _FALSE:
                        raise fail(yv, f"{where} must be true or false")
                    provisional = flag in _TRUE
                else:
                    allowed = ", ".join(_YEAR_KEYS)
                    raise fail(yk, f"years.{year}: unknown key {yk.value!r} (allowed: {allowed})")
        for d, node in workdays.items():
            if d in holidays:
                raise fail(node, f"years.{year}: {d.isoformat()} is listed as holiday and workday")
        result[year] = _YearOverride(frozenset(holidays), frozenset(workdays), provisional)
    return result


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


class _Meter:
    """Counted intervals of each day of one year, and cumulative counted seconds at midnights."""

    __slots__ = ("ivals", "cum", "total")

    def __init__(self, ivals: list[tuple[tuple[int, int], ...]]) -> None:
        self.ivals = ivals
        cum = [0] * (len(ivals) + 1)
        acc = 0
        for i, day in enumerate(ivals):
            for s, e in day:
                acc += e - s
            cum[i + 1] = acc
        self.cum = cum
        self.total = acc

    def count(self, starts: list[int], x: float) -> float:
        """Counted seconds from the year's first midnight up to epoch ``x`` (inside the year)."""
        i = bisect_right(starts, x) - 1
        c: float = self.cum[i]
        for s, e in self.ivals[i]:
            if x <= s:
                break
            c += (e if x >= e else x) - s
        return c

    def inverse(self, target: float) -> float:
        """Earliest epoch at which ``count`` reaches ``target`` (0 < target <= total)."""
        cum = self.cum
        i = bisect_left(cum, target) - 1
        if i >= len(self.ivals):  # float noise just above total
            i = len(self.ivals) - 1
            while not self.ivals[i]:
                i -= 1
        rem = target - cum[i]
        day = self.ivals[i]
        for s, e in day:
            length = e - s
            if rem <= length:
                return s + rem
            rem -= length
        return day[-1][1]


class _Year:
    """Everything the meters need about one local calendar year, built once."""

    __slots__ = ("year", "first_ord", "starts", "working", "work_idx", "meters")

    def __init__(
        self,
        year: int,
        working: list[bool],
        tz: ZoneInfo,
        windows: tuple[tuple[time, time], ...],
    ) -> None:
        first = date(year, 1, 1)
        n = len(working)
        days = [first + timedelta(days=i) for i in range(n + 1)]
        starts = [_local_epoch(d, time(0), tz) for d in days]
        wd: list[tuple[tuple[int, int], ...]] = []
        wh: list[tuple[tuple[int, int], ...]] = []
        for i in range(n):
            if not working[i]:
                wd.append(())
                wh.append(())
                continue
            wd.append(((starts[i], starts[i + 1]),))
            spans = []
            for ws, we in windows:
                s, e = _local_epoch(days[i], ws, tz), _local_epoch(days[i], we, tz)
                if e > s:  # a window swallowed by a DST gap counts nothing
                    spans.append((s, e))
            wh.append(tuple(spans))
        self.year = year
        self.first_ord = first.toordinal()
        self.starts = starts
        self.working = working
        self.work_idx = [i for i in range(n) if working[i]]
        self.meters = {"wd": _Meter(wd), "wh": _Meter(wh)}


def _local_epoch(d: date, t: time, tz: ZoneInfo) -> int:
    """UTC epoch seconds of local wall time ``d t`` (first occurrence if ambiguous)."""
    return round(datetime.combine(d, t, tzinfo=tz).timestamp())


def _utc(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)


def _naive(name: str) -> ValueError:
    return ValueError(f"{name} must be a timezone-aware datetime, not naive")


def _bad_unit(unit: object) -> ValueError:
    return ValueError(f"unknown meter unit {unit!r} (use one of: wd, wh, h)")


class WorkCalendar:
    """The working-day calendar of one time zone, and the ``wd``/``wh``/``h`` meters on it.

    Thread-safe: year tables are built under a lock; lookups afterwards are lock-free.
    """

    def __init__(
        self,
        tz: str = "Asia/Shanghai",
        windows: tuple[tuple[time, time], ...] = DEFAULT_WINDOWS,
        override_file: Path | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._tz = ZoneInfo(tz)
        windows = tuple((ws, we) for ws, we in windows)
        prev_end: time | None = None
        for ws, we in windows:
            if ws.tzinfo is not None or we.tzinfo is not None:
                raise ValueError("working windows are local wall times: give naive times")
            if not ws < we:
                raise ValueError(f"working window {ws}–{we} must end after it starts")
            if prev_end is not None and ws < prev_end:
                raise ValueError("working windows must be in order and must not overlap")
            prev_end = we
        self.windows = windows
        self.override_file = Path(override_file) if override_file is not None else None
        self._overrides = _load_override(self.override_file) if self.override_file else {}
        self._log = logger or logging.getLogger(_LOG_NAME)
        #: Years seen that use the Monday–Friday fallback (no statutory data, no override).
        self.fallback_years: set[int] = set()
        #: Years seen whose override is marked ``provisional: true``.
        self.provisional_years: set[int] = set()
        self._years: dict[int, _Year] = {}
        self._hot: _Year | None = None
        self._wd_cache: dict[tuple[int, int, int], tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    # -- calendar -----------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Whether local date ``d`` is a working day (statutory calendar, override, fallback).

        An aware datetime is first converted to the calendar's zone; a naive one is taken as local.
        """
        if isinstance(d, datetime):
            d = (d.astimezone(self._tz) if d.tzinfo is not None else d).date()
        yr = self._year(d.year)
        return yr.working[d.toordinal() - yr.first_ord]

    def fallback_notice(self, lang: str = "en") -> str | None:
        """One sentence for screens when some year seen is not the official calendar, else None."""
        parts: list[str] = []
        fb = sorted(self.fallback_years)
        pv = sorted(self.provisional_years)
        if lang == "zh":
            if fb:
                years = "、".join(map(str, fb))
                parts.append(f"{years} 年工作日历仅按周一至周五计算（尚无法定节假日数据）。")
            if pv:
                years = "、".join(map(str, pv))
                parts.append(f"{years} 年工作日历为暂定版本，以国务院正式安排为准。")
            return "".join(parts) or None
        if fb:
            years = " and ".join(map(str, fb))
            verb = "is" if len(fb) == 1 else "are"
            parts.append(
                f"The working-day calendar for {years} {verb} Monday–Friday only: "
                "no statutory holiday data yet."
            )
        if pv:
            years = " and ".join(map(str, pv))
            verb = "is" if len(pv) == 1 else "are"
            parts.append(
                f"The working-day calendar for {years} {verb} provisional "
                "until the official holiday arrangement is published."
            )
        return " ".join(parts) or None

    # -- meters -------------------------------------------------------------------------------

    def deadline(self, start: datetime, allowance: Allowance) -> datetime:
        """When ``allowance`` from ``start`` runs out (UTC); see the module docstring."""
        if start.tzinfo is None:
            raise _naive("start")
        unit = allowance.unit
        if unit == "h":
            return (start + timedelta(hours=allowance.amount)).astimezone(UTC)
        if unit == "wd":
            return self._wd_deadline(start, start.timestamp(), int(allowance.amount))[0]
        return self.advance(start, allowance.amount * 3600.0, "wh")

    def _wd_deadline(self, start: datetime, x: float, n: int) -> tuple[datetime, int]:
        """The end of the ``n``-th working day counted from ``start`` (epoch ``x``): as an
        instant and as epoch seconds."""
        yr = self._where(x, start)
        i = bisect_right(yr.starts, x) - 1
        key = (yr.year, i, n)
        hit = self._wd_cache.get(key)
        if hit is not None:
            return hit
        idx = yr.work_idx
        k = bisect_right(idx, i) + n - 1
        hops = 0
        while k >= len(idx):
            k -= len(idx)
            hops += 1
            if hops > _MAX_YEARS_AHEAD:
                raise ValueError(f"no working days within {_MAX_YEARS_AHEAD} years of {start}")
            yr = self._year(yr.year + 1)
            idx = yr.work_idx
        j = idx[k]
        end = yr.starts[j + 1] - 1  # 23:59:59 local, i.e. next midnight minus 1 s
        result = (_utc(end), end)
        if len(self._wd_cache) > 100_000:
            self._wd_cache.clear()
        self._wd_cache[key] = result
        return result

    def schedule(
        self, start: datetime, allowance: Allowance, fractions: tuple[float, ...]
    ) -> tuple[datetime, float, list[datetime]]:
        """A clock started at ``start``: its ``deadline``, the budget ``measure``d from
        ``start`` to it, and the instants at which each of ``fractions`` of that budget has
        elapsed (``advance``). The very values of those calls, with the work they share done
        once: every new case starts a clock, and an import starts a million."""
        if start.tzinfo is None:
            raise _naive("start")
        if allowance.unit == "wd":
            x = start.timestamp()
            due, xd = self._wd_deadline(start, x, int(allowance.amount))
            yr = self._where(x, start)
            starts = yr.starts
            if xd < starts[-1]:  # due within the year of start: one meter counts it all
                m = yr.meters["wd"]
                c0 = m.count(starts, x)
                budget = float(m.count(starts, xd) - c0)
                marks: list[datetime] = []
                for f in fractions:
                    seconds = max(0.0, budget * f)
                    target = c0 + seconds
                    if seconds == 0 or target > m.total:
                        marks.append(self.advance(start, seconds, "wd"))
                    else:
                        marks.append(_utc(m.inverse(target)))
                return due, budget, marks
        unit = allowance.unit
        due = self.deadline(start, allowance)
        budget = self.measure(start, due, unit)
        return due, budget, [self.advance(start, max(0.0, budget * f), unit) for f in fractions]

    def measure(self, a: datetime, b: datetime, unit: str) -> float:
        """Counted seconds from ``a`` to ``b`` on meter ``unit``; 0 when ``b <= a``."""
        if a.tzinfo is None:
            raise _naive("a")
        if b.tzinfo is None:
            raise _naive("b")
        if unit == "h":
            d = (b - a).total_seconds()
            return d if d > 0 else 0.0
        if unit != "wd" and unit != "wh":
            raise _bad_unit(unit)
        xa = a.timestamp()
        xb = b.timestamp()
        if xb <= xa:
            return 0.0
        ya = self._where(xa, a)
        yb = self._where(xb, b)
        ma = ya.meters[unit]
        mb = yb.meters[unit]
        ca = ma.count(ya.starts, xa)
        cb = mb.count(yb.starts, xb)
        if ya is yb:
            return float(cb - ca)
        total = ma.total - ca + cb
        for y in range(ya.year + 1, yb.year):
            total += self._year(y).meters[unit].total
        return float(total)

    def advance(self, a: datetime, seconds: float, unit: str) -> datetime:
        """Earliest instant (UTC) at which ``seconds`` counted seconds have elapsed after ``a``."""
        if a.tzinfo is None:
            raise _naive("a")
        if not seconds >= 0 or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        if unit == "h":
            return (a + timedelta(seconds=seconds)).astimezone(UTC)
        if unit != "wd" and unit != "wh":
            raise _bad_unit(unit)
        if seconds == 0:
            return a.astimezone(UTC)
        xa = a.timestamp()
        yr = self._where(xa, a)
        m = yr.meters[unit]
        target = m.count(yr.starts, xa) + seconds
        hops = 0
        while target > m.total:
            target -= m.total
            hops += 1
            if hops > _MAX_YEARS_AHEAD:
                raise ValueError(f"{seconds} {unit} seconds run past {_MAX_YEARS_AHEAD} years")
            yr = self._year(yr.year + 1)
            m = yr.meters[unit]
        return _utc(m.inverse(target))

    # -- year tables --------------------------------------------------------------------------

    def _where(self, x: float, dt: datetime) -> _Year:
        """The year table whose local year contains epoch ``x`` (the instant ``dt``)."""
        yr = self._hot
        if yr is not None and yr.starts[0] <= x < yr.starts[-1]:
            return yr
        y = dt.astimezone(self._tz).year
        yr = self._year(y)
        if x < yr.starts[0]:
            yr = self._year(y - 1)
        elif x >= yr.starts[-1]:
            yr = self._year(y + 1)
        self._hot = yr
        return yr

    def _year(self, year: int) -> _Year:
        yr = self._years.get(year)
        if yr is not None:
            return yr
        with self._lock:
            yr = self._years.get(year)
            if yr is None:
                yr = _Year(year, self._working_flags(year), self._tz, self.windows)
                self._years[year] = yr
        return yr

    def _working_flags(self, year: int) -> list[bool]:
        """Working/non-working for every day of ``year``: override, else package, else Mon–Fri."""
        first = date(year, 1, 1)
        days = [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
        ov = self._overrides.get(year)
        if ov is not None:
            if ov.provisional:
                self.provisional_years.add(year)
            return [d in ov.workdays or (d.weekday() < 5 and d not in ov.holidays) for d in days]
        try:
            return [bool(chinese_calendar.is_workday(d)) for d in days]
        except NotImplementedError:
            pass
        self.fallback_years.add(year)
        where = f" or in {self.override_file}" if self.override_file else ""
        self._log.warning(
            "working-day calendar: no statutory holiday data for %d in chinese_calendar%s; "
            "using Monday-Friday for that year (add it to a calendar override file)",
            year,
            where,
        )
        return [d.weekday() < 5 for d in days]
