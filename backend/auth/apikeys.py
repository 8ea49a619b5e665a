"""API keys for integrations (Open311 clients, the hotline system, hall systems).

Only a SHA-256 of each key is stored; the key itself is shown once, at creation. Each key
carries what it may do (``KeyPermission``) and the area it sees (None: the whole city).
Revoking a key also lists its digest in Redis, which every web process checks before trusting
a key it remembers, so a revoked key stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from backend.auth.permissions import LEGACY_KEY_PERMISSIONS, KeyPermission
from backend.store.models import api_keys

PREFIX = "gwk_"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    name: str
    digest: str
    permissions: frozenset[KeyPermission]
    area_code: str | None = None

    def may(self, permission: KeyPermission) -> bool:
        return permission in self.permissions


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    conn: Connection,
    name: str,
    now: datetime,
    permissions: Iterable[KeyPermission] = LEGACY_KEY_PERMISSIONS,
    area_code: str | None = None,
) -> str:
    """A new key (returned once). ``permissions`` default to everything a key could do before
    keys had permissions; ``gridwatch apikey create`` asks for less by default."""
    name = name.strip()
    if not name or len(name) > 60:
        raise ValueError("a key needs a name of 1 to 60 characters")
    perms = sorted({KeyPermission(p).value for p in permissions})
    if not perms:
        raise ValueError("a key needs at least one permission")
    key = PREFIX + secrets.token_urlsafe(24)
    conn.execute(
        insert(api_keys).values(
            name=name,
            key_hash=digest(key),
            prefix=key[:8],
            created_at=now,
            revoked=False,
            permissions=perms,
            area_code=area_code,
        )
    )
    return key


def check_key(conn: Connection, key: str) -> ApiKeyInfo | None:
    """What the key may do, or None if unknown or revoked."""
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    d = digest(key)
    row = (
        conn.execute(
            select(api_keys.c.name, api_keys.c.permissions, api_keys.c.area_code).where(
                api_keys.c.key_hash == d, api_keys.c.revoked.is_(False)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    stored = row["permissions"]
    perms = (
        LEGACY_KEY_PERMISSIONS
        if stored is None
        else frozenset(KeyPermission(p) for p in stored if p in KeyPermission.__members__.values())
    )
    return ApiKeyInfo(row["name"], d, perms, row["area_code"])


def revoke_keys(conn: Connection, name: str) -> list[str]:
    """Revoke every live key of the integration ``name``: the digests revoked."""
    digests = [
        r[0]
        for r in conn.execute(
            select(api_keys.c.key_hash).where(
                api_keys.c.name == name, api_keys.c.revoked.is_(False)
            )
        )
    ]
    if digests:
        conn.execute(update(api_keys).where(api_keys.c.key_hash.in_(digests)).values(revoked=True))
    return digests
