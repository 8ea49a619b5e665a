"""Photos a handler sends with a resolution: kept in SQL beside the case, checked like the
citizen's (``photos.check_photos``), served only to those who may see the case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select

from backend.intake.photos import Photo
from backend.store.models import resolution_photos


def insert_resolution_photos(
    conn: Connection, case_id: int, actor: str, photos: list[Photo], now: datetime
) -> None:
    if photos:
        conn.execute(
            insert(resolution_photos),
            [
                {
                    "case_id": case_id,
                    "actor": actor,
                    "content_type": p.content_type,
                    "size": len(p.data),
                    "sha256": p.sha256,
                    "data": p.data,
                    "created_at": now,
                }
                for p in photos
            ],
        )


def resolution_photo_ids(conn: Connection, case_id: int) -> list[int]:
    return list(
        conn.execute(
            select(resolution_photos.c.id)
            .where(resolution_photos.c.case_id == case_id)
            .order_by(resolution_photos.c.id)
        ).scalars()
    )


def resolution_photo(conn: Connection, photo_id: int) -> RowMapping | None:
    return (
        conn.execute(select(resolution_photos).where(resolution_photos.c.id == photo_id))
        .mappings()
        .first()
    )
