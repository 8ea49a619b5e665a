"""Hall events: what the hall systems send (badge/face attendance, video analytics, the queue
machine, camera heartbeats, the 好差评 rating device), checked field by field.

Wire form (``POST /api/v1/halls/events``)::

    {"events": [{"id": "att-1", "hall": "H361102001", "window": "03", "type": "staff_arrived",
                 "at": "2026-11-23T08:29:10+08:00", "staff": "H361102001-03-1"}, …]}

A batch is checked whole: one bad event refuses the batch, with a reason per field
(``events[3].window``), and nothing is applied. The same ``id`` sent again is recognised and
skipped by the processor, so a hall system may resend a batch it is unsure of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from backend.core.errors import CommandInvalid
from backend.halls.model import HallData

EVENT_TYPES: tuple[str, ...] = (
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
)
#: Types that are about one window, which they must name.
WINDOW_TYPES = frozenset(
    {"staff_arrived", "staff_left", "staff_distracted", "ticket_called", "ticket_served", "rating"}
)
#: 好差评: the rating device's five answers, best first.
RATINGS: tuple[str, ...] = (
    "very_satisfied",
    "satisfied",
    "basic",
    "dissatisfied",
    "very_dissatisfied",
)
LEAVE_REASONS: tuple[str, ...] = ("break", "off", "other")
DISTRACTIONS: tuple[str, ...] = ("phone", "asleep", "away")
#: A sender's clock may run a little ahead; more than this is "a time in the future".
CLOCK_SKEW = timedelta(seconds=60)
#: Older events are refused: a hall day is replayed within a week, not later.
MAX_AGE = timedelta(days=7)
MAX_BATCH = 500
#: The fields each type may carry besides the common ones (id, hall, window, type, at, snapshot).
FIELDS: dict[str, frozenset[str]] = {
    "staff_arrived": frozenset({"staff"}),
    "staff_left": frozenset({"staff", "reason"}),
    "zone_count": frozenset({"zone", "count"}),
    "gathering": frozenset({"zone", "count"}),
    "staff_distracted": frozenset({"staff", "kind"}),
    "ticket_taken": frozenset({"ticket", "service"}),
    "ticket_called": frozenset({"ticket"}),
    "ticket_served": frozenset({"ticket"}),
    "camera_heartbeat": frozenset({"camera"}),
    "camera_offline": frozenset({"camera"}),
    "rating": frozenset({"value", "staff", "ticket", "comment"}),
}
COMMON = frozenset({"id", "hall", "window", "type", "at", "snapshot"})


@dataclass(slots=True)
class HallEvent:
    """One checked event; ``data`` holds the type's own fields."""

    id: str
    hall: str
    type: str
    at: datetime
    window: str | None = None
    snapshot: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "id": self.id,
            "hall": self.hall,
            "type": self.type,
            "at": self.at.isoformat(),
        }
        if self.window is not None:
            body["window"] = self.window
        if self.snapshot is not None:
            body["snapshot"] = self.snapshot
        body.update(self.data)
        return orjson.dumps(body)


def _text(v: object, limit: int) -> bool:
    return isinstance(v, str) and 0 < len(v) <= limit and "\x00" not in v


def _count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100_000


