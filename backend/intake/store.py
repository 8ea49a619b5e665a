"""SQL of the intake tables: reports (every one kept) and their photos."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from backend.intake.photos import Photo
from backend.store.models import case_reports, report_photos


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idem_digest(key: str) -> str:
    """The stored form of an idempotency key: fixed length, whatever the sender sent."""
    return hashlib.sha256(key.encode()).hexdigest()


def report_by_idem(conn: Connection, digest: str) -> RowMapping | None:
    return (
        conn.execute(select(case_reports).where(case_reports.c.idem_key == digest))
        .mappings()
        .first()
    )


def first_report_of(conn: Connection, case_id: int) -> int:
    """The id of the report that opened a case (0 for a case no report opened: imported)."""
    found = conn.execute(
        select(case_reports.c.id)
        .where(case_reports.c.case_id == case_id)
        .order_by(case_reports.c.id)
        .limit(1)
    ).scalar()
    return int(found) if found is not None else 0


def insert_report(conn: Connection, values: dict[str, Any]) -> int:
    res = conn.execute(insert(case_reports).values(**values).returning(case_reports.c.id))
    return int(res.scalar_one())


def insert_photos(conn: Connection, report_id: int, photos: list[Photo], now: datetime) -> None:
    if photos:
        conn.execute(
            insert(report_photos),
            [
                {
                    "report_id": report_id,
                    "content_type": p.content_type,
                    "size": len(p.data),
                    "sha256": p.sha256,
                    "data": p.data,
                    "created_at": now,
                }
                for p in photos
            ],
        )


def report_by_token(conn: Connection, token: str) -> RowMapping | None:
    if not token or len(token) > 64:
        return None
    return (
        conn.execute(select(case_reports).where(case_reports.c.token_hash == token_digest(token)))
        .mappings()
        .first()
    )


def report_by_id(conn: Connection, report_id: int) -> RowMapping | None:
    return (
        conn.execute(select(case_reports).where(case_reports.c.id == report_id)).mappings().first()
    )


def reports_of_case(conn: Connection, case_id: int) -> list[RowMapping]:
    return list(
        conn.execute(
            select(case_reports)
            .where(case_reports.c.case_id == case_id)
            .order_by(case_reports.c.id)
        ).mappings()
    )


def photo_ids(conn: Connection, report_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {r: [] for r in report_ids}
    if report_ids:
        rows = conn.execute(
            select(report_photos.c.report_id, report_photos.c.id)
            .where(report_photos.c.report_id.in_(report_ids))
            .order_by(report_photos.c.id)
        )
        for rid, pid in rows:
            out[rid].append(pid)
    return out


def photo(conn: Connection, photo_id: int) -> RowMapping | None:
    return (
        conn.execute(select(report_photos).where(report_photos.c.id == photo_id)).mappings().first()
    )


def _waiting(stale_before: datetime) -> Any:
    """Reports that wait for a person: queued for triage, or interrupted on their way (still
    receiving, or being decided, since before ``stale_before``)."""
    from sqlalchemy import and_, func, or_

    return or_(
        case_reports.c.state == "triage",
        and_(case_reports.c.state == "receiving", case_reports.c.received_at < stale_before),
        and_(
            case_reports.c.state == "deciding",
            func.coalesce(case_reports.c.decided_at, case_reports.c.received_at) < stale_before,
        ),
    )


def claim_triage(
    conn: Connection, report_id: int, by: str, now: datetime, stale_before: datetime
) -> bool:
    """Take a waiting report for a decision; False when another person got there first."""
    res = conn.execute(
        update(case_reports)
        .where(case_reports.c.id == report_id, _waiting(stale_before))
        .values(state="deciding", decided_by=by[:64], decided_at=now)
    )
    return res.rowcount == 1


def delete_report(conn: Connection, report_id: int) -> None:
    """Take back a report that was refused before it became anything."""
    from sqlalchemy import delete

    conn.execute(delete(report_photos).where(report_photos.c.report_id == report_id))
    conn.execute(delete(case_reports).where(case_reports.c.id == report_id))


def case_by_ref(conn: Connection, ref: str) -> int | None:
    from backend.store.models import cases

    found = conn.execute(select(cases.c.id).where(cases.c.ref == ref)).scalar()
    return int(found) if found is not None else None


def set_state(conn: Connection, report_id: int, **values: Any) -> None:
    conn.execute(update(case_reports).where(case_reports.c.id == report_id).values(**values))


def triage_queue(
    conn: Connection, limit: int, offset: int, stale_before: datetime
) -> tuple[int, list[RowMapping]]:
    from sqlalchemy import func

    where = _waiting(stale_before)
    total = conn.execute(select(func.count()).select_from(case_reports).where(where)).scalar_one()
    rows = conn.execute(
        select(case_reports).where(where).order_by(case_reports.c.id).limit(limit).offset(offset)
    ).mappings()
    return int(total), list(rows)


def report_json(r: RowMapping, photos: list[int] | None = None) -> dict[str, Any]:
    """A report as staff see it (never the token)."""
    return {
        "id": r["id"],
        "case_id": r["case_id"],
        "state": r["state"],
        "received_at": r["received_at"].isoformat(),
        "channel": r["channel"],
        "text": r["text"],
        "reporter": r["reporter"],
        "grid": r["grid_code"],
        "address": r["address"],
        "lat": r["lat"],
        "lon": r["lon"],
        "source_ref": r["source_ref"],
        "parse": r["parse"],
        "reason": r["reason"],
        "decided_at": r["decided_at"].isoformat() if r["decided_at"] else None,
        "decided_by": r["decided_by"],
        "photos": photos or [],
    }
