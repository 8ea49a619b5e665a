"""Local accounts: create, look up, check a password (with lockout), reset, deactivate.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile); a
hash made with older parameters is upgraded at the next good login. A run of wrong passwords
locks the account for a while, so guessing is slow even from many addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from backend.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from backend.core.i18n import t
from backend.store.models import users

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_hasher = PasswordHasher()
#: a hash to verify against when the user does not exist, so both take the same time
_DUMMY = _hasher.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Person:
    """Who is signed in: what the screens and the engine's commands carry."""

    id: int
    username: str
    display_name: str
    role: Role
    area_code: str | None = None
    units: tuple[str, ...] = field(default_factory=tuple)

    @property
    def actor(self) -> str:
        """How the event log signs this person's actions."""
        return f"user:{self.username}"

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


class AccountError(ValueError):
    """A refused account change: per field, a translation key and its values (``said`` puts
    them in a language; ``errors`` is English, for the command line)."""

    def __init__(self, reasons: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.reasons = reasons
        self.errors = self.said("en")
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    def said(self, lang: str) -> dict[str, str]:
        return {k: t(key, lang, **kw) for k, (key, kw) in self.reasons.items()}


def person_of(row: Any) -> Person:
    return Person(
        id=int(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        area_code=row["area_code"],
        units=tuple(row["units"] or ()),
    )


def check_new_password(password: str) -> tuple[str, dict[str, Any]] | None:
    """Why a password is refused (a translation key and its values), or None."""
    if len(password) < MIN_PASSWORD:
        return ("acct_password_short", {"n": MIN_PASSWORD})
    if len(password) > 200:
        return ("acct_password_long", {})
    return None


def create_user(
    conn: Connection,
    *,
    username: str,
    password: str | None,
    role: str,
    now: datetime,
    display_name: str | None = None,
    area_code: str | None = None,
    units: list[str] | None = None,
    known_areas: set[str] | None = None,
    known_units: set[str] | None = None,
    oidc_subject: str | None = None,
) -> Person:
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not _USERNAME.match(username or ""):
        errors["username"] = ("acct_username_form", {})
    elif conn.execute(select(users.c.id).where(users.c.username == username)).first():
        errors["username"] = ("acct_username_taken", {"name": username})
    if role not in {r.value for r in Role}:
        errors["role"] = ("acct_role", {"roles": ", ".join(r.value for r in Role)})
    if password is not None and (why := check_new_password(password)):
        errors["password"] = why
    if area_code is not None and known_areas is not None and area_code not in known_areas:
        errors["area"] = ("acct_area", {"code": area_code})
    if units and known_units is not None and (bad := [u for u in units if u not in known_units]):
        errors["units"] = ("acct_units_unknown", {"codes": ", ".join(bad)})
    if role == Role.HANDLER and not units:
        errors["units"] = ("acct_units_needed", {})
    name = (display_name or username or "").strip()
    if len(name) > 64:
        errors["display_name"] = ("acct_display_name", {})
    if oidc_subject is not None and (
        not 0 < len(oidc_subject) <= 200
        or conn.execute(select(users.c.id).where(users.c.oidc_subject == oidc_subject)).first()
    ):
        errors["sso_subject"] = ("acct_sso_subject", {})
    if errors:
        raise AccountError(errors)
    row = (
        conn.execute(
            insert(users)
            .values(
                username=username,
                display_name=name,
                password_hash=_hasher.hash(password) if password else None,
                role=role,
                area_code=area_code,
                units=list(units or []),
                active=True,
                failed_logins=0,
                created_at=now,
                password_changed_at=now if password else None,
                oidc_subject=oidc_subject,
            )
            .returning(*users.c)
        )
        .mappings()
        .one()
    )
    return person_of(row)


def find_user(conn: Connection, username: str) -> Any:
    return conn.execute(select(users).where(users.c.username == username)).mappings().first()


def person_by_subject(conn: Connection, subject: str) -> Person | None:
    """The active person a single sign-on subject is linked to, if any."""
    row = (
        conn.execute(select(users).where(users.c.oidc_subject == subject, users.c.active.is_(True)))
        .mappings()
        .first()
    )
    return person_of(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> Any:
    return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()


def list_users(conn: Connection) -> list[Any]:
    return list(conn.execute(select(users).order_by(users.c.username)).mappings())


class LoginRefused(Exception):
    """Why a login failed: ``bad`` (wrong name or password), ``locked`` or ``inactive``."""

    def __init__(self, reason: str, until: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


def authenticate(conn: Connection, username: str, password: str, now: datetime) -> Person:
    """The person, or LoginRefused. Counts failures and locks after ``MAX_FAILURES``."""
    row = find_user(conn, username) if _USERNAME.match(username or "") else None
    if row is None or row["password_hash"] is None:
        _verify(_DUMMY, password)  # the same time whether or not the name exists
        raise LoginRefused("bad")
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise LoginRefused("locked", row["locked_until"])
    if not _verify(row["password_hash"], password):
        failures = int(row["failed_logins"]) + 1
        locked = now + LOCKOUT if failures >= MAX_FAILURES else None
        conn.execute(
            update(users)
            .where(users.c.id == row["id"])
            .values(failed_logins=0 if locked else failures, locked_until=locked)
        )
        if locked:
            raise LoginRefused("locked", locked)
        raise LoginRefused("bad")
    if not row["active"]:
        raise LoginRefused("inactive")
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(users).where(users.c.id == row["id"]).values(**values))
    return person_of(row)


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(hashed, password[:200]))
    except (VerificationError, InvalidHashError):
        return False


def set_password(conn: Connection, username: str, password: str, now: datetime) -> None:
    """An administrator's reset: a new password, the lockout lifted."""
    if why := check_new_password(password):
        raise AccountError({"password": why})
    done = conn.execute(
        update(users)
        .where(users.c.username == username)
        .values(
            password_hash=_hasher.hash(password),
            password_changed_at=now,
            failed_logins=0,
            locked_until=None,
        )
    )
    if done.rowcount == 0:
        raise AccountError({"username": ("acct_no_user", {"name": username})})


def set_active(conn: Connection, username: str, active: bool) -> None:
    done = conn.execute(update(users).where(users.c.username == username).values(active=active))
    if done.rowcount == 0:
        raise AccountError({"username": ("acct_no_user", {"name": username})})
