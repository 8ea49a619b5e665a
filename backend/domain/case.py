"""The in-memory form of one case row, as the engine changes it within a batch."""

from __future__ import annotations

from dataclasses import dataclass, fields
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
        nowhere placed; ``columns`` sets any other column (its grid, address, reporter, …)."""
        fields: dict[str, Any] = {
            "id": None,
            "ref": ref,
            "reported_at": at,
            "channel": channel,
            "category": category,
            "severity": severity,
            "complexity": complexity,
            "mode": "normal",
            "grid_code": None,
            "township_code": None,
            "county_code": None,
            "address": None,
            "lat": None,
            "lon": None,
            "description": description,
            "reporter": None,
            "status": "received",
            "prev_status": None,
            "tier": None,
            "unit_code": None,
            "holder": None,
            "stage_started_at": None,
            "status_changed_at": at,
            "updated_at": at,
        }
        fields.update(columns)
        return cls(**fields)

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


DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def case_code(case_id: int | None, reported_at: datetime, tz: ZoneInfo = DEFAULT_TZ) -> str:
    """GW + local report date + zero-padded id, e.g. GW2026112300000042."""
    d = reported_at.astimezone(tz)
    return f"GW{d.year:04d}{d.month:02d}{d.day:02d}{(case_id or 0):08d}"
