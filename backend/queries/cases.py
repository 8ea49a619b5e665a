"""One case by id, and its event log, as rows and as the JSON the API answers with.

Read by primary key and by the event log's ``(case_id, seq)`` index; a case outside the
caller's scope is not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from backend.core.errors import CaseNotFound
from backend.queries.scope import Scope
from backend.queries.serialize import case_json, event_json
from backend.store.models import case_events, cases


def case_row(conn: Connection, case_id: int, *, scope: Scope) -> RowMapping | None:
    """The case's row, or None when there is no such case in ``scope``."""
    return (
        conn.execute(select(cases).where(cases.c.id == case_id, scope.clause(cases)))
        .mappings()
        .first()
    )


def case_by_id(conn: Connection, case_id: int, *, scope: Scope) -> dict[str, Any]:
    """The case as JSON (``serialize.case_json``); CaseNotFound (HTTP 404) if not in scope."""
    row = case_row(conn, case_id, scope=scope)
    if row is None:
        raise CaseNotFound(case_id)
    return case_json(row)


def event_rows(conn: Connection, case_id: int, *, scope: Scope) -> Sequence[RowMapping]:
    """The case's event log in order (empty when the case is not in ``scope``)."""
    return (
        conn.execute(
            select(case_events)
            .join_from(case_events, cases, cases.c.id == case_events.c.case_id)
            .where(case_events.c.case_id == case_id, scope.clause(cases))
            .order_by(case_events.c.seq)
        )
        .mappings()
        .all()
    )


def case_events_json(conn: Connection, case_id: int, *, scope: Scope) -> list[dict[str, Any]]:
    """The case's event log as JSON (``serialize.event_json``), oldest first."""
    return [event_json(e) for e in event_rows(conn, case_id, scope=scope)]
