"""The hall wall's frames from SQL: a first frame draws every card; after it, a frame rereads
only the halls the processor said changed and carries their changed cells and figures as data
(no card redrawn), an alert's count reaches its hall's card, and a hall's page ignores the
other halls. The watcher turns the processor's messages into what changed, and a gap in
their sequence into "everything"."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson

from backend.halls.processor import HallProcessor
from backend.halls.rules import load_rules
from callbacks.halls import Shown, frame
from dashboard.hall_watch import HallWatcher
from layouts import ids
from tests.hallsdata import ev, load_halls
from tests.test_halls_processor import HALL, a_queue_at_an_empty_window, only


def _processor(system, small_city) -> HallProcessor:
    load_halls(system, small_city)
    p = HallProcessor(system, only(load_rules(), "window_vacant"))
    p.start()
    return p


def test_after_the_first_frame_only_what_changed_goes_out(system, small_city, clock) -> None:
    proc = _processor(system, small_city)
    shown = Shown()
    first = frame(system, None, shown)
    assert ids.HALLS_GRID in first and len(first[ids.HALLS_GRID]["children"]) == 11
    assert "cells" not in first[ids.HALLS_CELLS]["data"]
    # nothing changed: only the clock, as data
    quiet = frame(system, None, shown, set(), False)
    assert set(quiet) == {ids.HALLS_CELLS} and list(quiet[ids.HALLS_CELLS]["data"]) == ["clock"]

    proc.apply([ev(HALL, "staff_arrived", clock.now(), "01", staff="s1")])
    out = frame(system, None, shown, {HALL}, False)
    assert ids.HALLS_GRID not in out  # no card redrawn
    cells = out[ids.HALLS_CELLS]["data"]["cells"]
    assert list(cells) == [f"win-{HALL}-01"]
    assert cells[f"win-{HALL}-01"][0] == "gw-win is-staffed"
    # one more window staffed: the summary's figure, in place
    assert ids.HALLS_SUMMARY not in out
    assert out[ids.HALLS_CELLS]["data"]["summary"]["halls-on-post"].endswith("%")

    # a hall said to have changed that did not: nothing of it goes out
    again = frame(system, None, shown, {HALL}, False)[ids.HALLS_CELLS]["data"]
    assert not again.get("cells") and not again.get("halls") and "summary" not in again


def test_an_alert_reaches_its_halls_figures(system, small_city, clock) -> None:
    proc = _processor(system, small_city)
    shown = Shown()
    frame(system, None, shown)
    a_queue_at_an_empty_window(proc, clock)
    frame(system, None, shown, {HALL}, False)
    clock.advance(timedelta(minutes=6))
    proc.tick()  # the window has stood vacant with its queue: an alert, no hall state changed
    out = frame(system, None, shown, set(), True)
    halls = out[ids.HALLS_CELLS]["data"]["halls"]
    assert halls[HALL][0] == "gw-hall has-alerts" and halls[HALL][3].startswith("⚠")
    assert ids.HALLS_ALERTS in out


def test_a_halls_page_ignores_the_others(system, small_city, clock) -> None:
    proc = _processor(system, small_city)
    shown = Shown()
    assert ids.HALLS_GRID in frame(system, HALL, shown)
    other = sorted(h.code for h in system.halls.halls if h.code != HALL)[0]
    proc.apply([ev(other, "staff_arrived", clock.now(), "01", staff="x")])
    assert ids.HALLS_GRID not in frame(system, HALL, shown, {other}, False)
    proc.apply([ev(HALL, "staff_arrived", clock.now(), "01", staff="s1")])
    assert ids.HALLS_GRID in frame(system, HALL, shown, {HALL}, False)


def test_the_watcher_passes_on_what_changed_and_a_gap_as_everything(system) -> None:
    watcher = HallWatcher(system)

    async def scenario() -> None:
        w = watcher.watch()
        assert w.take() == (None, True)  # a first look is at everything
        await asyncio.wait_for(w.wake.wait(), 10)  # subscribed: look at everything again
        assert w.take() == (None, True)
        watcher._told(orjson.dumps({"seq": 1, "halls": ["A"], "alerts": []}))
        watcher._told(orjson.dumps({"seq": 2, "halls": ["B"], "alerts": [7]}))
        await asyncio.sleep(0.05)
        assert w.take() == ({"A", "B"}, True)
        watcher._told(orjson.dumps({"seq": 4, "halls": ["C"], "alerts": []}))  # 3 missed
        await asyncio.sleep(0.05)
        assert w.take() == (None, True)
        watcher._told(b"not json")
        await asyncio.sleep(0.05)
        assert w.take()[0] is None
        watcher.unwatch(w)

    try:
        asyncio.run(scenario())
    finally:
        watcher.stop()
