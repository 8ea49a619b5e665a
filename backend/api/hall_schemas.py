"""The halls' request bodies as pydantic models, for the OpenAPI description. Like
backend/api/schemas.py they document; the validators (backend/halls/events.py, the routes)
decide and say what is wrong per field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal[
    "staff_arrived",
    "staff_left",
    "zone_count",
    "gathering",
    "staff_distracted",
    "ticket_taken",
    "ticket_called",
    "ticket_served",
    "camera_heartbeat",
    "camera_offline",
    "rating",
]


class HallEventIn(BaseModel):
    """One event of a hall system. ``window`` is required for staff, call, serve and rating
    events; the other fields belong to the types named in their descriptions."""

    model_config = ConfigDict(extra="forbid", title="HallEvent")

    id: str = Field(max_length=64, description="the sender's id: a repeat is skipped")
    hall: str = Field(max_length=32, description="the hall's code (GET /api/v1/halls)")
    window: str | None = Field(default=None, max_length=16, description="the window's code")
    type: EventType
    at: datetime = Field(description="when it happened, ISO 8601 with offset; not in the future")
    snapshot: str | None = Field(
        default=None, max_length=500, description="a camera snapshot's http(s) address"
    )
    staff: str | None = Field(default=None, max_length=48, description="staff_*, rating")
    reason: Literal["break", "off", "other"] | None = Field(default=None, description="staff_left")
    zone: str | None = Field(default=None, max_length=32, description="zone_count, gathering")
    count: int | None = Field(default=None, ge=0, description="zone_count, gathering: people")
    kind: Literal["phone", "asleep", "away"] | None = Field(
        default=None, description="staff_distracted"
    )
    ticket: str | None = Field(default=None, max_length=32, description="ticket_*, rating")
    service: str | None = Field(default=None, max_length=64, description="ticket_taken: 事项")
    camera: str | None = Field(default=None, max_length=48, description="camera_*")
    value: (
        Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"] | None
    ) = Field(default=None, description="rating: 好差评, best first")
    comment: str | None = Field(default=None, max_length=500, description="rating")


class HallEventBatch(BaseModel):
    """``POST /api/v1/halls/events``: up to 500 events, checked whole (one bad event refuses
    the batch with a reason per field, nothing applied)."""

    model_config = ConfigDict(extra="forbid", title="HallEventBatch")

    events: list[HallEventIn] = Field(min_length=1, max_length=500)


class AlertAction(BaseModel):
    """Acknowledge or resolve an alert: a note (whom you phoned, what was done) and who acts."""

    model_config = ConfigDict(extra="forbid", title="AlertAction")

    note: str = Field(min_length=1, max_length=500)
    by: str | None = Field(
        default=None, max_length=64, description="the person acting (default: the integration)"
    )


class NewSilence(BaseModel):
    """A planned closure: no alerts of ``rule`` (all, if not given) for the hall (window)."""

    model_config = ConfigDict(extra="forbid", title="NewSilence")

    hall: str = Field(max_length=32)
    window: str | None = Field(default=None, max_length=16)
    rule: str | None = Field(default=None, max_length=32)
    starts: datetime
    ends: datetime
    reason: str = Field(min_length=1, max_length=500)
