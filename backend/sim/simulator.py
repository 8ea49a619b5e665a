"""A believable city: arrivals with daily and weekly rhythm, the channel mix and categories of
the source reports, units that differ in speed (so some cases really get stuck and climb
tiers), pauses, consultations, ratings and revisits.

The simulator is reactive: it reads the state the engine returns (or publishes) and schedules
what the holder of a case would do next, so it follows escalations made by the clock.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from backend.domain.commands import Command, action_command, create_command
from backend.domain.vocabulary import OPEN_VALUES
from backend.refdata.index import RefIndex

#: relative arrivals per local hour (people report by day; patrols in working hours)
HOURLY = (
    0.15,
    0.1,
    0.08,
    0.08,
    0.1,
    0.2,
    0.5,
    1.0,
    1.6,
    2.0,
    2.0,
    1.7,
    1.2,
    1.4,
    1.8,
    1.9,
    1.8,
    1.5,
    1.1,
    1.0,
    0.9,
    0.7,
    0.45,
    0.25,
)
WEEKDAY = (1.1, 1.05, 1.0, 1.0, 1.0, 0.65, 0.55)  # Mon..Sun
CHANNELS = (
    ("grid_worker", 0.42),
    ("hotline", 0.24),
    ("qr", 0.12),
    ("wechat", 0.11),
    ("walk_in", 0.06),
    ("app", 0.05),
)
#: relative frequency of the matters the source reports name (others count 1)
COMMON_CATEGORIES = {
    "neighbour_dispute": 6.0,
    "decoration_noise": 5.0,
    "cooking_fumes": 4.0,
    "sanitation": 5.0,
    "garbage_collection": 4.0,
    "road_occupation": 4.0,
    "illegal_parking": 4.0,
    "broken_facilities": 3.5,
    "streetlight_out": 3.0,
    "safety_hazard": 3.0,
    "illegal_building": 2.5,
    "policy_inquiry": 3.0,
    "unpaid_wages": 2.0,
    "noise_nuisance": 3.0,
    "property_dispute": 2.0,
}
#: median hours of handling by tier, before a unit's own speed factor
HANDLING_HOURS = {"grid": 10.0, "township": 40.0, "department": 110.0, "county": 150.0}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
PLACES = (
    "小区",
    "路口",
    "菜市场",
    "学校门口",
    "广场",
    "老街",
    "安置小区",
    "工业园",
    "村口",
    "河边",
)
DETAILS = (
    "群众反映情况已持续多日，影响正常生活，请尽快处理。",
    "多名居民联名反映，希望相关部门尽快到现场核实。",
    "网格员巡查发现，已拍照留存，需协调处理。",
    "来电人情绪较激动，要求给予明确答复。",
    "问题反复出现，此前已反映过一次。",
    "现场存在一定安全风险，请及时处置。",
)


@dataclass(slots=True)
class SimConfig:
    cases_per_grid_per_day: float = 0.32  # Shangrao: 1.4 M cases / 12,000 grids / 365 days
    seed: int = 42
    slow_unit_share: float = 0.2
    pause_share: float = 0.04
    cancel_share: float = 0.015
    consult_share: float = 0.03
    unsatisfied_share: float = 0.04
    basic_share: float = 0.06
    rating_share: float = 0.85
    #: share of cases no holder ever finishes (积案): they climb on the clock and stay open,
    #: which is what keeps a city's close rate below 100% (backend/sim/profiles.py)
    never_close_share: float = 0.0
    #: the channel mix (name, weight); the default is the Shangrao profile's
    channels: tuple[tuple[str, float], ...] = ()
    #: relative frequency by category (others count 1); empty: COMMON_CATEGORIES
    category_weights: tuple[tuple[str, float], ...] = ()
    #: prefix of command ids; unique per run by default, so two runs never share an id
    #: (a shared id would be skipped by the engine as already applied)
    run_id: str | None = None
    #: simulate only these counties (a shard of the city); None: the whole city
    counties: tuple[str, ...] | None = None


#: what the simulator knows of a case: status, unit, mode and the start of its stage; a
#: change of any of them is a new step to plan, a change of none (a reminder) is not
_Key = tuple[str, str | None, str | None, float | None]
#: the open statuses; a case that never closes plans no step from them
OPEN_STEPS = frozenset(OPEN_VALUES)


@dataclass(slots=True)
class _Planned:
    """What a case's holder will do next; kept in a heap as (epoch seconds, seq, plan)."""

    at: datetime
    case_id: int
    action: str
    expect: _Key
    params: dict[str, Any]


