"""The live wall in a real headless Chromium, served by the real web process, pushed from a
real Redis: no polling anywhere on the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from backend.auth.apikeys import create_key
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.system import System
from dashboard.app import create_app
from layouts.wall import MAP_EMPTY, MAP_OVERDUE
from tests.browser import chromium, free_port, serving
from tests.helpers import act, grid_category, report
from tests.people import sign_in_browser

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(system, wall) -> Iterator[Any]:
    """A Chromium signed in as a duty officer (cookies go by host: every server of the test
    on 127.0.0.1 sees the session)."""
    drv = chromium()
    sign_in_browser(drv, wall[0], system, "duty_officer")
    yield drv
    drv.quit()


@pytest.fixture
def wall(system) -> Iterator[tuple[str, Any]]:
    app = create_app(system)
    with serving(app) as url:
        yield url, app
    app.state.bridge.stop()


def _text(b: Any, element_id: str) -> str:
    try:
        return str(b.find_element(By.ID, element_id).text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def tile(b: Any, key: str) -> str:
    return _text(b, f"wall-kpi-{key}")


def is_live(b: Any) -> bool:
    cls = b.find_element(By.ID, "wall-live").get_attribute("class") or ""
    return "is-stale" not in cls


def map_fill(b: Any, code: str) -> str:
    """The fill of one area on the map as the screen shows it now: drawn inline from the
    first whole map, then painted area by area (live.js)."""
    try:
        fill = b.execute_script(
            "var p = document.querySelector('#wall-map-live path[data-code=\"' + arguments[0]"
            " + '\"]'); return p ? p.getAttribute('fill') : '';",
            code,
        )
    except (NoSuchElementException, StaleElementReferenceException):
        return ""
    return str(fill or "")


def ticker(b: Any) -> list[tuple[str, str]]:
    """(kind, case id) of the ticker's lines, read in one go while the ticker may be moving."""
    rows = b.execute_script(
        "return Array.from(document.querySelectorAll('#wall-ticker li'))"
        ".map(function (li) { return [li.dataset.kind, li.dataset.case]; })"
    )
    return [(str(k), str(c)) for k, c in rows]


def _open_wall(b: Any, url: str) -> WebDriverWait:
    b.get(url + "/")
    wait = WebDriverWait(b, 45, poll_frequency=0.1)  # generous: CI machines are busy
    wait.until(lambda d: is_live(d) and tile(d, "open") not in ("", "—"))
    return wait


