"""Helpers of the hall tests: halls loaded beside the small city, events built tersely."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from backend.halls.events import HallEvent
from backend.halls.generator import generate_halls
from backend.halls.model import HallData
from backend.halls.store import load_halls_into
from backend.refdata.model import CityData
from backend.system import System

_ids = itertools.count(1)


def load_halls(system: System, city: CityData) -> HallData:
    data = generate_halls(city, "small")
    with system.db.begin() as conn:
        load_halls_into(conn, data)
    system.__dict__.pop("halls", None)
    return data


def ev(hall: str, kind: str, at: datetime, window: str | None = None, **data: Any) -> HallEvent:
    """An event with a fresh id (``id=`` to choose one)."""
    eid = str(data.pop("id", f"e{next(_ids)}"))
    snapshot = data.pop("snapshot", None)
    return HallEvent(eid, hall, kind, at, window, snapshot, data)


def wire(e: HallEvent) -> dict[str, Any]:
    """The event as a hall system sends it."""
    body: dict[str, Any] = {"id": e.id, "hall": e.hall, "type": e.type, "at": e.at.isoformat()}
    if e.window is not None:
        body["window"] = e.window
    if e.snapshot is not None:
        body["snapshot"] = e.snapshot
    body.update(e.data)
    return body
