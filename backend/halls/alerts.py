"""The alert lifecycle, in SQL: open → acknowledged (who, and a note) → resolved (by itself when
its condition clears, or by hand). Repeats of a condition are grouped into one alert; silences
keep planned closures quiet; an alert left unacknowledged is escalated every
``escalate_after_minutes`` along the pack's chain (township leader, then on). Every change is
appended to ``hall_alert_events``, which the database keeps append-only.

Each change is one guarded UPDATE (``WHERE state = …``), so the processor and a person acting
from the wall at the same moment cannot both win: the loser is told (409) or sees nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from backend.core.errors import GridwatchError
from backend.halls.rules import Condition, RulePack
from backend.store.models import hall_alert_events, hall_alerts, hall_silences

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATES = (OPEN, ACKNOWLEDGED, RESOLVED)
SYSTEM = "system"
#: last_seen_at is written again only after this long, so a standing alert costs no write a batch
SEEN_EVERY = timedelta(seconds=60)


class AlertNotFound(GridwatchError):
    """HTTP 404."""


class AlertConflict(GridwatchError):
    """The alert is not in a state that allows this (acknowledge a resolved alert). HTTP 409."""

    def __init__(self, alert_id: int, state: str, action: str) -> None:
        self.state = state
        super().__init__(f"alert {alert_id} is {state}: cannot {action} it")


@dataclass(slots=True)
class Changes:
    """What one pass changed: alert ids touched, and cases to open once committed."""

    alerts: set[int] = field(default_factory=set)
    cases: list[dict[str, Any]] = field(default_factory=list)


def log(
    conn: Connection,
    alert_id: int,
    at: datetime,
    kind: str,
    actor: str = SYSTEM,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(hall_alert_events).values(
            alert_id=alert_id, at=at, type=kind, actor=actor, note=note, data=data
        )
    )


def active_silences(conn: Connection, halls: Iterable[str], now: datetime) -> list[Any]:
    s = hall_silences
    return list(
        conn.execute(
            select(s).where(s.c.hall_code.in_(list(halls)), s.c.starts_at <= now, s.c.ends_at > now)
        )
    )


def silenced(c: Condition, silences: list[Any]) -> bool:
    return any(
        s.hall_code == c.hall
        and (s.window_code is None or s.window_code == c.window)
        and (s.rule is None or s.rule == c.rule)
        for s in silences
    )


def sync(
    conn: Connection,
    pack: RulePack,
    conditions: dict[str, list[Condition]],
    now: datetime,
    snapshots: dict[str, dict[str, list[Any]]] | None = None,
) -> Changes:
    """Bring the alerts of the halls in ``conditions`` in line with what holds now: open or
    regroup the new, resolve the cleared, escalate the unanswered."""
    changes = Changes()
    halls = list(conditions)
    if not halls:
        return changes
    a = hall_alerts
    standing = {
        r.key: r
        for r in conn.execute(select(a).where(a.c.hall_code.in_(halls), a.c.state != RESOLVED))
    }
    silences = active_silences(conn, halls, now)
    holding: set[str] = set()
    for hall, conds in conditions.items():
        for c in conds:
            if silenced(c, silences):
                continue
            holding.add(c.key)
            row = standing.get(c.key)
            if row is not None:
                if now - row.last_seen_at >= SEEN_EVERY:
                    conn.execute(update(a).where(a.c.id == row.id).values(last_seen_at=now))
                continue
            snap = _snapshot(snapshots or {}, hall, c.window)
            changes.alerts.add(_raise(conn, pack, c, now, snap))
    for key, row in standing.items():
        if key not in holding:
            done = conn.execute(
                update(a)
                .where(a.c.id == row.id, a.c.state != RESOLVED)
                .values(state=RESOLVED, resolved_at=now, resolved_by=SYSTEM)
            ).rowcount
            if done:
                log(conn, row.id, now, "resolved", note="condition cleared")
                changes.alerts.add(row.id)
    _escalate(conn, pack, halls, now, changes)
    return changes


def _snapshot(snaps: dict[str, dict[str, list[Any]]], hall: str, window: str | None) -> str | None:
    """The latest camera snapshot the video system sent for the window (else the hall)."""
    h = snaps.get(hall) or {}
    got = h.get(window or "") or h.get("")
    return str(got[0]) if got else None


def _raise(conn: Connection, pack: RulePack, c: Condition, now: datetime, snap: str | None) -> int:
    """A condition with no standing alert: reopen a recent one of the same key (a repeat), or
    open a new one."""
    a = hall_alerts
    since = now - timedelta(seconds=pack.group_seconds)
    recent = conn.execute(
        select(a.c.id, a.c.count.label("n"))
        .where(a.c.key == c.key, a.c.state == RESOLVED, a.c.resolved_at >= since)
        .where(a.c.resolved_by == SYSTEM)
        .order_by(a.c.resolved_at.desc())
        .limit(1)
    ).first()
    if recent is not None:
        conn.execute(
            update(a)
            .where(a.c.id == recent.id)
            .values(
                state=OPEN,
                count=recent.n + 1,
                last_seen_at=now,
                resolved_at=None,
                resolved_by=None,
                detail=c.detail,
                **({"snapshot_url": snap} if snap else {}),
            )
        )
        log(conn, recent.id, now, "repeated", data={"count": recent.n + 1, **c.detail})
        return int(recent.id)
    new_id = _inserted(
        conn,
        insert(a).values(
            key=c.key,
            rule=c.rule,
            hall_code=c.hall,
            window_code=c.window,
            state=OPEN,
            level=0,
            count=1,
            opened_at=now,
            last_seen_at=now,
            snapshot_url=snap,
            detail=c.detail,
        ),
    )
    log(conn, int(new_id), now, "opened", data=c.detail)
    return int(new_id)


def _escalate(
    conn: Connection, pack: RulePack, halls: list[str], now: datetime, changes: Changes
) -> None:
    a = hall_alerts
    due = now - timedelta(seconds=pack.escalate_after)
    rows = conn.execute(
        select(a).where(
            a.c.hall_code.in_(halls),
            a.c.state == OPEN,
            or_(
                and_(a.c.escalated_at.is_(None), a.c.opened_at <= due),
                a.c.escalated_at <= due,
            ),
        )
    ).all()
    chain: list[str] = pack.lifecycle["chain"]
    case_level = int(pack.cases.get("on_escalation_level") or 0)
    for r in rows:
        level = r.level + 1
        to = chain[min(level, len(chain)) - 1]
        detail = {**(r.detail or {}), "to": to}
        values: dict[str, Any] = {"level": level, "escalated_at": now, "detail": detail}
        wants_case = case_level and level >= case_level and r.case_ref is None
        if wants_case:
            values["case_ref"] = f"hall-alert-{r.id}"
        done = conn.execute(
            update(a).where(a.c.id == r.id, a.c.state == OPEN, a.c.level == r.level).values(values)
        ).rowcount
        if not done:
            continue
        log(conn, r.id, now, "escalated", data={"level": level, "to": to})
        changes.alerts.add(r.id)
        if wants_case:
            log(conn, r.id, now, "case_opened", data={"ref": values["case_ref"]})
            changes.cases.append(
                {"ref": values["case_ref"], "hall": r.hall_code, "rule": r.rule, "alert": r.id}
            )


# ---------------------------------------------------------------- a person's actions


def _get(conn: Connection, alert_id: int) -> Any:
    row = conn.execute(select(hall_alerts).where(hall_alerts.c.id == alert_id)).first()
    if row is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return row


def acknowledge(conn: Connection, alert_id: int, who: str, note: str, now: datetime) -> None:
    """Someone answers an open alert (and says whom they phoned); escalation stops."""
    row = _get(conn, alert_id)
    a = hall_alerts
    done = conn.execute(
        update(a)
        .where(a.c.id == alert_id, a.c.state == OPEN)
        .values(state=ACKNOWLEDGED, acked_at=now, acked_by=who, note=note)
    ).rowcount
    if not done:
        raise AlertConflict(alert_id, row.state, "acknowledge")
    log(conn, alert_id, now, "acknowledged", actor=who, note=note)


def resolve(
    conn: Connection, alert_id: int, who: str, note: str, now: datetime, pack: RulePack
) -> None:
    """Resolve by hand; the same subject then rests (a silence) for the pack's quiet time, so
    a condition still holding does not reopen it at once."""
    row = _get(conn, alert_id)
    a = hall_alerts
    done = conn.execute(
        update(a)
        .where(a.c.id == alert_id, a.c.state != RESOLVED)
        .values(state=RESOLVED, resolved_at=now, resolved_by=who, note=note or row.note)
    ).rowcount
    if not done:
        raise AlertConflict(alert_id, row.state, "resolve")
    log(conn, alert_id, now, "resolved", actor=who, note=note)
    add_silence(
        conn,
        hall=row.hall_code,
        window=row.window_code,
        rule=row.rule,
        starts=now,
        ends=now + timedelta(seconds=pack.quiet_seconds),
        reason=f"resolved by hand: {note}"[:500],
        who=who,
    )


def add_silence(
    conn: Connection,
    *,
    hall: str,
    window: str | None,
    rule: str | None,
    starts: datetime,
    ends: datetime,
    reason: str,
    who: str,
) -> int:
    """A planned closure (or a rest after a hand resolution): no alert of ``rule`` (any, when
    None) for the hall (window) between ``starts`` and ``ends``."""
    return _inserted(
        conn,
        insert(hall_silences).values(
            hall_code=hall,
            window_code=window,
            rule=rule,
            starts_at=starts,
            ends_at=ends,
            reason=reason,
            created_by=who,
        ),
    )


def _inserted(conn: Connection, stmt: Any) -> int:
    key = conn.execute(stmt).inserted_primary_key
    assert key is not None
    return int(key[0])
