"""The leader's filters: one value object, read from and written to the page's URL, so a view
can be shared by sending its address, and turned into SQL conditions in one place.

The date range is of the *report* date (cases reported in ``[from, to]``, whole local days),
as in the periodic report (DESIGN.md "Report definitions").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from backend.core.errors import CommandInvalid
from backend.domain.vocabulary import OPEN_VALUES, TIER_ORDER, Channel, Colour
from backend.queries.stuck import AREA_COLUMNS, StuckFilter, area_clause
from backend.refdata.index import RefIndex

#: URL parameter of each field (``from`` / ``to`` are Python keywords)
_PARAM = {"date_from": "from", "date_to": "to"}
_FIELD = {v: k for k, v in _PARAM.items()}
TIERS = tuple(t.value for t in TIER_ORDER)
COLOURS = tuple(c.value for c in Colour)
CHANNELS = tuple(c.value for c in Channel)


@dataclass(frozen=True, slots=True)
class DrillFilter:
    area: str | None = None
    tier: str | None = None
    unit: str | None = None
    category: str | None = None
    channel: str | None = None
    status: str | None = None
    colour: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive: the last day shown

    # ------------------------------------------------------------------ the URL

    @classmethod
    def from_query(cls, query: str | None, ref: RefIndex) -> DrillFilter:
        """Parse ``?area=…&tier=…&from=2026-11-01``; every bad parameter named at once."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        names = {f.name for f in fields(cls)}
        for key, raw in parse_qsl((query or "").lstrip("?"), keep_blank_values=False):
            name = _FIELD.get(key, key)
            if name not in names:
                continue  # other parameters (a case page's, say) are not filters
            if name in ("date_from", "date_to"):
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[key] = f"{raw!r} is not a date like 2026-11-23"
            else:
                values[name] = raw
        f = cls(**values)
        errors.update(f.problems(ref))
        if errors:
            raise CommandInvalid(errors)
        return f

    @classmethod
    def lenient(cls, query: str | None, ref: RefIndex) -> DrillFilter:
        """As ``from_query``, dropping what cannot be used (an edited or stale link)."""
        try:
            return cls.from_query(query, ref)
        except CommandInvalid as exc:
            keep = [
                (k, v)
                for k, v in parse_qsl((query or "").lstrip("?"))
                if k not in exc.errors and _FIELD.get(k, k) not in exc.errors
            ]
            try:
                return cls.from_query(urlencode(keep), ref)
            except CommandInvalid:
                return cls()

    def to_query(self) -> str:
        """The URL search part (``?…``), empty without filters; stable order."""
        pairs = []
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and v != "":
                pairs.append((_PARAM.get(f.name, f.name), v.isoformat() if f.name in _PARAM else v))
        return ("?" + urlencode(pairs)) if pairs else ""

    def problems(self, ref: RefIndex) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.area is not None and self.area not in ref.area_levels:
            errors["area"] = f"unknown area {self.area!r}"
        if self.tier is not None and self.tier not in TIERS:
            errors["tier"] = "must be one of " + ", ".join(TIERS)
        if self.unit is not None and self.unit not in ref.units:
            errors["unit"] = f"unknown unit {self.unit!r}"
        if self.category is not None and self.category not in ref.categories:
            errors["category"] = f"unknown category {self.category!r}"
        if self.channel is not None and self.channel not in CHANNELS:
            errors["channel"] = "must be one of " + ", ".join(CHANNELS)
        if self.status is not None and self.status not in OPEN_VALUES:
            errors["status"] = "must be one of " + ", ".join(OPEN_VALUES)
        if self.colour is not None and self.colour not in COLOURS:
            errors["colour"] = "must be one of " + ", ".join(COLOURS)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            errors["to"] = "the last day comes on or after the first"
        return errors

    def with_(self, **changes: Any) -> DrillFilter:
        return replace(self, **changes)

    # ------------------------------------------------------------------ time and SQL

    def window(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The report-date window as instants: ``[from 00:00, (to + 1 day) 00:00)`` local."""
        lo = datetime.combine(self.date_from, time(0), tz) if self.date_from else None
        hi = (
            datetime.combine(self.date_to + timedelta(days=1), time(0), tz)
            if self.date_to
            else None
        )
        return lo, hi

    def stuck(self, ref: RefIndex, tz: ZoneInfo, **kw: Any) -> StuckFilter:
        """The open-case query of the stuck table."""
        lo, hi = self.window(tz)
        level = ref.area_levels.get(self.area or "")
        return StuckFilter(
            area=self.area if level != "city" else None,  # the whole city: no condition
            area_level=level,
            tier=self.tier,
            unit=self.unit,
            category=self.category,
            channel=self.channel,
            status=self.status,
            colour=self.colour,
            reported_from=lo,
            reported_to=hi,
            **kw,
        )

    def history_clauses(self, table: Any, ref: RefIndex, *, day_column: str = "day") -> list[Any]:
        """Conditions on a history table (``drill_stages``): where, who, what, when reported.

        Status and colour describe a case *now*, so they filter open cases only, not history.
        """
        conds: list[Any] = []
        level = ref.area_levels.get(self.area or "")
        if self.area and level in AREA_COLUMNS:
            conds.append(area_clause(table, self.area, level))
        for name in ("tier", "category", "channel"):
            v = getattr(self, name)
            if v:
                conds.append(table.c[name] == v)
        if self.unit:
            conds.append(table.c.unit_code == self.unit)
        if self.date_from:
            conds.append(table.c[day_column] >= self.date_from)
        if self.date_to:
            conds.append(table.c[day_column] <= self.date_to)
        return conds
