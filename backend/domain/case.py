"""The in-memory form of one case row, as the engine changes it within a batch."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(slots=True)
class CaseState:
    """Mirrors the ``cases`` table column for column (store/models.py; a test pins the two)."""

    id: int | None
    ref: str
    reported_at: datetime
    channel: str
    category: str
    severity: str
    complexity: str
    mode: str
    grid_code: str | None
    township_code: str | None
    county_code: str | None
    address: str | None
    lat: float | None
    lon: float | None
    description: str
    reporter: str | None
    status: str
    prev_status: str | None
    tier: str | None
    unit_code: str | None
    holder: str | None
    stage_started_at: datetime | None
    status_changed_at: datetime
    allowance: str | None = None
    budget_seconds: float | None = None
    used_seconds: float = 0.0
    segment_started_at: datetime | None = None
    reminder_at: datetime | None = None
    warning_at: datetime | None = None
    due_at: datetime | None = None
    next_due_at: datetime | None = None
    next_milestone: str | None = None
    colour: str = "green"
    overdue_tiers: str = ""
    escalations: int = 0
    reopen_count: int = 0
    consultation: dict[str, Any] | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    rating: str | None = None
    duplicate_count: int = 1
    source: str | None = None
    source_channel: str | None = None
    source_type: str | None = None
    event_count: int = 0
    version: int = 1
    updated_at: datetime | None = None

    @classmethod
    def received(
        cls,
        *,
        ref: str,
        at: datetime,
        channel: str,
        category: str,
        severity: str,
        complexity: str,
        description: str,
        **columns: Any,
    ) -> CaseState:
        """A case as it is reported: received at ``at``, with no tier, unit or holder yet and
        nowhere placed; ``columns`` sets any other column (its grid, address, reporter, …).
        Built by position from a template (every imported row makes one: half the time of
        naming all 47 fields)."""
        values = _RECEIVED.copy()
        values[_REF] = ref
        values[_REPORTED_AT] = values[_STATUS_CHANGED_AT] = values[_UPDATED_AT] = at
        values[_CHANNEL] = channel
        values[_CATEGORY] = category
        values[_SEVERITY] = severity
        values[_COMPLEXITY] = complexity
        values[_DESCRIPTION] = description
        for name, value in columns.items():
            try:
                values[_POSITION[name]] = value
            except KeyError:
                raise TypeError(f"a case has no column {name!r}") from None
        return cls(*values)

    @classmethod
    def from_row(cls, row: Any) -> CaseState:
        m = row._mapping if hasattr(row, "_mapping") else row
        return cls(**{name: m[name] for name in CASE_FIELDS})

    def snapshot(self) -> tuple[Any, ...]:
        """A cheap, immutable record of every field, for ``restore`` after a refused change."""
        return _ALL_FIELDS(self)  # type: ignore[no-any-return]

    def restore(self, snap: tuple[Any, ...]) -> None:
        for f, v in zip(CASE_FIELDS, snap, strict=True):
            setattr(self, f, v)

    @property
    def overdue_tier_list(self) -> list[str]:
        return [t for t in self.overdue_tiers.split(",") if t]

    def add_overdue_tier(self, tier: str) -> None:
        tiers = self.overdue_tier_list
        if tier not in tiers:
            tiers.append(tier)
            self.overdue_tiers = ",".join(tiers)

    @property
    def code(self) -> str:
        """The human-facing case number (工单编号), derived from the report date and id."""
        return case_code(self.id, self.reported_at)


CASE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CaseState))
_ALL_FIELDS = attrgetter(*CASE_FIELDS)
_POSITION = {name: i for i, name in enumerate(CASE_FIELDS)}
#: a received case's values before its own are set: each field's default, else None
_RECEIVED: list[Any] = [None if f.default is MISSING else f.default for f in fields(CaseState)]
_RECEIVED[_POSITION["mode"]] = "normal"
_RECEIVED[_POSITION["status"]] = "received"
_REF, _REPORTED_AT, _STATUS_CHANGED_AT, _UPDATED_AT = (
    _POSITION[f] for f in ("ref", "reported_at", "status_changed_at", "updated_at")
)
_CHANNEL, _CATEGORY, _SEVERITY, _COMPLEXITY, _DESCRIPTION = (
    _POSITION[f] for f in ("channel", "category", "severity", "complexity", "description")
)


DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def case_code(case_id: int | None, reported_at: datetime, tz: ZoneInfo = DEFAULT_TZ) -> str:
    """GW + local report date + zero-padded id, e.g. GW2026112300000042."""
    d = reported_at.astimezone(tz)
    return f"GW{d.year:04d}{d.month:02d}{d.day:02d}{(case_id or 0):08d}"
