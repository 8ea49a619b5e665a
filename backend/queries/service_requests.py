"""Open311's service requests: the cases a GeoReport client searches for, and the media URLs
their reports brought. The Open311 routes turn these rows into the specification's shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select

from backend.queries import rules
from backend.queries.scope import Scope
from backend.store.models import case_reports, cases


@dataclass(frozen=True, slots=True)
class RequestSearch:
    """Either ``ids`` (then nothing else applies), or a window of report times with optional
    categories and open/closed."""

    ids: tuple[int, ...] | None = None
    start: datetime | None = None  # reported in [start, end]
    end: datetime | None = None
    categories: tuple[str, ...] | None = None  # None: any; () matches none
    open: bool | None = None  # True: open cases only; False: closed only
    limit: int = 1000
    #: changed in (updated_after, updated_before]: what an incremental sync asks for
    updated_after: datetime | None = None
    updated_before: datetime | None = None


def find_requests(conn: Connection, search: RequestSearch, *, scope: Scope) -> Sequence[RowMapping]:
    """The matching cases, latest reported first, at most ``search.limit``."""
    q = select(cases).where(scope.clause(cases))
    if search.ids is not None:
        q = q.where(cases.c.id.in_(search.ids[: search.limit]))
    else:
        if search.start is not None:
            q = q.where(cases.c.reported_at >= search.start)
        if search.end is not None:
            q = q.where(cases.c.reported_at <= search.end)
        if search.updated_after is not None:
            q = q.where(cases.c.updated_at > search.updated_after)
        if search.updated_before is not None:
            q = q.where(cases.c.updated_at <= search.updated_before)
        if search.categories is not None:
            q = q.where(cases.c.category.in_(search.categories))
        if search.open is True:
            q = q.where(rules.is_open())
        elif search.open is False:
            q = q.where(~rules.is_open())
    q = q.order_by(cases.c.reported_at.desc()).limit(search.limit)
    return conn.execute(q).mappings().all()


def media_urls(conn: Connection, case_ids: list[int], *, scope: Scope) -> dict[int, str]:
    """The first media URL an Open311 report of each case brought, by case id."""
    out: dict[int, str] = {}
    if not case_ids:
        return out
    rows = conn.execute(
        select(case_reports.c.case_id, case_reports.c.parse)
        .join_from(case_reports, cases, cases.c.id == case_reports.c.case_id)
        .where(
            case_reports.c.case_id.in_(case_ids),
            case_reports.c.channel == "open311",
            scope.clause(cases),
        )
        .order_by(case_reports.c.id)
    )
    for cid, parse in rows:
        url = (parse or {}).get("media_url")
        if url and cid not in out:
            out[cid] = url
    return out
