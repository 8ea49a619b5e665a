"""The halls' read side: every hall and window with its live state, and the alerts, for the
API, the hall wall and the hall page. Scoped like every query (a township sees its hall)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from backend.deadlines.workcalendar import WorkCalendar
from backend.halls.alerts import RESOLVED, STATES
from backend.halls.hours import is_open
from backend.halls.model import HallData
from backend.halls.state import STAFFED, VACANT, HallState
from backend.queries.scope import Scope
from backend.store.models import hall_alert_events, hall_alerts, hall_events, hall_state, halls

#: The most alerts a list answers with.
ALERT_LIMIT = 500


def hall_codes(conn: Connection, scope: Scope) -> list[str]:
    return list(
        conn.execute(select(halls.c.code).where(scope.clause(halls)).order_by(halls.c.code))
        .scalars()
        .all()
    )


def _states(conn: Connection, codes: list[str]) -> dict[str, HallState]:
    rows = conn.execute(
        select(hall_state.c.hall_code, hall_state.c.data).where(hall_state.c.hall_code.in_(codes))
    )
    return {code: HallState.from_json(data) for code, data in rows}


def halls_view(
    conn: Connection,
    data: HallData,
    now: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    scope: Scope,
    only: str | None = None,
    among: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Every hall in scope (or just ``only``, or those ``among`` the codes given) with its
    windows' live state and open alerts."""
    codes = hall_codes(conn, scope)
    if only is not None:
        codes = [c for c in codes if c == only]
    if among is not None:
        codes = [c for c in codes if c in among]
    if not codes:
        return []
    states = _states(conn, codes)
    open_alerts = open_alert_counts(conn, codes)
    t = now.timestamp()
    out = []
    for code in codes:
        hall = data.hall(code)
        if hall is None:
            continue
        s = states.get(code) or HallState(code)
        today = s.day == now.astimezone(tz).date().isoformat()
        windows = []
        for w in data.windows_of(code):
            ws = s.windows.get(w.code)
            mean, _ = s.average_wait(t, w.code) if today else (0.0, 0)
            windows.append(
                {
                    "code": w.code,
                    "name": w.name,
                    "services": list(w.services),
                    "status": ws.status if ws else VACANT,
                    "since": _iso(ws.since if ws else None),
                    "staff": sorted(ws.present) if ws else [],
                    "queue": s.queue(w.code) if today else 0,
                    "wait_minutes": round(mean / 60, 1),
                    "served": (ws.served if ws else 0) if today else 0,
                    "distracted": (ws.distracted[1] if ws and ws.distracted else None),
                }
            )
        staffed = sum(1 for w in windows if w["status"] == STAFFED)
        mean, _ = s.average_wait(t) if today else (0.0, 0)
        out.append(
            {
                "code": code,
                "name": hall.name,
                "kind": hall.kind,
                "township_code": hall.township_code,
                "hours": hall.hours,
                "open": is_open(hall, now, calendar, tz),
                "windows": windows,
                "staffed": staffed,
                "on_post_rate": round(staffed / len(windows), 3) if windows else None,
                "queue": s.queue() if today else 0,
                "wait_minutes": round(mean / 60, 1),
                "gathering": int(s.gathering[0]),
                "cameras": {
                    cam: {"last": _iso(c.get("last")), "offline": _iso(c.get("offline"))}
                    for cam, c in sorted(s.cameras.items())
                },
                "open_alerts": int(open_alerts.get(code, 0)),
            }
        )
    return out


def open_alert_counts(conn: Connection, codes: list[str]) -> dict[str, int]:
    """Unresolved alerts per hall, of the halls ``codes`` (those with none are left out)."""
    a = hall_alerts
    return {
        code: int(n)
        for code, n in conn.execute(
            select(a.c.hall_code, func.count())
            .where(a.c.hall_code.in_(codes), a.c.state != RESOLVED)
            .group_by(a.c.hall_code)
        ).all()
    }


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


def alert_rows(
    conn: Connection,
    now: datetime,
    *,
    scope: Scope,
    hall: str | None = None,
    state: str | None = None,
    unresolved: bool = False,
    limit: int = ALERT_LIMIT,
) -> list[dict[str, Any]]:
    """Alerts newest first, with their age in minutes; ``unresolved`` for open and acknowledged."""
    a = hall_alerts
    q = (
        select(a, halls.c.name.label("hall_name"))
        .join(halls, halls.c.code == a.c.hall_code)
        .where(scope.clause(halls))
    )
    if hall is not None:
        q = q.where(a.c.hall_code == hall)
    if state is not None:
        q = q.where(a.c.state == state)
    if unresolved:
        q = q.where(a.c.state != RESOLVED)
    rows = conn.execute(q.order_by(a.c.opened_at.desc(), a.c.id.desc()).limit(limit)).all()
    return [alert_json(r, now) for r in rows]


def alert_json(r: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "rule": r.rule,
        "hall": r.hall_code,
        "hall_name": r.hall_name,
        "window": r.window_code,
        "state": r.state,
        "level": r.level,
        "count": r.count,
        "opened_at": r.opened_at.isoformat(),
        "age_minutes": int((now - r.opened_at).total_seconds() // 60),
        "escalated_at": r.escalated_at.isoformat() if r.escalated_at else None,
        "acked_at": r.acked_at.isoformat() if r.acked_at else None,
        "acked_by": r.acked_by,
        "note": r.note,
        "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        "resolved_by": r.resolved_by,
        "case_ref": r.case_ref,
        "snapshot_url": r.snapshot_url,
        "detail": r.detail or {},
    }


def one_alert(conn: Connection, alert_id: int, now: datetime, *, scope: Scope) -> dict[str, Any]:
    """An alert with its whole log; KeyError when there is none in scope."""
    a = hall_alerts
    row = conn.execute(
        select(a, halls.c.name.label("hall_name"))
        .join(halls, halls.c.code == a.c.hall_code)
        .where(a.c.id == alert_id, scope.clause(halls))
    ).first()
    if row is None:
        raise KeyError(alert_id)
    out = alert_json(row, now)
    e = hall_alert_events
    out["log"] = [
        {"at": r.at.isoformat(), "type": r.type, "actor": r.actor, "note": r.note, "data": r.data}
        for r in conn.execute(select(e).where(e.c.alert_id == alert_id).order_by(e.c.id))
    ]
    return out


def hall_day(conn: Connection, hall: str, start: datetime, end: datetime) -> dict[str, Any]:
    """A hall's day: events by type, ratings (好差评) by value, alerts by rule."""
    ev = hall_events
    by_type: dict[str, int] = dict(
        conn.execute(
            select(ev.c.type, func.count())
            .where(ev.c.hall_code == hall, ev.c.at >= start, ev.c.at < end)
            .group_by(ev.c.type)
        ).all()
    )
    ratings: dict[str, int] = {}
    for (data,) in conn.execute(
        select(ev.c.data).where(
            ev.c.hall_code == hall, ev.c.type == "rating", ev.c.at >= start, ev.c.at < end
        )
    ):
        value = (data or {}).get("value")
        if value:
            ratings[value] = ratings.get(value, 0) + 1
    a = hall_alerts
    by_rule: dict[str, int] = dict(
        conn.execute(
            select(a.c.rule, func.count())
            .where(a.c.hall_code == hall, a.c.opened_at >= start, a.c.opened_at < end)
            .group_by(a.c.rule)
        ).all()
    )
    return {"events": by_type, "ratings": ratings, "alerts": by_rule}


__all__ = ["STATES", "alert_rows", "halls_view", "hall_day", "one_alert"]
