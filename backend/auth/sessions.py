"""Signed-in sessions: a signed cookie naming a session, kept in SQL and held in Redis.

Redis answers almost every request (one GET); SQL is the record, so a session survives a Redis
restart or outage (a duty officer's wall stays signed in) and an ended session stays ended.
A session ends on logout, when its person is disabled or their password reset (every web
process at once), after GRIDWATCH_SESSION_IDLE_MINUTES unused, and GRIDWATCH_SESSION_MAX_HOURS
after sign-in whatever happens. Times come from the clock; only digests of ids are stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import redis
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, insert, select, update

from backend.auth.accounts import Person, person_of
from backend.auth.permissions import Role
from backend.bus.connection import Keys
from backend.core.clock import Clock
from backend.store.models import sessions as sessions_table
from backend.store.models import users

COOKIE = "gw_session"
#: how often a session in use writes its last-seen time to SQL
SEEN_EVERY = timedelta(minutes=5)
log = logging.getLogger("gridwatch.sessions")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    sid_hash: str
    person: Person


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class Sessions:
    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        db: Engine,
        clock: Clock,
        secret: str,
        idle: timedelta,
        longest: timedelta,
    ) -> None:
        self.r = r
        self.keys = keys
        self.db = db
        self.clock = clock
        self.idle = idle
        self.longest = longest
        self._signer = URLSafeSerializer(secret, salt="gridwatch-session")

    # ------------------------------------------------------------------ begin, end

    def create(self, person: Person) -> str:
        """A new session for ``person``: the cookie's value."""
        sid = secrets.token_urlsafe(24)
        h = _hash(sid)
        now = self.clock.now()
        with self.db.begin() as conn:
            conn.execute(
                insert(sessions_table).values(
                    id_hash=h, user_id=person.id, created_at=now, last_seen_at=now
                )
            )
        self._hold(h, person, now)
        return self._signer.dumps({"s": sid, "t": now.timestamp()})

    def end(self, info: SessionInfo) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(sessions_table)
                .where(sessions_table.c.id_hash == info.sid_hash)
                .values(ended_at=self.clock.now())
            )
        self._drop([info.sid_hash], info.person.id)

    def end_all(self, user_id: int) -> int:
        """End every session of one person (a reset password, a disabled account)."""
        with self.db.begin() as conn:
            hashes = [
                r[0]
                for r in conn.execute(
                    select(sessions_table.c.id_hash).where(
                        sessions_table.c.user_id == user_id, sessions_table.c.ended_at.is_(None)
                    )
                )
            ]
            if hashes:
                conn.execute(
                    update(sessions_table)
                    .where(sessions_table.c.id_hash.in_(hashes))
                    .values(ended_at=self.clock.now())
                )
        self._drop(hashes, user_id)
        return len(hashes)

    # ------------------------------------------------------------------ each request

    def resolve(self, cookie: str | None) -> SessionInfo | None:
        """The session a cookie names; None if forged, ended, idle too long or too old."""
        if not cookie or len(cookie) > 300:
            return None
        try:
            body = self._signer.loads(cookie)
            sid, signed_at = str(body["s"]), float(body["t"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self.clock.now()
        if now.timestamp() - signed_at > self.longest.total_seconds():
            return None
        h = _hash(sid)
        try:
            held = self._held(h, now)
        except redis.RedisError:
            log.warning("sessions: Redis unavailable, reading SQL", exc_info=True)
            return self._from_sql(h, now, cache=False)
        return held if held is not None else self._from_sql(h, now, cache=True)

    def _held(self, h: str, now: datetime) -> SessionInfo | None:
        key = self.keys.session(h)
        pipe = self.r.pipeline()
        pipe.get(key)
        pipe.pexpire(key, int(self.idle.total_seconds() * 1000))
        raw, _ = pipe.execute()
        if raw is None:
            return None
        d = orjson.loads(raw)
        person = Person(
            id=d["id"],
            username=d["username"],
            display_name=d["display_name"],
            role=Role(d["role"]),
            area_code=d["area_code"],
            units=tuple(d["units"]),
        )
        if now.timestamp() - d["seen"] > SEEN_EVERY.total_seconds():
            with self.db.begin() as conn:
                conn.execute(
                    update(sessions_table)
                    .where(sessions_table.c.id_hash == h, sessions_table.c.ended_at.is_(None))
                    .values(last_seen_at=now)
                )
            self._hold(h, person, now)
        return SessionInfo(h, person)

    def _from_sql(self, h: str, now: datetime, cache: bool) -> SessionInfo | None:
        with self.db.begin() as conn:
            row = (
                conn.execute(
                    select(sessions_table, users)
                    .join(users, users.c.id == sessions_table.c.user_id)
                    .where(sessions_table.c.id_hash == h)
                )
                .mappings()
                .first()
            )
            if (
                row is None
                or row["ended_at"] is not None
                or not row["active"]
                or now - row["last_seen_at"] > self.idle
            ):
                return None
            conn.execute(
                update(sessions_table).where(sessions_table.c.id_hash == h).values(last_seen_at=now)
            )
        person = person_of({**row, "id": row["user_id"]})
        if cache:
            with contextlib.suppress(redis.RedisError):  # SQL has answered; Redis may lag
                self._hold(h, person, now)
        return SessionInfo(h, person)

    # ------------------------------------------------------------------ Redis

    def _hold(self, h: str, person: Person, now: datetime) -> None:
        body = orjson.dumps(
            {
                "id": person.id,
                "username": person.username,
                "display_name": person.display_name,
                "role": person.role.value,
                "area_code": person.area_code,
                "units": list(person.units),
                "seen": now.timestamp(),
            }
        )
        pipe = self.r.pipeline()
        pipe.set(self.keys.session(h), body, px=int(self.idle.total_seconds() * 1000))
        pipe.sadd(self.keys.user_sessions(person.id), h)
        pipe.expire(self.keys.user_sessions(person.id), int(self.longest.total_seconds()))
        pipe.execute()

    def _drop(self, hashes: list[str], user_id: int) -> None:
        try:
            pipe = self.r.pipeline()
            for h in hashes:
                pipe.delete(self.keys.session(h))
                pipe.srem(self.keys.user_sessions(user_id), h)
            pipe.execute()
        except redis.RedisError:  # SQL already says they ended; Redis copies expire anyway
            log.warning("sessions: could not drop Redis copies", exc_info=True)
