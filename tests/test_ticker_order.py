"""The ticker is in time order, newest first, however the happenings arrive: commands carry
their own time (the simulator's steps, an importer's records) and the clock's moves are told
when they commit, so the order they reach the wall is not the order they happened in.

The wall's model, the live bridge's frames (the Patch a screen applies, and the full view a
new screen starts from) and the leader's case page all list them newest first.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from dash import Patch

from backend.domain.commands import action_command, create_command
from backend.domain.events import Ticker
from backend.live.wall import WallModel
from backend.queries.live import TICKER_LENGTH, TickerItem, WallSnapshot
from backend.queries.scope import Scope
from backend.queries.timeline import load_timeline
from dashboard.live_bridge import _reorder
from layouts import ids
from tests.conftest import TZ, local
from tests.helpers import first_grid, grid_category
from tests.test_live_bridge import _bridge, _until
from tests.test_wall_browser import _open_wall, browser, wall  # noqa: F401  (fixtures)

#: the order the issue saw them in: 20:13:17, 20:13:13, 20:13:12, 20:13:03, 20:12:43, 20:13:09
ARRIVALS = [(20, 13, 17), (20, 13, 13), (20, 13, 12), (20, 13, 3), (20, 12, 43), (20, 13, 9)]


def _line(case_id: int, at: datetime, kind: Ticker = Ticker.CLOSED) -> TickerItem:
    return TickerItem(0, kind, at, case_id, f"GW{case_id}", "c", "u", "grid")


def test_the_model_keeps_its_lines_in_time_order_newest_first() -> None:
    model = WallModel(TZ)
    model.load(WallSnapshot(0, local(2026, 11, 23, 20, 14), [], []))
    for n, hms in enumerate(ARRIVALS, start=1):
        model._push_ticker(_line(n, local(2026, 11, 23, *hms)))
    times = [i.at for i in model.ticker]
    assert times == sorted(times, reverse=True)
    assert [f"{t.astimezone(TZ):%H:%M:%S}" for t in times][:3] == [
        "20:13:17",
        "20:13:13",
        "20:13:12",
    ]
    assert times[-1] == local(2026, 11, 23, 20, 12, 43)
    # at the same second, the line told later comes first
    model._push_ticker(_line(99, local(2026, 11, 23, 20, 13, 17), Ticker.NEW))
    assert [i.case_id for i in model.ticker][:2] == [99, 1]


def test_a_full_ticker_takes_a_late_line_where_it_belongs_or_not_at_all() -> None:
    model = WallModel(TZ)
    base = local(2026, 11, 23, 20, 0)
    model.load(
        WallSnapshot(
            0,
            base,
            [],
            [_line(i, base + timedelta(minutes=i)) for i in range(TICKER_LENGTH, 0, -1)],
        )
    )
    assert len(model.ticker) == TICKER_LENGTH
    model._push_ticker(_line(500, base + timedelta(minutes=1, seconds=30)))  # between 2 and 1
    assert [i.case_id for i in model.ticker][-2:] == [2, 500]  # case 1's line scrolled off
    model._push_ticker(_line(600, base - timedelta(hours=1)))  # older than every line
    assert 600 not in [i.case_id for i in model.ticker]
    times = [i.at for i in model.ticker]
    assert times == sorted(times, reverse=True) and len(times) == TICKER_LENGTH


def _apply(lines: list[Any], patch: Patch | dict[str, Any]) -> list[Any]:
    """A Patch (or the plain data Dash sends for one) applied to a list as Dash's renderer
    does (Insert at an index, Delete)."""
    out = list(lines)
    data = patch.to_plotly_json() if isinstance(patch, Patch) else patch
    for op in data["operations"]:
        if op["operation"] == "Insert":
            out.insert(op["params"]["index"], op["params"]["value"])
        elif op["operation"] == "Delete":
            del out[op["location"][0]]
        else:  # pragma: no cover - the bridge sends no other operation
            raise AssertionError(op)
    return out


def test_the_patch_turns_the_lines_shown_into_the_models_order() -> None:
    shown = [9, 7, 5, 3, 1]
    target = [10, 9, 8, 5, 4, 3]  # 7 and 1 left, 10, 8 and 4 came in where their time puts them
    lines = {seq: f"line{seq}" for seq in [*shown, *target]}
    got = _apply([lines[s] for s in shown], _reorder(shown, target, lines))
    assert got == [lines[s] for s in target]
    assert _apply([], _reorder([], target, lines)) == [lines[s] for s in target]


def _times(lines: list[Any]) -> list[str]:
    """The time shown on each line (its ``gw-t-time`` span, wherever the line nests it)."""

    def time_of(node: Any) -> str | None:
        if isinstance(node, (list, tuple)):
            return next((t for n in node if (t := time_of(n)) is not None), None)
        if hasattr(node, "to_plotly_json"):
            node = node.to_plotly_json()
        if not isinstance(node, dict) or "props" not in node:
            return None
        p = node["props"]
        if p.get("className") == "gw-t-time":
            return str(p["children"])
        return time_of(p.get("children"))

    return [t for li in lines if (t := time_of(li)) is not None]


def test_screens_get_the_lines_in_time_order_as_they_arrive_out_of_it(system) -> None:
    """New cases whose reports are applied out of time order, through the real engine, Redis
    pub/sub and the bridge: the lines a screen builds from its Patches, and the full view a
    new screen starts from, are in time order, newest first."""
    bridge = _bridge(system)
    category, grid = grid_category(system), first_grid(system)

    async def scenario() -> tuple[list[Any], list[Any]]:
        first = bridge.connect()
        frames = await _until(first, lambda f: f.full)
        shown = list(frames[-1].props.get(ids.WALL_TICKER, {}).get("children", []))
        for n, (h, m, s) in enumerate(ARRIVALS):
            at = local(2026, 11, 23, h - 12, m, s)  # 08:13:17 … on the fixture's morning
            body = {
                "category": category,
                "description": f"楼道堆放杂物 {n}",
                "channel": "grid_worker",
                "grid": grid,
            }
            await asyncio.to_thread(system.engine.apply, [create_command(body, at=at)])
            await asyncio.sleep(0.3)  # so the lines reach the screen in several frames
        got: list[Any] = []

        def took_all(frame: Any) -> bool:
            nonlocal shown
            props = frame.props.get(ids.WALL_TICKER)
            if props is not None:
                children = props["children"]
                patched = isinstance(children, dict) and "__dash_patch_update" in children
                shown = _apply(shown, children) if patched else children
            got[:] = shown
            return len(shown) >= len(ARRIVALS)

        await _until(first, took_all)
        second = bridge.connect()
        full = await _until(second, lambda f: f.full)
        bridge.disconnect(first)
        bridge.disconnect(second)
        return got, full[-1].props[ids.WALL_TICKER]["children"]

    try:
        shown, full = asyncio.run(scenario())
    finally:
        bridge.stop()
    expected = sorted((f"{h - 12:02d}:{m:02d}:{s:02d}" for h, m, s in ARRIVALS), reverse=True)
    assert _times(shown) == expected
    assert _times(full) == expected


def test_the_case_page_lists_its_events_in_time_order(system, clock) -> None:
    """A step sent late (its own time before the clock's move that committed first) is listed
    where its time puts it; the page shows the list newest first."""
    at = local(2026, 11, 23, 8, 0)
    res = system.engine.apply(
        [
            create_command(
                {
                    "category": grid_category(system),
                    "description": "路灯不亮",
                    "channel": "grid_worker",
                    "grid": first_grid(system),
                },
                at=at,
            )
        ]
    )
    case_id = res.results[0].case_id
    assert case_id is not None
    clock.set(local(2026, 11, 23, 9, 0))
    system.engine.apply(
        [action_command("accept", {"holder": "H1"}, case_id=case_id, actor="t", at=at)]
    )
    system.engine.apply(
        [
            action_command(
                "instruct",
                {"text": "尽快处理"},
                case_id=case_id,
                actor="leader:web",
                at=local(2026, 11, 23, 8, 30),
            )
        ]
    )
    system.engine.apply(
        [
            action_command(
                "resolve",
                {"reason": "已修复"},
                case_id=case_id,
                actor="t",
                at=local(2026, 11, 23, 8, 20),
            )
        ]
    )
    with system.db.connect() as conn:
        tl = load_timeline(conn, case_id, clock.now(), scope=Scope.city())
    times = [e["at_dt"] for e in tl.events]
    assert times == sorted(times)
    seqs = [e["seq"] for e in tl.events]
    assert seqs != sorted(seqs)  # the log's order was not the time order
    assert tl.last_seq == max(seqs)


@pytest.mark.browser
def test_a_real_wall_shows_the_lines_in_time_order(system, wall, browser) -> None:  # noqa: F811
    """In headless Chromium: the lines arrive out of time order, a few per frame, and the page
    applies the Patches (inserts at an index) into a ticker in time order, newest first."""
    url, _app = wall
    wait = _open_wall(browser, url)
    category, grid = grid_category(system), first_grid(system)
    at_of: dict[str, datetime] = {}
    for n, (h, m, s) in enumerate(ARRIVALS):
        at = local(2026, 11, 23, h - 12, m, s)
        body = {"category": category, "description": f"路灯不亮 {n}", "channel": "app"}
        body["grid"] = grid
        res = system.engine.apply([create_command(body, at=at)])
        at_of[str(res.results[0].case_id)] = at
        time.sleep(0.7)  # past the bridge's ticker interval: each line in a frame of its own

    def cases(d: Any) -> list[str]:
        rows = d.execute_script(
            f"return Array.from(document.querySelectorAll('#{ids.WALL_TICKER} li'))"
            ".map(function (li) { return li.dataset.case; })"
        )
        return [str(c) for c in rows]

    wait.until(lambda d: set(at_of) <= set(cases(d)))
    shown = [c for c in cases(browser) if c in at_of]
    assert shown == sorted(at_of, key=lambda c: at_of[c], reverse=True)
