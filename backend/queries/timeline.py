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
from backend.intake import store
from backend.queries.cases import case_row, event_rows
from backend.queries.people import Person, people
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
    #: the staff among its handler and the actors of its events, by staff id (一员一号)
    staff: dict[str, Person] = field(default_factory=dict)
    #: the photos its reports brought (the first report's and each duplicate's), by id
    photos: list[int] = field(default_factory=list)

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
    tl.staff = people(conn, [row["holder"], *(e["actor"] for e in raw)])
    report_ids = [r["id"] for r in store.reports_of_case(conn, case_id)]
    tl.photos = [p for ids in store.photo_ids(conn, report_ids).values() for p in ids]
    return tl


def photo_of_case(conn: Connection, photo_id: int, *, scope: Scope) -> Any:
    """A photo, if the case its report belongs to is in ``scope`` (None otherwise)."""
    p = store.photo(conn, photo_id)
    if p is None:
        return None
    report = store.report_by_id(conn, p["report_id"])
    if report is None or report["case_id"] is None:
        return None
    return p if case_row(conn, report["case_id"], scope=scope) is not None else None
