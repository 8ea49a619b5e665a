"""The live bridge on a real Redis: one subscriber, frames to every screen, full views for
newcomers and a catch-up frame for screens that fall behind."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from backend.queries.scope import Scope
from backend.store.refload import city_map
from backend.system import System
from dashboard.live_bridge import Frame, LiveBridge, Screen
from layouts import ids
from layouts.svg import project_city, svg_of
from tests.helpers import act, report


def _bridge(system) -> LiveBridge:
    with system.db.connect() as conn:
        _city, geojson = city_map(conn)
    return LiveBridge(system, project_city(geojson, {}), frame_interval=0.05)


def _open_count(frame: Frame) -> str | None:
    pulse = frame.props.get(ids.WALL_PULSE)
    if pulse is None:
        return None
    return str(json.loads(pulse["data"]["numbers"])[ids.kpi_value("open")]["t"])


async def _until(screen: Screen, check: Any, timeout: float = 10.0) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = await screen.next(0.2)
        if frame is not None:
            frames.append(frame)
            if check(frame):
                return frames
    raise AssertionError(f"no frame passed the check in {timeout}s ({len(frames)} frames)")


def test_screens_get_the_full_view_then_the_changes(system):
    bridge = _bridge(system)

    async def scenario() -> None:
        first = bridge.connect()
        frames = await _until(first, lambda f: _open_count(f) == "0")
        case_id = await asyncio.to_thread(report, system)
        frames = await _until(first, lambda f: _open_count(f) == "1")
        # the new case reaches the ticker as a Patch (as the plain data Dash sends for one),
        # prepended, in that frame or soon after
        if not any(ids.WALL_TICKER in f.props for f in frames):
            frames += await _until(first, lambda f: ids.WALL_TICKER in f.props)
        ticker = [f.props[ids.WALL_TICKER] for f in frames if ids.WALL_TICKER in f.props]
        patch = ticker[-1]["children"]
        assert patch["__dash_patch_update"] and patch["operations"][0]["operation"] == "Insert"
        # a screen that connects now starts from the full view: the count and the ticker line
        second = bridge.connect()
        full = await _until(second, lambda f: f.full)
        assert _open_count(full[-1]) == "1"
        lines = full[-1].props[ids.WALL_TICKER]["children"]
        assert [li["props"]["data-case"] for li in lines] == [str(case_id)]
        # both follow the next change
        await asyncio.to_thread(act, system, case_id, "cancel", reason="重复上报")
        await _until(first, lambda f: _open_count(f) == "0")
        await _until(second, lambda f: _open_count(f) == "0")
        bridge.disconnect(first)
        bridge.disconnect(second)
        assert bridge.screens == 0

    try:
        asyncio.run(scenario())
    finally:
        bridge.stop()


def test_a_screen_that_falls_behind_is_sent_the_present_not_the_backlog(system):
    bridge = _bridge(system)

    async def scenario() -> None:
        slow = bridge.connect()
        slow.limit = 3
        shown = await _until(slow, lambda f: _open_count(f) == "0")
        slow.sent = shown[-1].number  # the browser took in the view of the empty city
        await asyncio.sleep(1.2)  # the map and the chart have been drawn for the empty city
        quiet = bridge.catch_up(slow)
        assert ids.WALL_MAP not in quiet.props  # nothing heavy changed: nothing heavy resent
        slow.sent = quiet.number
        for g in sorted(system.ref.grids)[:8]:  # several frames' worth, while nobody reads
            await asyncio.to_thread(report, system, grid=g)
            await asyncio.sleep(0.12)
        await asyncio.sleep(1.2)  # and the map has turned
        assert slow.behind and len(slow.queue) <= slow.limit
        frame = bridge.catch_up(slow)
        assert not slow.behind and not slow.queue
        # one frame with the present of what changed: the count, the map, the ticker in full
        assert _open_count(frame) == "8"
        assert ids.WALL_MAP in frame.props
        lines = frame.props[ids.WALL_TICKER]["children"]
        assert isinstance(lines, list) and len(lines) == 8
        await asyncio.sleep(0.3)
        # whatever came before the catch-up is dropped; it already holds all eight
        later = [slow.queue.popleft() for _ in range(len(slow.queue))]
        assert all(f.number > frame.number for f in later)
        bridge.disconnect(slow)

    try:
        asyncio.run(scenario())
    finally:
        bridge.stop()


def test_the_bridge_waits_out_a_redis_that_is_not_there_yet(settings, clock, private_redis):
    private_redis.stop()  # the web process starts before Redis does
    system = System(settings.model_copy(update={"redis_url": private_redis.url}), clock)
    bridge = _bridge(system)
    try:
        bridge.start()
        time.sleep(1.5)
        assert bridge.feed.running
        assert not bridge.link_up and not bridge.model.loaded
        private_redis.start()
        deadline = time.monotonic() + 15
        while not (bridge.link_up and bridge.model.loaded) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert bridge.link_up and bridge.model.loaded
    finally:
        bridge.stop()
        system.db.dispose()


def test_walls_of_many_areas_share_one_subscriber_and_each_keeps_its_own(system):
    """The city's wall and two townships' walls: one Redis subscriber for the three, each
    bridge's figures its own area's; a bridge made while the feed runs joins it."""
    from dashboard.walls import Walls

    with system.db.connect() as conn:
        city_name, geojson = city_map(conn)
    walls = Walls(system, city_name, geojson, frame_interval=0.05)
    by_town: dict[str, list[str]] = {}
    for g in sorted(system.ref.grids):
        by_town.setdefault(system.ref.grids[g].township_code, []).append(g)
    town_a, town_b = sorted(by_town)[:2]

    async def scenario() -> None:
        city = walls.city.connect()
        await _until(city, lambda f: _open_count(f) == "0")
        a = walls.bridge(Scope(town_a, "township")).connect()  # joins the running feed
        await _until(a, lambda f: _open_count(f) == "0")
        for _ in range(2):
            await asyncio.to_thread(report, system, grid=by_town[town_a][0])
        await asyncio.to_thread(report, system, grid=by_town[town_b][0])
        b = walls.bridge(Scope(town_b, "township")).connect()
        await _until(city, lambda f: _open_count(f) == "3")
        await _until(a, lambda f: _open_count(f) == "2")
        await _until(b, lambda f: _open_count(f) == "1")
        channel = system.keys.live
        subscribers = dict(system.redis.pubsub_numsub(channel))
        assert subscribers[channel.encode()] == 1
        assert walls.feed.running

    try:
        asyncio.run(scenario())
    finally:
        walls.stop()
    assert not walls.feed.running  # the last bridge gone, the thread ends


def test_the_map_is_sent_whole_once_then_only_the_areas_that_changed(system):
    """A city's map is most of the bytes of a frame: after the first, the screens are sent
    the areas whose colour or tooltip changed, and a newcomer the whole map as it is now."""
    bridge = _bridge(system)
    grid = sorted(system.ref.grids)[5]

    async def scenario() -> None:
        first = bridge.connect()
        frames = await _until(first, lambda f: ids.WALL_MAP in f.props)
        whole = frames[-1].props[ids.WALL_MAP]["src"]
        assert f'data-code="{grid}"' in svg_of(whole)
        await asyncio.to_thread(report, system, grid=grid)
        frames = await _until(first, lambda f: ids.WALL_MAP_PAINT in f.props)
        assert not any(ids.WALL_MAP in f.props for f in frames)  # not the whole map again
        areas = frames[-1].props[ids.WALL_MAP_PAINT]["data"]["areas"]
        township = system.ref.grids[grid].township_code
        # the grid and its township, each with its new colour and a tooltip that counts it
        assert grid in {a[0] for a in areas} <= {grid, township}
        tip = next(a[2] for a in areas if a[0] == grid)
        assert grid in tip and "1" in tip
        assert len(json.dumps(areas)) * 20 < len(whole)
        # a screen that connects now starts from the whole map as it is now
        second = bridge.connect()
        full = await _until(second, lambda f: f.full)
        now_src = svg_of(full[-1].props[ids.WALL_MAP]["src"])
        fill = next(a[1] for a in areas if a[0] == grid)
        assert f'data-code="{grid}" fill="{fill}"' in now_src
        bridge.disconnect(first)
        bridge.disconnect(second)

    try:
        asyncio.run(scenario())
    finally:
        bridge.stop()
