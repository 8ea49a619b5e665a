"""One case's whole history for the case page: its events, the stages they make, how long it
dwelt at each tier and with each unit, the reminders and warnings it got, revisits and ratings.

Read by primary key and by the event log's ``(case_id, seq)`` index: the same cost with a
hundred cases or millions.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from backend.core.errors import CaseNotFound
from backend.domain.events import EventType
from backend.domain.stages import Stage, stages_from_events
from backend.domain.vocabulary import TIER_ORDER
from backend.queries.cases import case_row, event_rows
from backend.queries.scope import Scope
from backend.queries.serialize import case_json, event_json


@dataclass(slots=True)
class Timeline:
    case: dict[str, Any]
    events: list[dict[str, Any]]
    stages: list[Stage]
    now: datetime
    #: tier → seconds the case spent there, over all its stages at that tier
    tier_dwell: dict[str, float] = field(default_factory=dict)
    #: unit → seconds, in the order the units first held it
    unit_dwell: dict[str, float] = field(default_factory=dict)

    @property
    def reminders(self) -> int:
        return sum(1 for e in self.events if e["type"] == EventType.REMINDED.value)

    @property
    def warnings(self) -> int:
        return sum(1 for e in self.events if e["type"] == EventType.WARNED.value)

    @property
    def revisits(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == EventType.REVISITED.value]

    @property
    def ratings(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == EventType.RATED.value]

    @property
    def last_seq(self) -> int:
        return max((e["seq"] for e in self.events), default=0)


def load_timeline(conn: Connection, case_id: int, now: datetime, *, scope: Scope) -> Timeline:
    """The case and its history; a case outside ``scope`` is not found, as if it did not exist."""
    row = case_row(conn, case_id, scope=scope)
    if row is None:
        raise CaseNotFound(case_id)
    raw = event_rows(conn, case_id, scope=scope)
    # in time order (the page lists them newest first): a command carries its own time, so
    # the log's order can put a step sent late after the clock's move that followed it
    events = sorted(
        (event_json(e) | {"at_dt": e["at"]} for e in raw), key=lambda e: (e["at_dt"], e["seq"])
    )
    stages = stages_from_events(raw)
    tl = Timeline(case_json(row), events, stages, now)
    tiers: dict[str, float] = {t.value: 0.0 for t in TIER_ORDER}
    units: OrderedDict[str, float] = OrderedDict()
    for s in stages:
        d = s.dwell(now)
        tiers[s.tier] = tiers.get(s.tier, 0.0) + d
        units[s.unit] = units.get(s.unit, 0.0) + d
    tl.tier_dwell = {k: v for k, v in tiers.items() if v or any(s.tier == k for s in stages)}
    tl.unit_dwell = dict(units)
    return tl
