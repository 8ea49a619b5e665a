"""The photos reports brought, for staff (API key); citizens see their own on the tracking
page (``qr.py``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from backend.api.deps import ApiClient, RowId, SystemDep
from backend.api.responses import photo_response
from backend.intake import store

router = APIRouter(prefix="/photos", tags=["intake"])


@router.get("/{photo_id}")
def get_photo(photo_id: RowId, client: ApiClient, system: SystemDep) -> Response:
    with system.db.connect() as conn:
        p = store.photo(conn, photo_id)
    if p is None:
        raise HTTPException(404, f"no photo {photo_id}")
    return photo_response(p)
