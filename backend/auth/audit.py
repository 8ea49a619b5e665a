"""The audit log: who signed in, who was refused, who acted, exported or read personal data.

Append-only (rows are inserted, never updated or deleted); written in the transaction of what
it records where there is one, so a record exists exactly when the thing happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from backend.store.models import audit_log

#: what the log records (the admin screen's filter, and the translation keys audit_<action>)
ACTIONS = (
    "login",
    "login_refused",
    "logout",
    "user_created",
    "password_reset",
    "user_disabled",
    "user_enabled",
    "export",
    "key_created",
    "key_revoked",
    "personal_view",  # a reporter's name and phone shown in full (the handler's case page)
)


def record(
    conn: Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    assert action in ACTIONS, action
    conn.execute(
        insert(audit_log).values(
            at=at,
            actor=actor[:64],
            action=action,
            target=(target or None) and target[:100],
            ip=ip,
            detail=detail or None,
        )
    )


def recent(
    conn: Connection, limit: int = 200, actor: str | None = None, action: str | None = None
) -> list[Any]:
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action == action)
    return list(conn.execute(q).mappings())