def test_a_case_reported_through_the_api_appears_on_the_wall(system, wall, browser):
    url, app = wall
    wait = _open_wall(browser, url)
    assert tile(browser, "open") == "0" and tile(browser, "received_today") == "0"
    with system.db.begin() as conn:
        key = create_key(conn, "hotline-12345", system.clock.now())
    grid = sorted(system.ref.grids)[7]
    res = httpx.post(
        url + "/api/v1/cases",
        json={
            "category": grid_category(system),
            "description": "<b>楼道</b>堆放杂物，存在消防隐患",
            "channel": "hotline",
            "grid": grid,
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert res.status_code == 201, res.text
    case_id = str(res.json()["id"])
    wait.until(lambda d: tile(d, "open") == "1")
    assert tile(browser, "received_today") == "1"
    wait.until(lambda d: ("new", case_id) in ticker(d))
    wait.until(lambda d: map_fill(d, grid) not in ("", MAP_EMPTY))
    # the language switch changes the labels, not the numbers
    browser.find_element(By.ID, "lang-toggle").click()
    wait.until(lambda d: "Open overdue" in d.find_element(By.ID, "wall").text)
    assert tile(browser, "open") == "1"
    # the page never reloaded and never polled: one document, fed over the websocket
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
    # and it does not pile up Dash's undo history, one entry per pulse, for days
    for g in sorted(system.ref.grids)[40:70]:
        report(system, grid=g)
        time.sleep(0.05)
    wait.until(lambda d: tile(d, "open") == "31")
    past = browser.execute_script(
        "return window.dash_stores.map(function (s) { return s.getState().history.past.length; })"
    )
    assert past and max(past) <= 20, past


def test_a_case_going_overdue_moves_the_counters_and_the_map(system, clock, wall, browser):
    url, app = wall
    grid = sorted(system.ref.grids)[11]
    case_id = report(system, grid=grid)
    wait = _open_wall(browser, url)
    wait.until(lambda d: tile(d, "open") == "1")
    assert tile(browser, "went_overdue_county") == "0"
    wait.until(lambda d: map_fill(d, grid) not in ("", MAP_EMPTY, *MAP_OVERDUE))
    # nobody acts: it goes overdue at each tier, climbs on its own and stays overdue at the top
    for _ in range(4):
        clock.advance(timedelta(days=30))
        system.engine.tick()
    wait.until(lambda d: tile(d, "went_overdue_county") == "1")
    wait.until(lambda d: map_fill(d, grid) in MAP_OVERDUE)
    # ticker lines go out twice a second, the map once a second: neither waits for the other
    wait.until(lambda d: {("overdue", str(case_id)), ("escalated", str(case_id))} <= set(ticker(d)))
    funnel = browser.find_element(By.ID, "wall-funnel-county-overdue")
    assert funnel.text == "1" and "is-hot" in (funnel.get_attribute("class") or "")
    # handled at last: the overdue count and the map go back
    act(system, case_id, "accept")
    act(system, case_id, "resolve", reason="已督办解决")
    wait.until(lambda d: tile(d, "went_overdue_county") == "0" and tile(d, "open") == "0")
    wait.until(lambda d: map_fill(d, grid) == MAP_EMPTY)


# ----------------------------------------------------------------------------- Redis restarts


def test_the_wall_recovers_from_a_redis_restart_and_equals_the_database(
    settings, clock, private_redis, browser
):
    system = System(settings.model_copy(update={"redis_url": private_redis.url}), clock)
    app = create_app(system)
    try:
        with serving(app) as url:
            report(system)
            report(system)
            wait = _open_wall(browser, url)
            wait.until(lambda d: tile(d, "open") == "2")
            private_redis.stop()
            wait.until(lambda d: not is_live(d))  # the screen says "reconnecting"
            # the city goes on while Redis is away: SQL has it all, the screens hear nothing
            for g in sorted(system.ref.grids)[20:23]:
                report(system, grid=g)
            private_redis.start()  # empty: its sequence starts again from zero
            wait.until(is_live)
            wait.until(lambda d: tile(d, "open") == "5")
            report(system, grid=sorted(system.ref.grids)[40])
            wait.until(lambda d: tile(d, "open") == "6")
            with system.db.connect() as conn:
                k = kpi(conn, clock.now(), system.tz, scope=Scope.city())
            assert tile(browser, "open") == str(k["open"])
            assert tile(browser, "received_today") == str(k["received_today"])
            assert tile(browser, "closed_today") == str(k["closed_today"])
            for tier, v in k["by_tier"].items():
                assert tile(browser, f"went_overdue_{tier}") == str(v["went_overdue"])
            # nothing announced twice
            news = [c for kind, c in ticker(browser) if kind == "new"]
            assert len(news) == len(set(news))
    finally:
        app.state.bridge.stop()
        system.db.dispose()


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_the_wall_fits_the_screen_without_scrolling(system, wall, browser, size):
    width, height = size
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    report(system)
    url, _app = wall
    wait = _open_wall(browser, url)
    wait.until(lambda d: tile(d, "open") == "1")
    geometry = browser.execute_script(
        "var d = document.documentElement;"
        "var panels = Array.from(document.querySelectorAll('.gw-col, .gw-kpi'));"
        "return {sw: d.scrollWidth, sh: d.scrollHeight, w: innerWidth, h: innerHeight,"
        " bottom: Math.max.apply(null, panels.map(p => p.getBoundingClientRect().bottom)),"
        " right: Math.max.apply(null, panels.map(p => p.getBoundingClientRect().right))};"
    )
    assert (geometry["w"], geometry["h"]) == (width, height)
    assert geometry["sw"] <= width and geometry["sh"] <= height, geometry
    assert geometry["bottom"] <= height and geometry["right"] <= width, geometry
    # the map and the chart are images that fill their panels, at any resolution
    boxes = browser.execute_script(
        "return ['wall-map', 'wall-intake'].map(function (i) {"
        " var r = document.getElementById(i).getBoundingClientRect();"
        " return [r.width, r.height]; })"
    )
    for w, h in boxes:
        assert w > width * 0.15 and h > height * 0.15, boxes


def test_the_wall_rides_out_a_cut_link_to_the_web_server(system, browser):
    """The web process goes away and comes back: the open page reconnects by itself and shows
    what happened meanwhile, without reloading."""
    app = create_app(system)
    port = free_port()
    try:
        with serving(app, port) as url:
            report(system)
            wait = _open_wall(browser, url)
            wait.until(lambda d: tile(d, "open") == "1")
        # the link is cut: the screen says so, and the city goes on
        wait.until(lambda d: not is_live(d))
        report(system, grid=sorted(system.ref.grids)[30])
        with serving(app, port):
            wait = WebDriverWait(browser, 60, poll_frequency=0.2)
            wait.until(lambda d: is_live(d) and tile(d, "open") == "2")
            assert (
                browser.execute_script("return performance.getEntriesByType('navigation').length")
                == 1
            )
    finally:
        app.state.bridge.stop()
