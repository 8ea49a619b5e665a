"""Alert rules as data: a YAML pack (``rules/default.yaml``) with editable thresholds, and the
pure evaluation of a hall's state against it.

``evaluate`` answers which conditions hold now; the alert lifecycle (backend/halls/alerts.py)
opens, groups, escalates and resolves alerts from that answer, so a rule never has to know
about alerts, and a condition that clears resolves its alert by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from backend.core.errors import SourceError
from backend.halls.hours import local_at
from backend.halls.model import Hall, Shift
from backend.halls.state import BREAK, STAFFED, VACANT, HallState

RULES_DIR = Path(__file__).parent / "rules"
DEFAULT_RULES = RULES_DIR / "default.yaml"

#: Every rule and its thresholds with their defaults; a pack may change any number.
RULE_DEFAULTS: dict[str, dict[str, float]] = {
    "window_vacant": {"minutes": 5, "break_minutes": 20},
    "gathering": {"staff": 3, "minutes": 3},
    "queue_windows_closed": {"queue": 15, "closed_windows": 1},
    "absent_at_shift_start": {"grace_minutes": 5},
    "camera_offline": {"minutes": 5},
    "average_wait": {"minutes": 20, "sample": 5},
    "staff_distracted": {"hold_minutes": 5},
}
LIFECYCLE_DEFAULTS: dict[str, Any] = {
    "escalate_after_minutes": 10,
    "chain": ["township_leader", "county_leader", "county_chief"],
    "group_minutes": 30,
    "quiet_after_hand_resolve_minutes": 15,
}
CASE_DEFAULTS: dict[str, Any] = {
    "on_rating": "very_dissatisfied",
    "on_escalation_level": 2,
    "category": "policy_inquiry",
    "channel": "walk_in",
}


@dataclass(frozen=True, slots=True)
class RulePack:
    """Thresholds per rule (only the rules listed are on), the lifecycle, the case hand-over."""

    name: str
    rules: dict[str, dict[str, float]]
    lifecycle: dict[str, Any] = field(default_factory=lambda: dict(LIFECYCLE_DEFAULTS))
    cases: dict[str, Any] = field(default_factory=lambda: dict(CASE_DEFAULTS))

    def on(self, rule: str) -> dict[str, float] | None:
        return self.rules.get(rule)

    @property
    def escalate_after(self) -> float:
        return float(self.lifecycle["escalate_after_minutes"]) * 60

    @property
    def group_seconds(self) -> float:
        return float(self.lifecycle["group_minutes"]) * 60

    @property
    def quiet_seconds(self) -> float:
        return float(self.lifecycle["quiet_after_hand_resolve_minutes"]) * 60


def load_rules(path: Path = DEFAULT_RULES) -> RulePack:
    """Read and check a pack; SourceError names the file and what is wrong."""
    src = str(path)
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        raise SourceError(src, line, col, f"cannot read the rule pack: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("rules"), dict):
        raise SourceError(src, None, None, "needs a 'rules' mapping")
    rules: dict[str, dict[str, float]] = {}
    for name, given in body["rules"].items():
        if name not in RULE_DEFAULTS:
            raise SourceError(src, None, None, f"unknown rule {name!r}")
        values = dict(RULE_DEFAULTS[name])
        for k, v in (given or {}).items():
            if k not in values:
                raise SourceError(src, None, None, f"rule {name}: unknown threshold {k!r}")
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise SourceError(src, None, None, f"rule {name}: {k} must be a number ≥ 0")
            values[k] = float(v)
        rules[name] = values
    lifecycle = {**LIFECYCLE_DEFAULTS, **(body.get("lifecycle") or {})}
    chain = lifecycle["chain"]
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise SourceError(src, None, None, "lifecycle.chain must list at least one role")
    cases = {**CASE_DEFAULTS, **(body.get("cases") or {})}
    return RulePack(str(body.get("name", path.stem)), rules, lifecycle, cases)


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule that holds now for one subject (a window, a camera, or the hall itself)."""

    rule: str
    hall: str
    subject: str = ""
    window: str | None = None
    since: float | None = None  # when it began, where known (epoch seconds)
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"{self.rule}|{self.hall}|{self.subject}"


