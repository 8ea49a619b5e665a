"""Dates as real files carry them: each date column's format is decided once, from a sample
of the file, instead of trying every format on every value.

A spreadsheet that re-saved a portal export writes ``1/1/20 0:05`` where the portal wrote
``01/01/2020 12:05:00 AM``; a Chinese system writes ``2020-01-01 00:05:00`` or
``2020年1月1日 0:05``; an API writes ISO 8601 with ``T`` and an offset; an Excel cell without a
date style holds a serial number. Four families cover them (year first, month first, day
first, Excel serial), each with or without seconds, 12- or 24-hour time, 2- or 4-digit years.
Month first and day first cannot be told apart by ``1/2/2020``: the sample decides when some
value has a field above 12, else the source's own convention is taken and the ambiguity is
reported, never guessed silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from backend.core.i18n import SaidError

#: Year range a source date must fall in (1900 placeholders and typos are not dates)
YEARS = range(2000, 2100)
_EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (it counts 1900 as a leap year)
_TIME = (
    r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:分)?(?:[:](\d{1,2})(?:[.,](\d{1,6})\d*)?(?:秒)?)?"
    r"\s*([AaPp][Mm])?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_YMD = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?" + _TIME)
_XY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _TIME)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
#: the portals' own layout (``01/05/2021 03:04:05 PM``), matched without the general
#: pattern's options: a million rows carry two or three such values each. Whatever it
#: matches, _XY matches with the same groups (the rest of them empty).
_XY_PORTAL = re.compile(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d) ([AaPp][Mm])")

#: ISO 8601's own layout to the second (``2021-01-05 15:04:05``, ``T`` or a space), as
#: 12345 systems export it: likewise what it matches, _YMD matches with the same groups
_YMD_PLAIN = re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)")
_PM = frozenset(("PM", "Pm", "pM", "pm"))

#: the families, in the order they are preferred when several fit a whole sample
FAMILIES = ("ymd", "mdy", "dmy", "excel")
FAMILY_NAMES = {
    "ymd": "year-month-day",
    "mdy": "month/day/year",
    "dmy": "day/month/year",
    "excel": "Excel serial number",
}


class DateError(SaidError, ValueError):
    """A value that fits no date format (``said`` names the value)."""


def _offset(text: str | None, tz: ZoneInfo | timezone) -> ZoneInfo | timezone:
    if not text:
        return tz
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _build(y: int, mo: int, d: int, g: tuple[str | None, ...], tz: ZoneInfo | timezone) -> datetime:
    hh, mi, ss, frac, ampm, off = g
    hour = int(hh) if hh else 0
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour")
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    return datetime(
        y,
        mo,
        d,
        hour,
        int(mi) if mi else 0,
        int(ss) if ss else 0,
        int(frac.ljust(6, "0")) if frac else 0,
        tzinfo=_offset(off, tz) if off else tz,
    )


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if len(text) == 2 else y  # spreadsheets write 20 for 2020


def parse_family(family: str, text: str, tz: ZoneInfo | timezone) -> datetime | None:
    """``text`` read as ``family``, or None when it does not fit (or is no real date)."""
    try:
        if family == "ymd":
            m = _YMD_PLAIN.fullmatch(text)
            if m is not None:
                y, mo, d, hh, mi, ss = m.groups()
                return datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), tzinfo=tz)
            m = _YMD.fullmatch(text)
            if m is None:
                return None
            g = m.groups()
            return _build(int(g[0]), int(g[1]), int(g[2]), g[3:], tz)
        if family in ("mdy", "dmy"):
            m = _XY_PORTAL.fullmatch(text)
            if m is not None:
                sa, sb, sy, hh, mi, ss, ampm = m.groups()
                hour = int(hh)
                if not 1 <= hour <= 12:
                    return None
                hour = hour % 12 + (12 if ampm in _PM else 0)
                a, b = int(sa), int(sb)
                mo, d = (a, b) if family == "mdy" else (b, a)
                return datetime(int(sy), mo, d, hour, int(mi), int(ss), tzinfo=tz)
            m = _XY.fullmatch(text)
            if m is None:
                return None
            g = m.groups()
            a, b = int(g[0]), int(g[1])
            mo, d = (a, b) if family == "mdy" else (b, a)
            return _build(_year(g[2]), mo, d, g[3:], tz)
        if family == "excel":
            if _SERIAL.fullmatch(text) is None:
                return None
            # to the nearest second: a serial's float rounds 00:05:00 to 00:04:59.99…
            when = _EXCEL_EPOCH + timedelta(seconds=round(float(text) * 86400))
            return when.replace(tzinfo=tz)
    except ValueError:
        return None
    raise ValueError(f"unknown date family {family!r}")


def shape(text: str) -> str:
    """The look of a value, for saying which format was taken: ``1/1/20 0:05`` → ``9/9/99 9:99``."""
    return re.sub(r"\d", "9", text)


@dataclass
class ColumnFormat:
    """How one column's dates are read, and what the sample showed."""

    column: str
    family: str | None  # None: a strptime pattern was forced
    pattern: str | None = None
    example: str | None = None
    ambiguous: bool = False  # month/day order not shown by any value of the sample
    fitted: int = 0  # values of the sample that fit the chosen family
    sampled: int = 0
    other_family: int = 0  # values read by another family than the chosen one

    def describe(self) -> str:
        if self.pattern:
            return f"{self.column}: --date-format {self.pattern}"
        if self.family is None:
            return f"{self.column}: no values in the sample"
        name = FAMILY_NAMES[self.family]
        ex = f", e.g. {self.example!r} ({shape(self.example)})" if self.example else ""
        return f"{self.column}: {name}{ex}; {self.fitted}/{self.sampled} of the sample fit"


