"""Roles, what each may do, and what an API key may do: one table each, read everywhere.

People sign in with a role and an area (city, county, township, community, grid); handlers
also have units. A screen or route asks for a permission; the area becomes the scope of every
query and live push (backend/queries/scope.py).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DUTY_OFFICER = "duty_officer"  # 值班员: the wall, the desk, acts on cases (supervision)
    LEADER = "leader"  # 领导: the wall, the desk, instructions, reports
    HANDLER = "handler"  # 承办人: grid worker, township or department staff — the workbench
    HALL_SUPERVISOR = "hall_supervisor"  # 效能督查: the service halls
    ADMIN = "admin"  # 管理员: people, keys, the audit log


class Permission(StrEnum):
    WALL = "wall"  # the live wall
    DESK = "desk"  # the leader's desk (read)
    ACT = "act"  # leader actions on cases: instruct, supervise, escalate
    EXPORT = "export"  # reports and their downloads
    WORK = "work"  # the handler's workbench: act on one's own unit's cases
    HALLS = "halls"  # the service-hall wall and its alerts
    PERSONAL = "personal"  # reporters' names and phones, unmasked, on any case in scope
    ADMIN = "admin"  # people and the audit log
    POSTERS = "posters"  # print a township's QR posters


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DUTY_OFFICER: frozenset(
        {Permission.WALL, Permission.DESK, Permission.ACT, Permission.HALLS, Permission.POSTERS}
    ),
    Role.LEADER: frozenset(
        {Permission.WALL, Permission.DESK, Permission.ACT, Permission.EXPORT, Permission.HALLS}
    ),
    Role.HANDLER: frozenset({Permission.WORK, Permission.POSTERS}),
    Role.HALL_SUPERVISOR: frozenset({Permission.HALLS}),
    Role.ADMIN: frozenset(
        {Permission.WALL, Permission.DESK, Permission.EXPORT, Permission.ADMIN, Permission.HALLS}
    ),
}


class KeyPermission(StrEnum):
    """What an integration's API key may do (``gridwatch apikey create NAME --allow …``)."""

    REPORT = "report"  # send reports and new cases (intake, Open311 POST)
    PUBLIC = "public"  # read the public feed (Open311 GET: redacted, no reporters)
    READ = "read"  # read cases, figures and the live feed in its area (reporters masked)
    PERSONAL = "personal"  # read reporters unmasked
    ACT = "act"  # act on cases (accept, resolve, …)
    HALLS = "halls"  # send service-hall events


#: Keys made before permissions existed keep what they could do then.
LEGACY_KEY_PERMISSIONS = frozenset(KeyPermission)
#: A new key's permissions unless told otherwise: an Open311-style client.
DEFAULT_KEY_PERMISSIONS = frozenset({KeyPermission.REPORT, KeyPermission.PUBLIC})


def parse_key_permissions(text: str) -> frozenset[KeyPermission]:
    """``"report,public"`` → the set; an unknown name is a ValueError naming it."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    known = {p.value for p in KeyPermission}
    bad = [n for n in names if n not in known]
    if bad or not names:
        choices = ", ".join(sorted(known))
        raise ValueError(f"unknown permission {', '.join(bad) or '(none)'}: choose from {choices}")
    return frozenset(KeyPermission(n) for n in names)
