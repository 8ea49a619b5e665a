"""Duplicate reports: the same matter reported again (same grid and category, within a
window, with similar text) is attached to the open case instead of opening another.

Text similarity is the Dice coefficient of character bigrams: Chinese needs no word
segmentation for it, and short complaints about one matter share most of their bigrams.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import Connection, select

from backend.bus.connection import Keys
from backend.domain.vocabulary import OPEN_VALUES
from backend.store.models import case_reports, cases

log = logging.getLogger("gridwatch.intake")

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
#: at most this many recent open cases of one grid and category are compared
CANDIDATES = 50


def bigrams(text: str) -> set[str]:
    t = _NOISE.sub("", text.lower())
    if len(t) < 2:
        return {t} if t else set()
    return {t[i : i + 2] for i in range(len(t) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' character bigrams, 0 … 1."""
    return _dice(bigrams(a), bigrams(b))


def _dice(x: set[str], y: set[str]) -> float:
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True, slots=True)
class Match:
    case_id: int
    score: float


def find_duplicate(
    conn: Connection,
    *,
    grid: str,
    category: str,
    text: str,
    at: datetime,
    window: timedelta,
    threshold: float,
) -> Match | None:
    """The open case this report most likely repeats, or None.

    Compared with the case's own description and every report already attached to it, so a
    matter described differently by its first and third reporter still matches.
    """
    rows = conn.execute(
        select(cases.c.id, cases.c.description)
        .where(
            cases.c.grid_code == grid,
            cases.c.category == category,
            cases.c.status.in_(OPEN_VALUES),
            cases.c.reported_at >= at - window,
            cases.c.reported_at <= at + timedelta(minutes=5),
        )
        .order_by(cases.c.reported_at.desc())
        .limit(CANDIDATES)
    ).all()
    if not rows:
        return None
    texts: dict[int, list[str]] = {r.id: [r.description] for r in rows}
    for cid, t in conn.execute(
        select(case_reports.c.case_id, case_reports.c.text).where(
            case_reports.c.case_id.in_(list(texts))
        )
    ):
        texts[cid].append(t)
    best: Match | None = None
    mine = bigrams(text)  # once, not once per candidate text
    for cid, candidates in texts.items():
        score = max(_dice(mine, bigrams(c)) for c in candidates)
        if score >= threshold and (best is None or score > best.score):
            best = Match(cid, round(score, 3))
    return best


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@contextlib.contextmanager
def matter_lock(r: redis.Redis, keys: Keys, grid: str, category: str) -> Iterator[bool]:
    """Serialise intake of one grid and category across web processes, so two reports of the
    same matter arriving together cannot both open a case. Yields whether the lock is held: with
    Redis away, intake goes on unlocked (a rare double case beats refusing citizens)."""
    key = f"{keys.prefix}:intake:lock:{grid}:{category}"
    token = secrets.token_hex(8)
    held = False
    try:
        deadline = time.monotonic() + 5
        while True:
            if r.set(key, token, nx=True, px=10_000):
                held = True
                break
            if time.monotonic() > deadline:
                log.warning("intake lock %s still taken after 5 s; going on without it", key)
                break
            time.sleep(0.01)
    except redis.RedisError as exc:
        log.warning("intake lock unavailable (%s); going on without it", exc)
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(redis.RedisError):
                r.eval(_RELEASE, 1, key, token)
