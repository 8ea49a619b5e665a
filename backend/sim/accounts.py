"""The demo's people: one account per role, made once per demo database and printed at start.

Passwords are random, kept (mode 600) beside the database in GRIDWATCH_VAR so a restarted demo
prints the same ones; a real deployment makes its people with ``gridwatch user create``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from backend.auth.accounts import create_user, find_user
from backend.auth.permissions import Role
from backend.system import System

FILE = "demo-accounts.json"


def _units(system: System) -> list[str]:
    """The handler's units: the first grid's own unit and its township centre."""
    ref = system.ref
    grid = sorted(ref.grids)[0]
    units = [ref.grid_unit.get(grid), ref.township_unit.get(ref.grids[grid].township_code)]
    return [u for u in units if u]


#: (user name, role, display name); areas and units are the city's, chosen at creation
PEOPLE = (
    ("duty", Role.DUTY_OFFICER, "值班员 李明"),
    ("leader", Role.LEADER, "县领导 王强"),
    ("handler", Role.HANDLER, "网格员 张芳"),
    ("hall", Role.HALL_SUPERVISOR, "效能督查 陈静"),
    ("admin", Role.ADMIN, "系统管理员"),
)


def demo_accounts(system: System) -> list[tuple[str, str, str]]:
    """(user name, role, password) of each demo person, made if missing."""
    path = Path(system.settings.var_dir) / FILE
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    out = []
    now = system.clock.now()
    with system.db.begin() as conn:
        for username, role, name in PEOPLE:
            exists = find_user(conn, username) is not None
            if exists and username not in known:
                continue  # made by someone else (gridwatch user create): not ours to print
            if not exists:
                known[username] = secrets.token_urlsafe(9)
                create_user(
                    conn,
                    username=username,
                    password=known[username],
                    role=role,
                    now=now,
                    display_name=name,
                    units=_units(system) if role is Role.HANDLER else None,
                )
            out.append((username, role.value, known[username]))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(known, f)
    return out
