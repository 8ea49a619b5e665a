"""API keys for integrations (Open311 clients, the hotline system, hall systems).

Only a SHA-256 of each key is stored; the key itself is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, insert, select

from backend.store.models import api_keys

PREFIX = "gwk_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, name: str, now: datetime) -> str:
    name = name.strip()
    if not name or len(name) > 60:
        raise ValueError("a key needs a name of 1 to 60 characters")
    key = PREFIX + secrets.token_urlsafe(24)
    conn.execute(
        insert(api_keys).values(
            name=name, key_hash=_digest(key), prefix=key[:8], created_at=now, revoked=False
        )
    )
    return key


def check_key(conn: Connection, key: str) -> str | None:
    """The name of the integration holding ``key``, or None if unknown or revoked."""
    if not key.startswith(PREFIX):
        return None
    row = conn.execute(
        select(api_keys.c.name).where(
            api_keys.c.key_hash == _digest(key), api_keys.c.revoked.is_(False)
        )
    ).first()
    return row[0] if row else None
