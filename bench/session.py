"""A signed-in session for the benchmarks' screens: the gate lets nothing through without one."""

from __future__ import annotations

import uuid

from backend.auth.accounts import create_user
from backend.auth.sessions import COOKIE
from backend.system import System

__all__ = ["COOKIE", "bench_cookie"]


def bench_cookie(system: System, role: str = "duty_officer") -> str:
    """The session cookie of a new person of ``role`` (no password: nobody signs in as it)."""
    with system.db.begin() as conn:
        person = create_user(
            conn,
            username=f"bench-{uuid.uuid4().hex[:10]}",
            password=None,
            role=role,
            now=system.clock.now(),
        )
    return system.sessions.create(person)