def evaluate(
    pack: RulePack,
    hall: Hall,
    windows: list[str],
    shifts: list[Shift],
    state: HallState,
    now: datetime,
    open_now: bool,
    tz: ZoneInfo,
) -> list[Condition]:
    """Which rules hold now in ``hall``."""
    t = now.timestamp()
    out: list[Condition] = []
    h = hall.code
    if open_now:
        out += _vacant(pack, h, windows, state, t)
        out += _queue(pack, h, windows, state)
        out += _wait(pack, h, state, t)
        out += _absent(pack, h, shifts, state, now, tz)
        out += _gathering(pack, h, state, t)
    out += _distracted(pack, h, state, t)
    out += _cameras(pack, h, state, t)
    return out


def _vacant(pack: RulePack, h: str, windows: list[str], s: HallState, t: float) -> list[Condition]:
    r = pack.on("window_vacant")
    if r is None:
        return []
    out = []
    for code in windows:
        w = s.windows.get(code)
        status = w.status if w else VACANT
        since = w.since if w and w.since is not None else None
        if status == STAFFED or since is None:
            continue
        limit = r["break_minutes"] if status == BREAK else r["minutes"]
        queue = s.queue(code)
        if queue and t - since >= limit * 60:
            detail = {"minutes": round((t - since) / 60), "queue": queue, "status": status}
            out.append(Condition("window_vacant", h, code, code, since, detail))
    return out


def _queue(pack: RulePack, h: str, windows: list[str], s: HallState) -> list[Condition]:
    r = pack.on("queue_windows_closed")
    if r is None:
        return []
    closed = sum(1 for c in windows if (s.windows.get(c) is None or s.windows[c].status != STAFFED))
    queue = s.queue()
    if queue > r["queue"] and closed >= max(1, r["closed_windows"]):
        return [Condition("queue_windows_closed", h, detail={"queue": queue, "closed": closed})]
    return []


def _wait(pack: RulePack, h: str, s: HallState, t: float) -> list[Condition]:
    r = pack.on("average_wait")
    if r is None:
        return []
    mean, n = s.average_wait(t)
    if n >= r["sample"] and mean >= r["minutes"] * 60:
        return [Condition("average_wait", h, detail={"minutes": round(mean / 60), "tickets": n})]
    return []


def _absent(
    pack: RulePack, h: str, shifts: list[Shift], s: HallState, now: datetime, tz: ZoneInfo
) -> list[Condition]:
    r = pack.on("absent_at_shift_start")
    if r is None:
        return []
    out = []
    t = now.timestamp()
    for sh in shifts:
        start = local_at(now, sh.start, tz).timestamp()
        end = local_at(now, sh.end, tz).timestamp()
        if not start + r["grace_minutes"] * 60 <= t < end:
            continue
        w = s.windows.get(sh.window_code)
        seen = w.seen.get(sh.staff_id) if w else None
        arrived = seen is not None and seen[1] == "in"
        came_and_went = seen is not None and seen[0] >= start - 3600
        if not arrived and not came_and_went:
            detail = {"staff": sh.staff_id, "shift": f"{sh.start}-{sh.end}"}
            out.append(
                Condition(
                    "absent_at_shift_start",
                    h,
                    f"{sh.window_code}/{sh.staff_id}",
                    sh.window_code,
                    start,
                    detail,
                )
            )
    return out


def _gathering(pack: RulePack, h: str, s: HallState, t: float) -> list[Condition]:
    r = pack.on("gathering")
    if r is None:
        return []
    count, since, _ = s.gathering
    if count >= r["staff"] and since and t - since >= r["minutes"] * 60:
        return [Condition("gathering", h, since=since, detail={"staff": int(count)})]
    return []


def _distracted(pack: RulePack, h: str, s: HallState, t: float) -> list[Condition]:
    r = pack.on("staff_distracted")
    if r is None:
        return []
    out = []
    for code, w in s.windows.items():
        d = w.distracted
        if d is not None and t - d[0] < r["hold_minutes"] * 60:
            out.append(
                Condition("staff_distracted", h, code, code, d[0], {"kind": d[1], "staff": d[2]})
            )
    return out


def _cameras(pack: RulePack, h: str, s: HallState, t: float) -> list[Condition]:
    r = pack.on("camera_offline")
    if r is None:
        return []
    out = []
    limit = r["minutes"] * 60
    for cam, c in s.cameras.items():
        off, last = c.get("offline"), c.get("last")
        since = off if off is not None else last
        if since is not None and (off is not None or last is not None) and t - since >= limit:
            detail = {"camera": cam, "minutes": round((t - since) / 60)}
            out.append(Condition("camera_offline", h, f"cam:{cam}", None, since, detail))
    return out