@dataclass(slots=True)
class SimStats:
    created: int = 0
    actions: int = 0


class CitySimulator:
    """Generates commands for ``[t, t_next)`` and reacts to the cases the engine changed."""

    def __init__(self, ref: RefIndex, tz: ZoneInfo, config: SimConfig | None = None) -> None:
        self.ref = ref
        self.tz = tz
        self.cfg = config or SimConfig()
        self.rng = random.Random(self.cfg.seed)
        counties = set(self.cfg.counties) if self.cfg.counties is not None else None
        self.grids = sorted(
            code for code, g in ref.grids.items() if counties is None or g.county_code in counties
        )
        self.categories = sorted(ref.categories)
        # Zipf-like popularity: the first categories of the whistle list are the common ones
        # the matters the source reports name most are the most common; major ones are rare
        common = dict(self.cfg.category_weights) or COMMON_CATEGORIES
        self.cat_weights = [
            common.get(c, 1.0) * (0.08 if ref.categories[c].major else 1.0) for c in self.categories
        ]
        channels = self.cfg.channels or CHANNELS
        self.chan_names = [c for c, _ in channels]
        self.chan_weights = [w for _, w in channels]
        self.daily_mean = self.cfg.cases_per_grid_per_day * len(self.grids)
        self._unit_speed: dict[str, float] = {}
        self._plan: list[tuple[float, int, _Planned]] = []
        self._departments = sorted(u for u, i in ref.units.items() if i.kind == "department")
        self._state: dict[int, _Key] = {}
        self._version: dict[int, int] = {}
        self._due: dict[int, float | None] = {}
        #: live runs: how long after a deadline its move by the clock is surely seen (due_actions)
        self.settle = timedelta(0)
        self._hands_off: set[int] = set()  # cases someone else drives (the demo's story)
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._run = self.cfg.run_id or uuid.uuid4().hex[:12]
        self.stats = SimStats()
        # the hour-of-week weight normalised so its mean over a week is 1
        mean_w = sum(HOURLY) / 24 * sum(WEEKDAY) / 7
        self._norm = 1.0 / mean_w

    # ------------------------------------------------------------------ arrivals

    def holder_of(self, unit: str) -> str:
        """One of the unit's own staff (so the leader's desk can name them), the same one for
        a unit's cases; a unit without staff on file gets a stable made-up id."""
        people = self.ref.staff_by_unit.get(unit)
        # a stable hash: str hash() changes from process to process (PYTHONHASHSEED)
        h = zlib.crc32(unit.encode())
        return people[h % len(people)] if people else f"H{h % 10_000:04d}"

    def unit_speed(self, unit: str) -> float:
        """A unit's handling-time factor: most near 1, a slow fifth three times slower."""
        s = self._unit_speed.get(unit)
        if s is None:
            r = random.Random(f"{self.cfg.seed}:{unit}")
            s = math.exp(r.gauss(0, 0.35))
            if r.random() < self.cfg.slow_unit_share:
                s *= 3.0
            self._unit_speed[unit] = s
        return s

    def _rate_per_hour(self, t: datetime) -> float:
        local = t.astimezone(self.tz)
        w = HOURLY[local.hour] * WEEKDAY[local.weekday()] * self._norm
        return self.daily_mean / 24.0 * w

    def arrivals(self, t0: datetime, t1: datetime) -> list[Command]:
        """Poisson arrivals in ``[t0, t1)``, hour by hour."""
        out: list[Command] = []
        t = t0
        while t < t1:
            hour_end = min(t1, (t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)))
            span = (hour_end - t).total_seconds()
            lam = self._rate_per_hour(t) * span / 3600.0
            for _ in range(self._poisson(lam)):
                out.append(self._new_case(t + timedelta(seconds=self.rng.random() * span)))
            t = hour_end
        out.sort(key=lambda c: c.at or t0)
        return out

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 50:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def _new_case(self, at: datetime) -> Command:
        rng = self.rng
        grid = rng.choice(self.grids)
        cat = rng.choices(self.categories, self.cat_weights)[0]
        channel = rng.choices(self.chan_names, self.chan_weights)[0]
        info = self.ref.categories[cat]
        severity = "general"
        roll = rng.random()
        if roll < 0.01:
            severity = "urgent"
        elif roll < 0.05:
            severity = "major"
        g = self.ref.grids[grid]
        place = self.ref.area_names.get(g.community_code, "") + rng.choice(PLACES)
        description = f"{place}{info.name}：{rng.choice(DETAILS)}"
        reporter = (
            None
            if channel == "grid_worker"
            else rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
        )
        n = next(self._ids)
        self.stats.created += 1
        return create_command(
            {
                "category": cat,
                "description": description,
                "channel": channel,
                "grid": grid,
                "severity": severity,
                "reporter": reporter,
            },
            actor=f"sim:{channel}",
            at=at,
            command_id=f"s{self._run}c{n}",
        )

    # ------------------------------------------------------------------ reactions

    def hands_off(self, case_ids: Iterable[int]) -> None:
        """Leave these cases alone from now on: what was planned for them is dropped."""
        for case_id in case_ids:
            self._hands_off.add(case_id)
            self._state.pop(case_id, None)
            self._version.pop(case_id, None)
            self._due.pop(case_id, None)

    def observe(self, changed: Iterable[Any]) -> None:
        """Plan the next step of every case the engine just changed (CaseState or delta).

        One plan per state: a change that leaves the case where it was (a reminder, a warning,
        a leader's instruction) plans nothing more, and a delta older than what is known (one
        published before a snapshot was read) is ignored. So each planned step is the one legal
        step from the case's present state, whatever the order things were seen in."""
        for c in changed:
            if isinstance(c, dict):
                get: Any = c.get
                version = c.get("v")
            else:
                get = partial(getattr, c)
                version = getattr(c, "version", None)
            case_id: int | None = get("id")
            if case_id is None or case_id in self._hands_off:
                continue
            known = self._version.get(case_id)
            if version is not None:
                if known is not None and version <= known:
                    continue
                self._version[case_id] = version
            status = str(get("status"))
            if status in ("closed", "cancelled"):
                self._state.pop(case_id, None)
                self._version.pop(case_id, None)
                self._due.pop(case_id, None)
                continue
            unit: str | None = get("unit_code")
            mode = get("mode")
            key: _Key = (status, unit, str(mode) if mode else None, _stamp(get("stage_started_at")))
            self._due[case_id] = _stamp(get("due_at"))
            if self._state.get(case_id) == key:
                continue
            self._state[case_id] = key
            if status in OPEN_STEPS and self.never_closes(case_id):
                continue  # a case no one finishes: it climbs on the clock and stays open
            when = _parse_time(get("updated_at") or get("stage_started_at") or get("reported_at"))
            self._plan_next(case_id, key, get, when)

    def never_closes(self, case_id: int) -> bool:
        """Whether this case is one of the few no holder finishes (the same answer in every run
        and process of this seed, so a demo's live phase agrees with its history)."""
        share = self.cfg.never_close_share
        if share <= 0:
            return False
        return zlib.crc32(f"{self.cfg.seed}:{case_id}".encode()) / 2**32 < share

    def _plan_next(self, case_id: int, key: _Key, get: Any, when: datetime) -> None:
        """The one legal next step from the case's state (transitions.py)."""
        status = key[0]
        if status == "received":  # awaiting triage: a person picks its grid
            self._schedule(
                when + timedelta(hours=self.rng.uniform(0.2, 2)),
                case_id,
                "dispatch",
                key,
                {"grid": self._grid_for(get("township_code")), "reason": "人工分派"},
            )
        elif status == "dispatched":
            self._plan_dispatched(case_id, key, when)
        elif status == "accepted":
            self._plan_accepted(case_id, key, get("tier"), when)
        elif status == "in_progress":
            self._plan_resolve(case_id, key, get("tier"), when)
        elif status == "paused":
            self._schedule(
                when + timedelta(hours=self.rng.uniform(6, 60)),
                case_id,
                "resume",
                key,
                {"reason": "群众已补充材料"},
            )
        elif status == "resolved":
            self._plan_resolved(case_id, key, when)
        elif status == "rated":
            self._schedule(when + timedelta(hours=self.rng.uniform(0.5, 8)), case_id, "close", key)

    def _grid_for(self, township: str | None) -> str:
        inside = [g for g in self.grids if township and self.ref.grids[g].township_code == township]
        return self.rng.choice(inside or self.grids)

    def _plan_dispatched(self, case_id: int, key: _Key, when: datetime) -> None:
        rng = self.rng
        unit = key[1] or ""
        if rng.random() < self.cfg.cancel_share:
            self._schedule(
                when + timedelta(hours=rng.uniform(0.2, 4)),
                case_id,
                "cancel",
                key,
                {"reason": "重复反映，已合并处理"},
            )
            return
        hours = rng.expovariate(1 / 1.5) * self.unit_speed(unit)
        self._schedule(
            when + timedelta(hours=hours),
            case_id,
            "accept",
            key,
            {"holder": self.holder_of(unit)},
        )

    def _plan_accepted(self, case_id: int, key: _Key, tier: str, when: datetime) -> None:
        rng = self.rng
        unit, mode = key[1] or "", key[2]
        if rng.random() < self.cfg.pause_share:
            self._schedule(
                when + timedelta(hours=rng.uniform(1, 12)),
                case_id,
                "pause",
                key,
                {"reason": "等待群众补充材料"},
            )
            return
        if (
            tier == "department"
            and mode != "consultation"
            and rng.random() < (self.cfg.consult_share * 4)
        ):
            depts = [u for u in self._departments if u != unit]
            if len(depts) >= 2:
                co = rng.sample(depts, 2)
                self._schedule(
                    when + timedelta(hours=rng.uniform(2, 24)),
                    case_id,
                    "consult",
                    key,
                    {"lead": unit, "co_units": co, "reason": "涉及多个部门，召集会商"},
                )
                return
        self._plan_resolve(case_id, key, tier, when)

    def _plan_resolve(self, case_id: int, key: _Key, tier: str, when: datetime) -> None:
        median = HANDLING_HOURS.get(tier, 24.0) * self.unit_speed(key[1] or "")
        hours = median * math.exp(self.rng.gauss(0, 0.6))
        self._schedule(
            when + timedelta(hours=hours), case_id, "resolve", key, {"reason": "已处置完毕"}
        )

    def _plan_resolved(self, case_id: int, key: _Key, when: datetime) -> None:
        """The citizen rates the result; when they do not, the centre calls back (回访)."""
        rng = self.rng
        roll = rng.random()
        answer = "satisfied"
        if roll < self.cfg.unsatisfied_share:
            answer = "unsatisfied"
        elif roll < self.cfg.unsatisfied_share + self.cfg.basic_share:
            answer = "basic"
        if rng.random() <= self.cfg.rating_share:
            self._schedule(
                when + timedelta(hours=rng.uniform(1, 30)),
                case_id,
                "rate",
                key,
                {"rating": answer},
            )
        else:
            self._schedule(
                when + timedelta(hours=rng.uniform(24, 72)),
                case_id,
                "revisit",
                key,
                {"result": answer, "comment": "电话回访"},
            )

    def _schedule(
        self,
        at: datetime,
        case_id: int,
        action: str,
        key: _Key,
        params: dict[str, Any] | None = None,
    ) -> None:
        plan = _Planned(at, case_id, action, key, params or {})
        heapq.heappush(self._plan, (at.timestamp(), next(self._seq), plan))

    def due_actions(self, t1: datetime) -> list[Command]:
        """Planned actions before ``t1``; stale ones (the case moved on since) are dropped.

        With ``settle`` set (a live run, whose clock ticks apart from this loop), a step that
        falls at or just before the case's deadline waits until ``settle`` after it: by then
        the clock has moved the case on (and this step is stale) or left it where it was (the
        top tier), and the step is still legal."""
        out: list[Command] = []
        limit = t1.timestamp()
        settle = self.settle.total_seconds()
        while self._plan and self._plan[0][0] < limit:
            p = heapq.heappop(self._plan)[2]
            if self._state.get(p.case_id) != p.expect:
                continue
            if settle > 0:
                due = self._due.get(p.case_id)
                if due is not None and p.at.timestamp() < due + settle and due < limit + settle:
                    later = datetime.fromtimestamp(due + settle, p.at.tzinfo)
                    if later.timestamp() >= limit:
                        p.at = later
                        heapq.heappush(self._plan, (later.timestamp(), next(self._seq), p))
                        continue
            n = next(self._ids)
            self.stats.actions += 1
            out.append(
                action_command(
                    p.action,
                    p.params,
                    case_id=p.case_id,
                    actor=f"sim:{p.expect[1]}",
                    at=p.at,
                    command_id=f"s{self._run}a{n}",
                )
            )
        return out


def _parse_time(v: Any) -> datetime:
    if isinstance(v, datetime):
        return v
    return datetime.fromisoformat(v)


def _stamp(v: Any) -> float | None:
    """A time as seconds, whether a datetime (SQL rows) or RFC 3339 text (deltas)."""
    return None if v is None else _parse_time(v).timestamp()
