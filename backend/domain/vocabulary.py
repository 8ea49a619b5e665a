"""Domain vocabulary shared by every layer: tiers, statuses, channels, severities, colours.

Event types and what each means are in ``events``; actions in ``transitions``.

Plain ``StrEnum`` values so they serialise to the same strings in SQL, JSON and Redis.
"""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """The circles a case climbs: grid → township → department → county (层级/圈)."""

    GRID = "grid"
    TOWNSHIP = "township"
    DEPARTMENT = "department"
    COUNTY = "county"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)

    def next_up(self) -> Tier | None:
        """The tier above this one, or None at the top (county)."""
        i = self.rank + 1
        return TIER_ORDER[i] if i < len(TIER_ORDER) else None


TIER_ORDER: tuple[Tier, ...] = (Tier.GRID, Tier.TOWNSHIP, Tier.DEPARTMENT, Tier.COUNTY)


class Status(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    RESOLVED = "resolved"
    RATED = "rated"
    CLOSED = "closed"
    CANCELLED = "cancelled"


#: Statuses in which the case is still being handled (its deadline clock may run).
OPEN_STATUSES: frozenset[Status] = frozenset(
    {Status.RECEIVED, Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS, Status.PAUSED}
)
#: Statuses that count as 办结 (handling completed) in the report definitions.
COMPLETED_STATUSES: frozenset[Status] = frozenset({Status.RESOLVED, Status.RATED, Status.CLOSED})
#: The same sets as plain strings, as SQL, JSON and deltas carry them (sorted: stable SQL).
OPEN_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATUSES))
#: Open and not waiting for the citizen: the deadline clock runs, so the case can be overdue.
RUNNING_VALUES: tuple[str, ...] = tuple(v for v in OPEN_VALUES if v != Status.PAUSED.value)
COMPLETED_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in COMPLETED_STATUSES))
#: Statuses no action leaves (transitions.py: nothing is allowed from them): a case in one
#: changes no more, so what is kept in memory about live cases may let it go.
FINAL_VALUES: frozenset[str] = frozenset({Status.CLOSED.value, Status.CANCELLED.value})


class Channel(StrEnum):
    GRID_WORKER = "grid_worker"
    HOTLINE = "hotline"
    QR = "qr"
    WECHAT = "wechat"
    WALK_IN = "walk_in"
    APP = "app"
    OPEN311 = "open311"


class Severity(StrEnum):
    """General matters are handled where they arise; major and urgent ones go straight up."""

    GENERAL = "general"
    MAJOR = "major"
    URGENT = "urgent"


class Colour(StrEnum):
    """Deadline state, the same on every screen: green → yellow → orange → red."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


class Milestone(StrEnum):
    """What the clock fires next for a case."""

    REMINDER = "reminder"
    WARNING = "warning"
    DUE = "due"
