"""The wall as a duty officer uses it, in a real headless Chromium on the real web process:
boxes that fit at 1920×1080 and 3840×2160, text readable from three metres, whole ticker
lines, figures with their bases and definitions, clicks that open a case or a unit in a new
tab, flashes (and an optional sound) for urgent intake and overdue cases, a district wall at
``/?area=``, and a clear message for a bad area. Screenshots go to /tmp/wall-shots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from backend.auth.sessions import COOKIE
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.helpers import act, report
from tests.people import make_person, session_cookie, sign_in_browser
from tests.test_wall_browser import is_live, ticker, tile

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/wall-shots")
#: 24 px at 1080 lines: text meant to be read from three metres, scaled with the wall
MIN_PX_1080 = 24.0


@pytest.fixture
def browser(system, wall) -> Iterator[Any]:
    """A Chromium signed in as a duty officer of the whole city."""
    drv = chromium()
    sign_in_browser(drv, wall[0], system, "duty_officer")
    yield drv
    drv.quit()


@pytest.fixture
def wall(system) -> Iterator[tuple[str, Any]]:
    app = create_app(system)
    with serving(app) as url:
        yield url, app
    app.state.walls.stop()


def _size(b: Any, width: int, height: int) -> None:
    b.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _open(b: Any, url: str, path: str = "/") -> WebDriverWait:
    b.get(url + path)
    wait = WebDriverWait(b, 45, poll_frequency=0.1)
    wait.until(lambda d: is_live(d) and tile(d, "open") not in ("", "—"))
    return wait


def _busy_day(system, browser: Any, wait: WebDriverWait) -> None:
    """Enough happening for every panel: a case closed today (a 100.0% on-time rate) and
    more ticker lines than fit, sent a few at a time as a duty officer would see them (the
    wall tells the newest few of a burst, not a backlog)."""
    grids = sorted(system.ref.grids)
    done = report(system, grid=grids[1])
    act(system, done, "accept")
    act(system, done, "resolve", reason="已处理")
    wait.until(lambda d: len(ticker(d)) >= 2)
    for batch in range(3):
        for g in grids[20 + 5 * batch : 25 + 5 * batch]:
            report(system, grid=g)
        wait.until(lambda d, n=batch: len(ticker(d)) >= min(14, 7 + 5 * n))


# ----------------------------------------------------------------------------- layout

#: Every element of a tile or panel lies inside it; every visible ticker line lies inside the
#: ticker whole; and the font sizes of what is read from three metres.
GEOMETRY_JS = """
function inside(a, b) {
    return a.left >= b.left - 0.5 && a.right <= b.right + 0.5
        && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
}
var out = {spill: [], clipped: [], small: [], lines: 0, cut: 0};
document.querySelectorAll('.gw-kpi, .gw-col, .gw-header').forEach(function (box) {
    var r = box.getBoundingClientRect();
    box.querySelectorAll('*').forEach(function (el) {
        if (el.closest('.gw-def')) { return; }  // the definition pops out on purpose
        // inside an element that clips (an ellipsis), that element is the one measured
        for (var a = el.parentElement; a && a !== box; a = a.parentElement) {
            if (getComputedStyle(a).overflowX === 'hidden') { return; }
        }
        var s = getComputedStyle(el);
        if (s.display === 'none' || s.visibility === 'hidden') { return; }
        var e = el.getBoundingClientRect();
        if (e.width === 0 && e.height === 0) { return; }
        if (!inside(e, r)) { out.spill.push([box.className, el.className || el.tagName,
                                              el.textContent.slice(0, 30)]); }
        // text wider than its own box (cut by overflow) counts as spilled as well
        if ((el.classList.contains('gw-kpi-value') || el.classList.contains('gw-kpi-base'))
            && el.scrollWidth > el.clientWidth + 1) {
            out.spill.push([box.className, el.className, el.textContent]);
        }
    });
});
var ul = document.getElementById('wall-ticker').getBoundingClientRect();
document.querySelectorAll('#wall-ticker li').forEach(function (li) {
    out.lines += 1;
    if (getComputedStyle(li).visibility === 'hidden') { out.cut += 1; return; }
    if (!inside(li.getBoundingClientRect(), ul)) { out.clipped.push(li.textContent); }
});
var read = ['.gw-t-time', '.gw-t-kind .zh', '.gw-t-code', '.gw-t-cat .zh', '.gw-stuck td',
            '.gw-stuck th', '.gw-kpi-label .zh', '.gw-kpi-base', '.gw-kpi-value',
            '.gw-funnel-label .zh', '.gw-funnel-open', '.gw-funnel-overdue',
            '.gw-panel-title > .zh'];