def check_event(
    raw: object, halls: HallData, now: datetime, errors: dict[str, str], where: str = ""
) -> HallEvent | None:
    """One event, checked; its problems go into ``errors`` under ``where`` + field."""
    if not isinstance(raw, dict):
        errors[where.rstrip(".") or "event"] = "must be a JSON object"
        return None
    before = len(errors)

    def bad(name: str, message: str) -> None:
        errors[f"{where}{name}"] = message

    eid, hall, kind, window = raw.get("id"), raw.get("hall"), raw.get("type"), raw.get("window")
    if not _text(eid, 64):
        bad("id", "required, a text of at most 64 characters")
    if kind not in EVENT_TYPES:
        bad("type", "one of " + ", ".join(EVENT_TYPES))
    if not _text(hall, 32) or halls.hall(str(hall)) is None:
        bad("hall", f"unknown hall {hall!r}")
    elif window is not None and (
        not _text(window, 16) or halls.window(str(hall), str(window)) is None
    ):
        bad("window", f"hall {hall} has no window {window!r}")
    elif window is None and kind in WINDOW_TYPES:
        bad("window", f"required for {kind}")
    at: datetime | None = None
    try:
        at = datetime.fromisoformat(raw["at"])
        if at.tzinfo is None:
            bad("at", "needs a timezone offset")
        elif at > now + CLOCK_SKEW:
            bad("at", f"in the future (now is {now.isoformat()})")
        elif at < now - MAX_AGE:
            bad("at", "more than 7 days ago")
    except (KeyError, TypeError, ValueError):
        bad("at", "required, an ISO 8601 time with offset")
    snapshot = raw.get("snapshot")
    if snapshot is not None and (
        not _text(snapshot, 500) or not str(snapshot).startswith(("http://", "https://"))
    ):
        bad("snapshot", "an http(s) address of at most 500 characters")
    data: dict[str, Any] = {}
    if kind in FIELDS:
        for name in sorted(set(raw) - COMMON - FIELDS[kind]):
            bad(name, f"unknown field for {kind}")
        data = {k: raw[k] for k in FIELDS[kind] if raw.get(k) is not None}
        _check_fields(kind, data, bad)
    if len(errors) > before:
        return None
    assert isinstance(eid, str) and isinstance(hall, str) and isinstance(kind, str) and at
    return HallEvent(eid, hall, kind, at, window, snapshot, data)


def _check_fields(kind: str, data: dict[str, Any], bad: Any) -> None:
    if kind in ("staff_arrived", "staff_left") and not _text(data.get("staff"), 48):
        bad("staff", "required, the staff id (badge or face match)")
    if kind == "staff_left" and data.get("reason", "other") not in LEAVE_REASONS:
        bad("reason", "one of " + ", ".join(LEAVE_REASONS))
    if kind in ("zone_count", "gathering") and not _count(data.get("count")):
        bad("count", "required, a whole number of people from 0")
    if "zone" in data and not _text(data["zone"], 32):
        bad("zone", "a text of at most 32 characters")
    if kind == "staff_distracted" and data.get("kind") not in DISTRACTIONS:
        bad("kind", "one of " + ", ".join(DISTRACTIONS))
    if kind.startswith("ticket_") and not _text(data.get("ticket"), 32):
        bad("ticket", "required, the ticket number")
    if kind.startswith("camera_") and not _text(data.get("camera"), 48):
        bad("camera", "required, the camera's id")
    if kind == "rating" and data.get("value") not in RATINGS:
        bad("value", "one of " + ", ".join(RATINGS))
    for name, limit in (("service", 64), ("comment", 500), ("staff", 48), ("ticket", 32)):
        if name in data and not _text(data[name], limit):
            bad(name, f"a text of at most {limit} characters")


def check_batch(body: object, halls: HallData, now: datetime) -> list[HallEvent]:
    """A whole batch, or CommandInvalid naming every bad field of every bad event."""
    if not isinstance(body, dict):
        raise CommandInvalid({"body": "must be a JSON object with 'events'"})
    errors: dict[str, str] = {}
    for name in sorted(set(body) - {"events"}):
        errors[name] = "unknown field"
    events = body.get("events")
    if not isinstance(events, list) or not events:
        errors["events"] = "required, a non-empty list of events"
    elif len(events) > MAX_BATCH:
        errors["events"] = f"at most {MAX_BATCH} events in one batch"
    if errors:
        raise CommandInvalid(errors)
    assert isinstance(events, list)
    out = [check_event(e, halls, now, errors, f"events[{i}].") for i, e in enumerate(events)]
    if errors:
        raise CommandInvalid(errors)
    return [e for e in out if e is not None]


def parse_event(raw: bytes) -> HallEvent:
    """An event as it travels on the stream (already checked at the door): decode it."""
    body = orjson.loads(raw)
    data = {k: v for k, v in body.items() if k not in COMMON}
    return HallEvent(
        id=body["id"],
        hall=body["hall"],
        type=body["type"],
        at=datetime.fromisoformat(body["at"]),
        window=body.get("window"),
        snapshot=body.get("snapshot"),
        data=data,
    )