def _forced(pattern: str) -> Callable[[str, ZoneInfo | timezone], datetime | None]:
    def parse(text: str, tz: ZoneInfo | timezone) -> datetime | None:
        try:
            dt = datetime.strptime(text, pattern)
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=tz)

    return parse


@dataclass
class DateReader:
    """Reads the date columns of one file, each by the format its sample showed."""

    tz: ZoneInfo
    day_first: bool = False  # the source's own convention when the sample cannot tell
    forced: str | None = None  # --date-format: a family name or a strptime pattern
    columns: dict[str, ColumnFormat] = field(default_factory=dict)

    def detect(self, column: str, sample: Iterable[str]) -> ColumnFormat:
        """Decide ``column``'s format from ``sample`` (its first non-blank values)."""
        values = [v.strip() for v in sample if v and v.strip()]
        if self.forced and self.forced not in FAMILIES:
            fmt = ColumnFormat(column, None, pattern=self.forced, sampled=len(values))
            self.columns[column] = fmt
            return fmt
        fits: dict[str, int] = {}
        first: dict[str, str] = {}
        for fam in FAMILIES:
            for v in values:
                if _plausible(parse_family(fam, v, self.tz)):
                    fits[fam] = fits.get(fam, 0) + 1
                    first.setdefault(fam, v)
        if self.forced:
            family: str | None = self.forced
        elif not fits:
            family = None
        else:
            best = max(fits.values())
            family = next(f for f in FAMILIES if fits.get(f, 0) == best)
        ambiguous = False
        tie = fits.get("mdy", 0) == fits.get("dmy", 0)
        if family in ("mdy", "dmy") and not self.forced and tie:
            # both orders read the whole sample: no value showed which field is the month
            ambiguous = True
            family = "dmy" if self.day_first else "mdy"
        fmt = ColumnFormat(
            column,
            family,
            example=first.get(family or ""),
            ambiguous=ambiguous,
            fitted=fits.get(family or "", 0),
            sampled=len(values),
        )
        self.columns[column] = fmt
        return fmt

    def parse(self, column: str, text: str) -> datetime:
        """``text`` of ``column`` as an aware UTC datetime; DateError when it fits no format."""
        text = text.strip()
        fmt = self.columns.get(column)
        if fmt is None:
            fmt = self.detect(column, [text])
        if fmt.pattern:
            dt = _forced(fmt.pattern)(text, self.tz)
        else:
            dt = parse_family(fmt.family, text, self.tz) if fmt.family else None
            if dt is None and fmt.family != "excel":
                # another family, but never the other month/day order: that would be a guess
                order = "dmy" if self.day_first else "mdy"
                for fam in ("ymd", "excel", order if fmt.family is None else ""):
                    if fam and fam != fmt.family:
                        dt = parse_family(fam, text, self.tz)
                        if dt is not None:
                            fmt.other_family += 1
                            break
        if dt is None:
            raise DateError("import_row_not_a_date", text=repr(text))
        if dt.year not in YEARS:
            raise DateError("import_row_year", year=dt.year, text=repr(text))
        # the same instant in UTC: what SQL stores, and far cheaper to convert and compare
        return dt.astimezone(UTC)

    def report(self) -> list[tuple[str, dict[str, object]]]:
        """(translation key, values) of what was decided, column by column."""
        out: list[tuple[str, dict[str, object]]] = []
        for fmt in self.columns.values():
            out.append(("import_date_format", {"how": fmt.describe()}))
            if fmt.ambiguous:
                out.append(
                    (
                        "import_date_ambiguous",
                        {
                            "column": fmt.column,
                            "order": FAMILY_NAMES[fmt.family or "mdy"],
                        },
                    )
                )
            if fmt.other_family:
                out.append(("import_date_other", {"column": fmt.column, "n": fmt.other_family}))
        return out


def _plausible(dt: datetime | None) -> bool:
    return dt is not None and dt.year in YEARS