read.forEach(function (sel) {
    document.querySelectorAll(sel).forEach(function (el) {
        var px = parseFloat(getComputedStyle(el).fontSize);
        if (el.offsetParent !== null && px < arguments_min) {
            out.small.push([sel, px, el.textContent.slice(0, 20)]);
        }
    });
});
out.code_colour = getComputedStyle(document.querySelector('.gw-t-code')).color;
out.notice_h = (document.querySelector('.gw-notice') || {getBoundingClientRect: function () {
    return {height: 0}; }}).getBoundingClientRect().height;
out.sw = document.documentElement.scrollWidth;
out.sh = document.documentElement.scrollHeight;
return out;
"""


@pytest.mark.parametrize(
    ("size", "lang"), [((1920, 1080), "zh"), ((3840, 2160), "zh"), ((1920, 1080), "en")]
)
def test_nothing_spills_no_ticker_line_is_cut_and_text_reads_from_three_metres(
    system, wall, browser, size, lang
):
    width, height = size
    _size(browser, width, height)
    url, _app = wall
    wait = _open(browser, url)
    if lang == "en":  # English words are longer: they must fit as well
        browser.find_element(By.ID, "lang-toggle").click()
        wait.until(lambda d: "lang-en" in (d.find_element(By.ID, "wall").get_attribute("class")))
    _busy_day(system, browser, wait)
    wait.until(lambda d: tile(d, "on_time_rate") == "100.0%" and len(ticker(d)) >= 14)
    time.sleep(1.2)  # the ranking and the map come once a second
    minimum = MIN_PX_1080 * height / 1080
    geo = browser.execute_script(
        GEOMETRY_JS.replace("arguments_min", str(minimum - 0.05)).replace(".zh'", f".{lang}'")
    )
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"test-wall-{width}x{height}-{lang}.png"))
    assert (geo["sw"], geo["sh"]) == (width, height), geo
    assert not geo["spill"], geo["spill"]  # "100.0%" and every base fit their tiles
    assert not geo["clipped"], geo["clipped"]  # no line cut in half ...
    assert geo["lines"] >= 14 and geo["cut"] >= 1  # ... the lines that do not fit are hidden
    assert geo["lines"] - geo["cut"] >= 6  # and a useful number of whole lines is shown
    assert not geo["small"], geo["small"]
    # case numbers are bright, not the old grey
    r, g, b = (int(x) for x in geo["code_colour"].strip("rgba()").split(",")[:3])
    assert min(r, g, b) >= 180, geo["code_colour"]
    # the 2027 calendar notice is a badge in the header, not a row of its own
    assert 0 < geo["notice_h"] <= 0.045 * height
    header = browser.find_element(By.CLASS_NAME, "gw-header")
    assert browser.find_element(By.CLASS_NAME, "gw-notice") in header.find_elements(
        By.CLASS_NAME, "gw-notice"
    )


def test_every_rate_shows_its_base_and_each_tile_its_definition(system, clock, wall, browser):
    grids = sorted(system.ref.grids)
    a = report(system, grid=grids[2])
    report(system, grid=grids[3])
    act(system, a, "accept")
    act(system, a, "resolve", reason="已处理")
    # a case reported yesterday and closed today: in 今日办结, not in today's close rate
    clock.advance(timedelta(days=-1))
    old = report(system, grid=grids[4])
    clock.advance(timedelta(days=1))
    act(system, old, "accept")
    act(system, old, "resolve", reason="已处理")
    url, _app = wall
    wait = _open(browser, url)
    with system.db.connect() as conn:
        k = kpi(conn, clock.now(), system.tz, scope=Scope.city())
    wait.until(lambda d: tile(d, "closed_today") == "2")
    assert tile(browser, "received_today") == "2"
    assert tile(browser, "close_rate") == "50.0%"

    def base(key: str) -> str:
        return str(browser.find_element(By.ID, f"wall-base-{key}").text)

    assert base("close_rate") == f"{k['closed_of_today']}/{k['handled_today']}" == "1/2"
    assert base("closed_today") == "1"  # of the two closed today, one was reported today
    assert base("on_time_rate") == "1/1"
    assert base("satisfaction_rate") == "0/0"  # no ratings: the rate says "—", its base 0
    assert tile(browser, "satisfaction_rate") == "—"
    # a definition is a hover away ...
    tile_el = browser.find_element(By.CSS_SELECTOR, '.gw-kpi[data-kpi="closed_today"]')
    definition = tile_el.find_element(By.CLASS_NAME, "gw-def")
    assert not definition.is_displayed()
    ActionChains(browser).move_to_element(tile_el).perform()
    wait.until(lambda d: definition.is_displayed())
    assert "往日受理" in definition.text
    # ... or a tap (the tile takes the focus), for each tile and the overdue figures
    ActionChains(browser).move_to_element(browser.find_element(By.ID, "wall-map")).perform()
    for key in ("received_today", "open", "close_rate", "on_time_rate", "satisfaction_rate"):
        el = browser.find_element(By.CSS_SELECTOR, f'.gw-kpi[data-kpi="{key}"]')
        browser.execute_script("arguments[0].focus()", el)
        shown = el.find_element(By.CLASS_NAME, "gw-def")
        wait.until(lambda d, s=shown: s.is_displayed())
        assert len(shown.text) > 10
    od = browser.find_element(By.CSS_SELECTOR, '.gw-kpi[data-kpi="overdue_cases"]')
    browser.execute_script("arguments[0].focus()", od)
    assert "自动升级" in od.find_element(By.CLASS_NAME, "gw-def").text


def test_overdue_cases_show_by_tier_although_escalation_moved_them_up(system, clock, wall, browser):
    """With auto-escalation a case is past its deadline only for an instant: the wall shows
    the 超期件 at the tier where it went overdue, on the tiles, funnel, map and ranking."""
    grid = sorted(system.ref.grids)[11]
    case_id = report(system, grid=grid)
    url, _app = wall
    wait = _open(browser, url)
    clock.advance(timedelta(days=3))  # past the grid's one working day: overdue, moved up
    system.engine.tick()
    wait.until(lambda d: tile(d, "went_overdue_grid") == "1")
    assert tile(browser, "overdue_cases_open") == "1"
    assert tile(browser, "overdue") == "0"  # not past its present (township) deadline
    with system.db.connect() as conn:
        k = kpi(conn, clock.now(), system.tz, scope=Scope.city())
    assert k["by_tier"]["grid"]["went_overdue"] == 1 and k["overdue"] == 0
    tier = k["by_tier"]
    now_at = next(t for t, v in tier.items() if v["overdue_cases"])
    wait.until(lambda d: d.find_element(By.ID, f"wall-funnel-{now_at}-overdue").text == "1")
    # the map is red there, and its tooltip says what it counts
    wait.until(
        lambda d: (
            d.execute_script(
                f"var p = document.querySelector('#wall-map-live path[data-code=\"{grid}\"]');"
                "return p && p.getAttribute('fill');"
            )
            in ("#c8553d", "#ff3b3b")
        )
    )
    tip = browser.execute_script(
        f"return document.querySelector('#wall-map-live path[data-code=\"{grid}\"] title')"
        ".textContent;"
    )
    assert "超期件 1 件" in tip and grid in tip
    # the unit holding it shows it in the ranking
    wait.until(
        lambda d: any(
            td.text == "1" and "is-hot" in (td.get_attribute("class") or "")
            for td in d.find_elements(By.CSS_SELECTOR, "#wall-stuck td")
        )
    )
    assert case_id


# ----------------------------------------------------------------------------- a tool


def _new_tab_url(browser: Any, wait: WebDriverWait, before: set[str]) -> str:
    wait.until(lambda d: len(d.window_handles) > len(before))
    (tab,) = set(browser.window_handles) - before
    home = browser.current_window_handle
    browser.switch_to.window(tab)
    wait.until(lambda d: d.current_url not in ("", "about:blank"))
    url = str(browser.current_url)
    browser.close()
    browser.switch_to.window(home)
    return url


def test_clicks_open_the_case_or_unit_in_a_new_tab_and_leave_the_wall(system, wall, browser):
    grids = sorted(system.ref.grids)
    case_id = report(system, grid=grids[5])
    url, _app = wall
    wait = _open(browser, url)
    wait.until(lambda d: ("new", str(case_id)) in ticker(d))
    handles = set(browser.window_handles)
    # a ticker line → that case, on the leader's desk, in a new tab
    browser.find_element(By.CSS_SELECTOR, f'#wall-ticker li[data-case="{case_id}"] a').click()
    assert _new_tab_url(browser, wait, handles).endswith(f"/leader/case/{case_id}")
    # a ranking row → that unit
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-stuck tr[data-unit] a"))
    row = browser.find_element(By.CSS_SELECTOR, "#wall-stuck tr[data-unit]")
    unit = row.get_attribute("data-unit")
    row.find_element(By.TAG_NAME, "a").click()
    assert _new_tab_url(browser, wait, handles).endswith(f"/leader?unit={unit}")
    # a map cell → that area, its tooltip first
    cell = f'#wall-map-live path[data-code="{grids[5]}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, cell))
    browser.find_element(By.CSS_SELECTOR, cell).click()
    assert _new_tab_url(browser, wait, handles).endswith(f"/leader?area={grids[5]}")
    # the wall itself never moved: same page, same document, still live
    assert browser.current_url.rstrip("/") == url
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
    assert is_live(browser)


def test_urgent_intake_and_overdue_flash_with_an_optional_sound(system, clock, wall, browser):
    url, _app = wall
    wait = _open(browser, url)
    sound = browser.find_element(By.ID, "wall-sound")
    assert sound.get_attribute("aria-pressed") == "false"  # off by default
    plain = report(system)
    collapse = report(
        system, category="road_collapse", description="路面塌陷", grid=sorted(system.ref.grids)[8]
    )
    wait.until(lambda d: {("new", str(plain)), ("new", str(collapse))} <= set(ticker(d)))

    def line(case_id: int, kind: str = "new") -> Any:
        return browser.find_element(
            By.CSS_SELECTOR, f'#wall-ticker li[data-case="{case_id}"][data-kind="{kind}"]'
        )

    assert "is-flash" in (line(collapse).get_attribute("class") or "")  # 道路塌陷: major
    assert "is-flash" not in (line(plain).get_attribute("class") or "")
    assert browser.execute_script("return window.gwLive.beeps") == 0  # the sound is off
    # switched on, on this screen only; urgent intake and a case going overdue sound
    sound.click()
    wait.until(
        lambda d: d.find_element(By.ID, "wall-sound").get_attribute("aria-pressed") == "true"
    )
    urgent = report(system, severity="urgent", grid=sorted(system.ref.grids)[9])
    wait.until(lambda d: ("new", str(urgent)) in ticker(d))
    assert "is-flash" in (line(urgent).get_attribute("class") or "")
    assert line(urgent).get_attribute("data-severity") == "urgent"
    wait.until(lambda d: d.execute_script("return window.gwLive.beeps") >= 1)
    beeps = browser.execute_script("return window.gwLive.beeps")
    clock.advance(timedelta(days=3))
    system.engine.tick()
    wait.until(lambda d: ("overdue", str(plain)) in ticker(d))
    assert "is-flash" in (line(plain, "overdue").get_attribute("class") or "")
    wait.until(lambda d: d.execute_script("return window.gwLive.beeps") > beeps)
    # the choice is remembered by this screen, and switched off again
    browser.find_element(By.ID, "wall-sound").click()
    wait.until(lambda d: d.execute_script("return localStorage.getItem('gw-wall-sound')") == "off")


def test_the_full_screen_control(system, wall, browser):
    url, _app = wall
    _open(browser, url)
    browser.find_element(By.ID, "wall-fullscreen").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.fullscreenElement !== null")
    )
    browser.find_element(By.ID, "wall-fullscreen").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.fullscreenElement === null")
    )


# ----------------------------------------------------------------------------- district walls


def test_a_district_wall_shows_only_its_area(system, wall, browser):
    ref = system.ref
    by_town: dict[str, list[str]] = {}
    for g in sorted(ref.grids):
        by_town.setdefault(ref.grids[g].township_code, []).append(g)
    here, there = sorted(by_town)[:2]
    mine = [report(system, grid=g) for g in by_town[here][:2]]
    theirs = [report(system, grid=g) for g in by_town[there][:3]]
    url, _app = wall
    wait = _open(browser, url, f"/?area={here}")
    wait.until(lambda d: tile(d, "open") == "2")
    assert tile(browser, "received_today") == "2"
    wait.until(lambda d: {c for _k, c in ticker(d)} == {str(c) for c in mine})
    # its title names the area; its map holds its own grids only
    assert ref.area_names[here] in browser.find_element(By.ID, "wall-city").text
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-map-live path[data-code]"))
    codes = set(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('#wall-map-live path[data-code]'))"
            ".map(function (p) { return p.dataset.code; })"
        )
    )
    assert codes == set(by_town[here])
    # live: a case elsewhere changes nothing here, one here does
    report(system, grid=by_town[there][4])
    new_here = report(system, grid=by_town[here][3])
    wait.until(lambda d: tile(d, "open") == "3")
    wait.until(lambda d: ("new", str(new_here)) in ticker(d))
    assert not {str(c) for c in theirs} & {c for _k, c in ticker(browser)}
    with system.db.connect() as conn:
        k = kpi(conn, system.clock.now(), system.tz, scope=Scope(area=here, level="township"))
    assert tile(browser, "open") == str(k["open"])
    # the city wall beside it still shows the whole city
    browser.get(url + "/")
    WebDriverWait(browser, 45).until(lambda d: tile(d, "open") == "7")


@pytest.mark.parametrize(
    ("area", "says"),
    [
        ("nowhere", "没有代码为“nowhere”的区域"),
        ("<script>alert(1)</script>", "没有代码为“<script>alert(1)</script>”的区域"),
        ("9" * 200, "没有代码为“" + "9" * 32 + "…”的区域"),
        ("", "没有代码为“”的区域"),
        ("GRID", "是网格，区域大屏按区县或乡镇（街道）显示"),
        ("COMMUNITY", "是社区（村），区域大屏按区县或乡镇（街道）显示"),
    ],
)
def test_a_bad_area_gets_a_clear_message_not_an_error(system, wall, browser, area, says):
    ref = system.ref
    if area == "GRID":
        area = sorted(ref.grids)[0]
    elif area == "COMMUNITY":
        area = sorted(c for c, lv in ref.area_levels.items() if lv == "community")[0]
    url, _app = wall
    cookie = session_cookie(system, make_person(system, "duty_officer"))
    res = httpx.get(url + "/", params={"area": area}, cookies={COOKIE: cookie})
    assert res.status_code == 200  # the page; the message is drawn by the router
    browser.get(str(httpx.URL(url + "/", params={"area": area})))
    msg = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.ID, "wall-area-error") or None
    )[0]
    assert says in msg.text
    assert "/?area=" in msg.text  # and how to ask instead
    assert browser.execute_script("return window.__injected === undefined")
    # no numbers of anyone's: no tiles, and no server error behind the page
    assert not browser.find_elements(By.CSS_SELECTOR, ".gw-kpi")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    msg.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 45).until(lambda d: is_live(d))


def test_the_city_code_is_the_city_wall(system, wall, browser):
    city = next(c for c, lv in system.ref.area_levels.items() if lv == "city")
    report(system)
    url, _app = wall
    wait = _open(browser, url, f"/?area={city}")
    wait.until(lambda d: tile(d, "open") == "1")
