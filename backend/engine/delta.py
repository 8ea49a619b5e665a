"""The delta: the compact, versioned form of a changed case that the engine publishes and
screens apply (idempotent: a delta older than what a screen holds changes nothing)."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from backend.domain.case import CaseState

#: Fields of a case that screens need to update themselves (a "delta").
DELTA_FIELDS = (
    "status",
    "tier",
    "unit_code",
    "colour",
    "township_code",
    "county_code",
    "grid_code",
    "category",
    "channel",
    "severity",
    "overdue_tiers",
    "escalations",
    "mode",
    "rating",
)

#: (key in the delta, field of the case) for everything a delta carries
_DELTA_PAIRS = (
    *((f, f) for f in DELTA_FIELDS),
    ("id", "id"),
    ("v", "version"),
    *((f, f) for f in ("reported_at", "due_at", "stage_started_at", "completed_at", "updated_at")),
)
_DELTA_KEYS = tuple(k for k, _ in _DELTA_PAIRS)
_DELTA_VALUES = attrgetter(*(f for _, f in _DELTA_PAIRS))


def delta(case: CaseState) -> dict[str, Any]:
    """The compact, idempotent (versioned) form of a changed case that screens apply.

    Datetimes stay datetimes: the publisher's JSON encoder writes them as RFC 3339.
    """
    return dict(zip(_DELTA_KEYS, _DELTA_VALUES(case), strict=True))
