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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.domain.vocabulary import EventType

#: Events that hand the case to a unit with a fresh allowance: a new stage begins.
STAGE_STARTS = frozenset(
    {
        EventType.DISPATCHED.value,
        EventType.ESCALATED.value,
        EventType.REASSIGNED.value,
        EventType.CONSULTATION.value,
        EventType.REOPENED.value,
    }
)

# How a stage ended.
COMPLETED = "completed"  # resolved at this unit (办结)
OVERDUE = "overdue"  # the deadline passed and the clock moved it up (自动跳级)
ESCALATED = "escalated"  # moved up by hand or at the handler's request
REASSIGNED = "reassigned"
CONSULTATION = "consultation"
CANCELLED = "cancelled"
OPEN = "open"  # still with the unit
END_KINDS = (COMPLETED, OVERDUE, ESCALATED, REASSIGNED, CONSULTATION, CANCELLED, OPEN)

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
    end_kind: str = OPEN
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


def _kind_for_handover(stage: Stage, event: Mapping[str, Any]) -> str:
    etype = event["type"]
    if etype == EventType.ESCALATED.value:
        data = event.get("data") or {}
        by_clock = event.get("actor") == "clock" or data.get("by") == "clock"
        return OVERDUE if by_clock else ESCALATED
    if etype == EventType.REASSIGNED.value:
        return REASSIGNED
    if etype == EventType.CONSULTATION.value:
        return CONSULTATION
    return REASSIGNED  # a repeated dispatch: the case went elsewhere


def stages_from_events(events: Iterable[Any]) -> list[Stage]:
    """The stages of one case from its events, in ``seq`` order."""
    stages: list[Stage] = []
    current: Stage | None = None
    for e in events:
        etype = e["type"]
        at = e["at"]
        if etype in STAGE_STARTS:
            if current is not None and current.ended_at is None:
                _end(current, at, _kind_for_handover(current, e))
            if current is not None:
                current.next_tier = e["to_tier"]
            current = Stage(
                no=len(stages) + 1,
                tier=e["to_tier"] or "",
                unit=e["to_unit"] or "",
                started_at=at,
                start_event=etype,
                reason=e.get("reason"),
            )
            stages.append(current)
            continue
        if current is None or current.ended_at is not None:
            continue
        if etype == EventType.RESOLVED.value:
            _end(current, at, COMPLETED)
        elif etype == EventType.CANCELLED.value:
            _end(current, at, CANCELLED)
        elif etype == EventType.OVERDUE.value:
            if current.overdue_at is None:
                current.overdue_at = at
        elif etype == EventType.REMINDED.value:
            current.reminders += 1
        elif etype == EventType.WARNED.value:
            current.warnings += 1
    return stages
