"""The QR page and the tracking page on a phone-sized Chromium: report with a photo, follow
the case, rate it. Screenshots go to $GRIDWATCH_SCREENSHOTS when set (to look at them)."""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from backend.domain.case import case_code
from backend.store.models import cases
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.helpers import act, case_row
from tests.images import png
from tests.people import sign_in_browser

pytestmark = pytest.mark.browser
GRID = "361102001001G02"
SVG_NS = "http://www.w3.org/2000/svg"


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


def _shot(b: Any, tmp_path: Path, name: str, width: int = 390, height: int = 844) -> None:
    full = b.execute_script("return document.documentElement.scrollHeight")
    b.set_window_size(width, max(height, min(int(full) + 140, 4000)))
    path = tmp_path / f"{name}.png"
    b.save_screenshot(str(path))
    b.set_window_size(width, height)
    out = os.environ.get("GRIDWATCH_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / path.name)


def _fits_the_phone(b: Any) -> bool:
    return bool(
        b.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


def test_report_follow_and_rate_on_a_phone(system, site, phone, tmp_path):
    photo = tmp_path / "scene.png"
    photo.write_bytes(png(640, 480, (120, 144, 156)))
    phone.get(f"{site}/r/{GRID}")
    wait = WebDriverWait(phone, 20)
    assert "新潭社区" in phone.find_element(By.CLASS_NAME, "grid-name").text
    assert _fits_the_phone(phone)
    # type size readable on a phone, touch targets large
    size = phone.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('textarea')).fontSize)"
    )
    button = phone.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert size >= 16 and button.size["height"] >= 44
    phone.find_element(By.CSS_SELECTOR, "#category option[value=garbage_collection]").click()
    phone.find_element(By.ID, "description").send_keys("5栋楼下的垃圾桶满了两天没人清运，气味很大")
    phone.find_element(By.ID, "photo").send_keys(str(photo))
    phone.find_element(By.ID, "reporter").send_keys("李女士")
    _shot(phone, tmp_path, "qr-form")
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/t/" in d.current_url)
    assert "已提交" in phone.page_source and "已派遣" in phone.page_source
    assert _fits_the_phone(phone)
    img = phone.find_element(By.CSS_SELECTOR, ".photos img")
    assert phone.execute_script("return arguments[0].naturalWidth", img) == 640
    _shot(phone, tmp_path, "qr-tracking")
    # the case is handled; the citizen's page offers the rating
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    act(system, case_id, "accept")
    act(system, case_id, "resolve", reason="已安排环卫车清运")
    phone.get(phone.current_url.split("?")[0])
    phone.find_element(By.CSS_SELECTOR, "input[value=satisfied]").click()
    _shot(phone, tmp_path, "qr-rate")
    phone.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "已评价" in d.page_source)
    assert case_row(system, case_id)["rating"] == "satisfied"
    # and in English
    phone.get(phone.current_url.split("?")[0] + "?lang=en")
    assert "Rated" in phone.page_source and "Timeline" in phone.page_source
    _shot(phone, tmp_path, "qr-tracking-en")


def test_the_qr_code_and_the_township_posters_print(system, site, tmp_path):
    desk = chromium(1280, 900)
    try:
        desk.get(f"{site}/r/{GRID}/qr.svg")  # drawn as an image, not shown as raw XML
        assert desk.execute_script("return document.documentElement.namespaceURI") == SVG_NS
        assert desk.execute_script("return document.documentElement.getBBox().width") > 100
        township = system.ref.grids[GRID].township_code
        grids = system.ref.grids_by_area[township]
        sign_in_browser(desk, site, system, "duty_officer")
        desk.get(f"{site}/posters/{township}")
        wait = WebDriverWait(desk, 20)
        wait.until(
            lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
            )
        )
        posters = desk.find_elements(By.CSS_SELECTOR, ".poster")
        assert len(posters) == len(grids)
        # every poster inside its sheet, its code and place inside the poster
        outside = desk.execute_script(
            """
            const bad = [];
            for (const p of document.querySelectorAll('.poster')) {
              const s = p.closest('.sheet').getBoundingClientRect(), b = p.getBoundingClientRect();
              if (b.left < s.left - 1 || b.right > s.right + 1 || b.bottom > s.bottom + 1)
                bad.push(p.dataset.grid);
              for (const c of p.children) {
                const r = c.getBoundingClientRect();
                if (r.right > b.right + 1 || r.bottom > b.bottom + 1)
                  bad.push(p.dataset.grid + ' ' + c.className);
              }
            }
            return bad;"""
        )
        assert outside == []
        assert desk.find_element(By.ID, "print-posters").is_displayed()  # the script ran
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        pdf = base64.b64decode(desk.print_page(options))
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == -(-len(grids) // 6), pages
        (tmp_path / "posters.pdf").write_bytes(pdf)
        _shot(desk, tmp_path, "qr-posters", 1280, 900)
    finally:
        desk.quit()


def test_a_citizen_copies_the_link_and_finds_the_case_again(system, site, phone, tmp_path):
    phone.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"], "origin": site},
    )
    phone.get(f"{site}/r/{GRID}")
    wait = WebDriverWait(phone, 20)
    phone.find_element(By.ID, "description").send_keys("路灯坏了一个星期，晚上很黑")
    phone.find_element(By.ID, "phone").send_keys("13900139000")
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/t/" in d.current_url)
    link = phone.find_element(By.ID, "track-link")
    assert link.get_attribute("href") == phone.current_url.split("?")[0]
    copy = phone.find_element(By.ID, "copy-link")
    assert copy.is_displayed() and copy.size["height"] >= 44
    copy.click()
    wait.until(lambda d: copy.text == "已复制")
    copied = phone.execute_async_script(
        "const done = arguments[0];navigator.clipboard.readText().then(done, e => done(String(e)));"
    )
    assert copied == link.get_attribute("href")
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    code = case_code(case_id, case_row(system, case_id)["reported_at"], system.tz)
    # the link is lost: from the QR page, find it again
    phone.get(f"{site}/r/{GRID}")
    phone.find_element(By.CSS_SELECTOR, "a.find-link").click()
    wait.until(lambda d: d.find_elements(By.ID, "phone4"))
    phone.find_element(By.ID, "code").send_keys(code)
    phone.find_element(By.ID, "phone4").send_keys("9001")
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "未找到" in d.page_source)
    assert _fits_the_phone(phone)
    phone.find_element(By.ID, "phone4").clear()
    phone.find_element(By.ID, "phone4").send_keys("9000")
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/t/" in d.current_url and "found=1" in d.current_url)
    assert "原链接已失效" in phone.page_source and code in phone.page_source
    assert _fits_the_phone(phone)
    _shot(phone, tmp_path, "qr-found")
