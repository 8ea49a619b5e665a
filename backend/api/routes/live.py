"""Where a live subscriber starts (API key): the open cases as deltas, and the sequence
number they are current to."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from backend.api.deps import ApiClient, ScopeDep, SystemDep
from backend.queries.live import take_snapshot

router = APIRouter(prefix="/live", tags=["live"])


@router.get("/snapshot")
def live_snapshot(client: ApiClient, system: SystemDep, scope: ScopeDep) -> Response:
    """The open cases as live deltas, and the sequence number they are current to: where a
    subscriber starts, and what it reloads when it sees a gap in the sequence."""
    with system.db.connect() as conn:
        snap = take_snapshot(conn, system.publisher.last_seq, scope)
    return Response(
        orjson.dumps({"seq": snap.seq, "cases": snap.cases}), media_type="application/json"
    )
