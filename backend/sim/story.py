"""The demo's opening story: what a duty officer watches for, on screen within the first minute.

The simulated city is believable but slow to show its drama: at 60× a case takes hours of wall
time to go overdue. So the live phase opens with a few scripted beats, each a real command
through the engine (signed like the simulator's, so every screen and the event log treat them
as any other):

1. an urgent report (道路塌陷) straight from the 12345 hotline, which goes straight up;
2. the slowest grid unit's backlog: cases it has sat on for days go overdue at the grid and
   climb to the township on the next tick of the clock;
3. a consultation (会商): a department case with a lead unit and two co-responsible units;
4. a reopened case: resolved, rated 不满意 by the citizen, back to the unit.

The simulator keeps its hands off the cases of beats 2–4, so its own plans for them never
collide with the story's commands (no dead letters); the urgent case is the simulator's to
carry on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.core.clock import Clock
from backend.domain.commands import Command, action_command, create_command
from backend.engine.case_engine import CaseEngine
from backend.refdata.index import RefIndex

log = logging.getLogger("gridwatch.story")

#: The slow unit's backlog: how long it has sat on each case (calendar days), and its matter.
BACKLOG = ((5.0, "garbage_collection"), (8.0, "cooking_fumes"), (12.0, "sanitation"))


@dataclass(frozen=True, slots=True)
class Beat:
    after_s: float  # wall seconds after the live phase starts
    name: str
    play: Callable[[DemoStory], None]


class DemoStory:
    """Plays the beats on their own thread; ``hands_off`` tells the simulator which cases
    are the story's."""

    def __init__(
        self,
        engine: CaseEngine,
        ref: RefIndex,
        clock: Clock,
        *,
        unit_speed: Callable[[str], float],
        hands_off: Callable[[Iterable[int]], None],
        run_id: str = "story",
    ) -> None:
        self.engine = engine
        self.ref = ref
        self.clock = clock
        self.unit_speed = unit_speed
        self.hands_off = hands_off
        self.run_id = run_id
        self.played: list[str] = []
        self.case_ids: dict[str, list[int]] = {}
        self._n = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-story", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        elapsed = 0.0
        for beat in BEATS:
            if self._stop.wait(max(0.0, beat.after_s - elapsed)):
                return
            elapsed = beat.after_s
            self.play(beat)

    def play(self, beat: Beat) -> None:
        """One beat; a beat that cannot be played (a city without such units) is skipped."""
        try:
            beat.play(self)
            self.played.append(beat.name)
            log.info("demo story: %s", beat.name)
        except Exception:
            log.warning("demo story: %s could not be played", beat.name, exc_info=True)

    # ------------------------------------------------------------------ commands

    def _id(self) -> str:
        self._n += 1
        return f"{self.run_id}-{self._n}"

    def _apply(self, cmd: Command) -> int:
        result = self.engine.apply([cmd]).results[0]
        if not result.ok or result.case_id is None:
            raise RuntimeError(f"{cmd.kind} {cmd.action or ''} refused: {result.error}")
        return result.case_id

    def create(
        self, name: str, case: dict[str, Any], *, at: datetime | None = None, own: bool = True
    ) -> int:
        actor = f"sim:{case['channel']}"
        case_id = self._apply(create_command(case, actor=actor, at=at, command_id=self._id()))
        if own:
            self.hands_off([case_id])
        self.case_ids.setdefault(name, []).append(case_id)
        return case_id

    def act(
        self, case_id: int, unit: str, action: str, at: datetime | None = None, **p: Any
    ) -> None:
        actor = "citizen:qr" if action == "rate" else f"sim:{unit}"
        self._apply(
            action_command(action, p, case_id=case_id, actor=actor, at=at, command_id=self._id())
        )

    # ------------------------------------------------------------------ choices

    def slowest_grid(self) -> str:
        """The grid whose unit the simulator made slowest: its cases are the ones that stick."""
        grids = sorted(g for g in self.ref.grids if g in self.ref.grid_unit)
        return max(grids, key=lambda g: (self.unit_speed(self.ref.grid_unit[g]), g))

    def busiest_grid(self) -> str:
        return sorted(self.ref.grids)[0]

    def place(self, grid: str) -> str:
        g = self.ref.grids[grid]
        return self.ref.area_names.get(g.community_code, "") or g.name


# ---------------------------------------------------------------------- the beats


def _urgent(story: DemoStory) -> None:
    grid = story.busiest_grid()
    story.create(
        "urgent",
        {
            "category": "road_collapse",
            "description": f"{story.place(grid)}主干道路面突然塌陷约3平方米，已有一辆电动车陷入，"
            "来往车辆很多，请立即派人处置！",
            "channel": "hotline",
            "grid": grid,
            "severity": "urgent",
            "reporter": "张先生",
        },
        own=False,
    )


def _backlog(story: DemoStory) -> None:
    grid = story.slowest_grid()
    now = story.clock.now()
    for days, category in BACKLOG:
        if category not in story.ref.categories:
            category = sorted(story.ref.categories)[0]
        story.create(
            "backlog",
            {
                "category": category,
                "description": f"{story.place(grid)}{story.ref.categories[category].name}："
                "问题反映多日仍未处理，群众意见较大。",
                "channel": "grid_worker",
                "grid": grid,
            },
            at=now - timedelta(days=days),
        )


def _consultation(story: DemoStory) -> None:
    cats = story.ref.categories
    cat = "illegal_building" if "illegal_building" in cats else sorted(cats)[0]
    lead = story.ref.categories[cat].owner_unit
    others = sorted(
        u for u, info in story.ref.units.items() if info.kind == "department" and u != lead
    )[:2]
    grid = sorted(story.ref.grids)[len(story.ref.grids) // 2]
    case_id = story.create(
        "consultation",
        {
            "category": cat,
            "description": f"{story.place(grid)}{story.ref.categories[cat].name}："
            "沿街门面加盖三层彩钢棚，涉及规划、消防和市场监管，需要协同处置。",
            "channel": "hotline",
            "grid": grid,
            "severity": "major",  # a major matter goes straight to the owner department
            "reporter": "刘女士",
        },
    )
    story.act(case_id, lead, "accept")
    story.act(
        case_id, lead, "consult", lead=lead, co_units=others, reason="涉及多个部门职责，召集会商"
    )


def _reopened(story: DemoStory) -> None:
    grid = sorted(story.ref.grids)[-1]
    unit = story.ref.grid_unit[grid]
    case_id = story.create(
        "reopened",
        {
            "category": "garbage_collection",
            "description": f"{story.place(grid)}垃圾清运：楼下垃圾堆放三天无人清运，气味很大。",
            "channel": "qr",
            "grid": grid,
            "reporter": "陈女士",
        },
    )
    story.act(case_id, unit, "accept")
    story.act(case_id, unit, "resolve", reason="已联系环卫清运")
    story.act(case_id, unit, "rate", rating="unsatisfied", comment="只清走了一半，仍有异味")


BEATS: tuple[Beat, ...] = (
    Beat(3.0, "urgent report", _urgent),
    Beat(8.0, "slow unit overdue", _backlog),
    Beat(15.0, "consultation", _consultation),
    Beat(25.0, "reopened case", _reopened),
)
