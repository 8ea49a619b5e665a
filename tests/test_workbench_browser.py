"""The handler's workbench on a phone-sized Chromium (390×844): my cases, accept and resolve
with a photo until the case leaves the list, a patrol report with the phone's location that
becomes a case; every page fits the phone, reads at 16 px and has 44 px touch targets.
Screenshots go to $GRIDWATCH_SCREENSHOTS when set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.helpers import case_row, events_of, first_grid, grid_category, report
from tests.images import png
from tests.people import sign_in_browser

pytestmark = pytest.mark.browser

#: what a page of the workbench must satisfy on the phone: nothing wider than the screen,
#: no text under 16 px, every link, button and field at least 44 px high
LAYOUT = """
const w = window.innerWidth, bad = [];
if (document.documentElement.scrollWidth > w + 1) bad.push('page scrolls sideways');
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.right > w + 1) bad.push('too wide: ' + el.tagName + '#' + el.id + '.' + el.className);
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (own && parseFloat(getComputedStyle(el).fontSize) < 16)
    bad.push('small text: ' + el.tagName + ' ' + el.textContent.trim().slice(0, 20));
  if (el.matches('a, button, select, textarea, input:not([type=hidden]), summary') && r.height < 44)
    bad.push('small target: ' + el.tagName + '#' + el.id + ' ' + r.height);
}
return bad;
"""


@pytest.fixture
def phone() -> Iterator[Any]:
    drv = chromium(390, 844)
    yield drv
    drv.quit()


@pytest.fixture
def site(system) -> Iterator[str]:
    app = create_app(system)  # the whole web process: the wall's routes must not shadow these
    with serving(app) as url:
        yield url
    app.state.bridge.stop()


def _fits(b: Any, name: str | None = None) -> None:
    assert b.execute_script(LAYOUT) == [], b.current_url
    out = os.environ.get("GRIDWATCH_SCREENSHOTS")
    if out and name:  # to look at them: the whole page, phone-wide
        full = b.execute_script("return document.documentElement.scrollHeight")
        b.set_window_size(390, max(844, min(int(full) + 140, 4000)))
        Path(out).mkdir(parents=True, exist_ok=True)
        b.save_screenshot(str(Path(out) / f"work_{name}.png"))
        b.set_window_size(390, 844)


def _notice(browser: Any) -> str:
    """The page's notice, or "" while there is none or the page is being replaced (a node of
    the page that is going may be found, and be gone when its text is read)."""
    try:
        return str(browser.find_element(By.ID, "notice").text)
    except WebDriverException:
        return ""


def test_accept_and_resolve_with_a_photo_on_a_phone(system, site, phone, tmp_path):
    grid = first_grid(system)
    person = sign_in_browser(
        phone, site, system, "handler", units=[system.ref.grid_unit[grid]], display_name="张芳"
    )
    cid = report(system, reporter="李四 13900139000")
    other = report(system)
    wait = WebDriverWait(phone, 20)
    phone.get(f"{site}/work")
    card = phone.find_element(By.CSS_SELECTOR, f'a[data-case="{cid}"]')
    assert "c-green" in card.get_attribute("class") and "剩余" in card.text
    _fits(phone, "list")
    card.click()
    wait.until(lambda b: b.find_elements(By.ID, "code"))
    assert phone.find_element(By.ID, "reporter").text == "李四 13900139000"
    _fits(phone, "case")
    phone.find_element(By.ID, "act-accept").click()
    wait.until(lambda b: _notice(b) == "已签收。")
    assert case_row(system, cid)["status"] == "accepted"
    _fits(phone, "accepted")
    photo = tmp_path / "after.png"
    photo.write_bytes(png(640, 480))
    phone.find_element(By.ID, "resolve-text").send_keys("杂物已清走，楼道畅通")
    phone.find_element(By.ID, "resolve-photo").send_keys(str(photo))
    phone.find_element(By.ID, "act-resolve").click()
    # the form posts and a new page comes: until it has, the old page's notice is the one found
    wait.until(lambda b: "已办结" in _notice(b))
    assert not phone.find_elements(By.CSS_SELECTOR, f'a[data-case="{cid}"]')  # left the list
    assert phone.find_elements(By.CSS_SELECTOR, f'a[data-case="{other}"]')
    row = case_row(system, cid)
    assert row["status"] == "resolved"
    assert [e["actor"] for e in events_of(system, cid)][-2:] == [person.actor] * 2
    phone.get(f"{site}/work/cases/{cid}")
    img = phone.find_element(By.CSS_SELECTOR, "#result-photos img")
    wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", img) == 640)


def test_a_patrol_report_with_the_phones_location_becomes_my_case(system, site, phone, tmp_path):
    grid = first_grid(system)
    g = system.ref.grids[grid]
    sign_in_browser(phone, site, system, "handler", units=[system.ref.grid_unit[grid]])
    phone.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": site, "permissions": ["geolocation"]}
    )
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride",
        {"latitude": g.lat, "longitude": g.lon, "accuracy": 10},
    )
    wait = WebDriverWait(phone, 20)
    phone.get(f"{site}/work/patrol")
    _fits(phone, "patrol")
    phone.find_element(By.ID, "locate").click()
    wait.until(lambda b: b.find_element(By.ID, "lat").get_attribute("value"))
    assert "已定位" in phone.find_element(By.ID, "where").text
    category = grid_category(system)
    phone.find_element(By.CSS_SELECTOR, f"#category option[value={category}]").click()
    phone.find_element(By.ID, "description").send_keys("巡查发现路灯不亮")
    photo = tmp_path / "lamp.png"
    photo.write_bytes(png(320, 240, (30, 30, 30)))
    phone.find_element(By.ID, "photo").send_keys(str(photo))
    phone.find_element(By.ID, "send").click()
    wait.until(lambda b: b.find_elements(By.ID, "notice"))
    assert phone.find_element(By.ID, "notice").text == "巡查上报已提交。"
    cid = int(phone.current_url.split("/work/cases/")[1].split("?")[0])
    row = case_row(system, cid)
    assert (row["channel"], row["grid_code"]) == ("grid_worker", grid)
    assert abs(row["lat"] - g.lat) < 1e-5 and abs(row["lon"] - g.lon) < 1e-5
    _fits(phone)
    phone.get(f"{site}/work")
    assert phone.find_elements(By.CSS_SELECTOR, f'a[data-case="{cid}"]')
    phone.get(f"{site}/work/me")
    assert "我的办理记录" in phone.page_source
    _fits(phone, "me")
