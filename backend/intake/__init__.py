"""Intake channels (issue 5): every road a case takes into gridwatch, each in its own module.

- ``api``: REST ``POST /api/v1/cases``, hotline/WeChat text, the triage queue, photos
- ``open311``: Open311 GeoReport v2 under ``/open311/v2/``
- ``qr``: the citizen's QR page ``/r/<grid>`` and tracking page ``/t/<token>``
- ``service``: the one pipeline all of them share (duplicates, triage, the engine)
"""

from __future__ import annotations

from fastapi import FastAPI


def register_intake(app: FastAPI) -> None:
    from backend.intake import api, open311, qr

    app.include_router(api.router)
    open311.register(app)
    qr.register(app)
