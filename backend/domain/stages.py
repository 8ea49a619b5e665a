"""Stages of a case, read from its event log: who held it, at which tier, from when to when,
and how the stage ended.

A *stage* starts whenever the case is handed to a unit with a fresh allowance (dispatched,
escalated, reassigned, sent to consultation, reopened) and ends when the next one starts, when
handling is completed (resolved) or when the case is cancelled. Everything the leader screens
say about dwell time, tier flows, escalations caused and overdue risk is counted from these,
so one function decides what a stage is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.domain.events import StageEffect, StageEnd, spec_of

#: Dwell-time bins: [0, 15 min), then geometric steps of 25% up to about 78 days, then the rest.
#: Shared by the histograms on screen and the risk model's survival tables.
BIN_BASE_HOURS = 0.25
BIN_RATIO = 1.25
BIN_COUNT = 42  # bins 0 … 41; bin 41 is open-ended


def bin_of(seconds: float) -> int:
    """The dwell bin of a duration."""
    hours = max(0.0, seconds) / 3600
    if hours < BIN_BASE_HOURS:
        return 0
    k = int(math.floor(math.log(hours / BIN_BASE_HOURS) / math.log(BIN_RATIO))) + 1
    return min(k, BIN_COUNT - 1)


def bin_edges_hours() -> list[float]:
    """Lower edge of every bin, in hours (bin ``i`` is ``[edges[i], edges[i+1])``)."""
    return [0.0] + [BIN_BASE_HOURS * BIN_RATIO ** (k - 1) for k in range(1, BIN_COUNT)]


@dataclass(slots=True)
class Stage:
    no: int
    tier: str
    unit: str
    started_at: datetime
    ended_at: datetime | None = None
    end_kind: str = StageEnd.OPEN
    next_tier: str | None = None
    overdue_at: datetime | None = None
    reminders: int = 0
    warnings: int = 0
    start_event: str = ""
    reason: str | None = None  # why it started (the handing-over event's reason)

    def dwell(self, now: datetime) -> float:
        """Seconds with the unit: until the stage ended, or until ``now`` if still open."""
        end = self.ended_at or now
        return max(0.0, (end - self.started_at).total_seconds())


def _end(stage: Stage, at: datetime, kind: str) -> None:
    stage.ended_at = at
    stage.end_kind = kind


# module constants: an enum member's look-up is slow on Python 3.11, and this runs per event
_START, _COMPLETE, _CANCEL = StageEffect.START, StageEffect.COMPLETE, StageEffect.CANCEL
_OVERDUE, _REMIND, _WARN = StageEffect.OVERDUE, StageEffect.REMIND, StageEffect.WARN
_COMPLETED, _CANCELLED = StageEnd.COMPLETED, StageEnd.CANCELLED


def stages_from_events(events: Iterable[Any]) -> list[Stage]:
    """The stages of one case from its events, in ``seq`` order. What each event does to a
    stage is its spec's ``stage`` effect; an event type without a spec is an error."""
    stages: list[Stage] = []
    current: Stage | None = None
    for e in events:
        spec = spec_of(e["type"])
        effect = spec.stage
        at = e["at"]
        if effect is _START:
            if current is not None and current.ended_at is None:
                assert spec.ends_open_stage is not None
                _end(current, at, spec.ends_open_stage(e))
            if current is not None:
                current.next_tier = e["to_tier"]
            current = Stage(
                no=len(stages) + 1,
                tier=e["to_tier"] or "",
                unit=e["to_unit"] or "",
                started_at=at,
                start_event=e["type"],
                reason=e.get("reason"),
            )
            stages.append(current)
            continue
        if current is None or current.ended_at is not None:
            continue
        if effect is _COMPLETE:
            _end(current, at, _COMPLETED)
        elif effect is _CANCEL:
            _end(current, at, _CANCELLED)
        elif effect is _OVERDUE:
            if current.overdue_at is None:
                current.overdue_at = at
        elif effect is _REMIND:
            current.reminders += 1
        elif effect is _WARN:
            current.warnings += 1
    return stages
