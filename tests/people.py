"""People for the tests: an account of a role, a session for it, signed in on a test client
or in a real Chromium (the session cookie the login form would set, checked by the real gate)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from backend.auth.accounts import Person, create_user
from backend.auth.sessions import COOKIE
from backend.system import System

PASSWORD = "correct horse battery staple"
_n = itertools.count(1)


def make_person(
    system: System,
    role: str = "duty_officer",
    *,
    area: str | None = None,
    units: list[str] | None = None,
    username: str | None = None,
    display_name: str | None = None,
    oidc_subject: str | None = None,
) -> Person:
    name = username or f"{role}-{next(_n)}-{uuid.uuid4().hex[:6]}"
    with system.db.begin() as conn:
        return create_user(
            conn,
            username=name,
            password=PASSWORD,
            role=role,
            now=system.clock.now(),
            display_name=display_name,
            area_code=area,
            units=units,
            oidc_subject=oidc_subject,
        )


def session_cookie(system: System, person: Person) -> str:
    return system.sessions.create(person)


def sign_in_client(client: Any, system: System, role: str = "duty_officer", **kw: Any) -> Person:
    """A TestClient that carries a session of a new person of ``role``."""
    person = make_person(system, role, **kw)
    client.cookies.set(COOKIE, session_cookie(system, person))
    return person


def sign_in_browser(
    driver: Any, base_url: str, system: System, role: str = "duty_officer", **kw: Any
) -> Person:
    """A Chromium with a session of a new person of ``role`` (on ``base_url``'s host)."""
    person = make_person(system, role, **kw)
    driver.get(f"{base_url}/login")
    driver.add_cookie(
        {"name": COOKIE, "value": session_cookie(system, person), "path": "/", "httpOnly": True}
    )
    return person
