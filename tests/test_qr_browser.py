"""The QR page and the tracking page on a phone-sized Chromium: report with a photo, follow
the case, rate it. Screenshots go to $GRIDWATCH_SCREENSHOTS when set (to look at them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from backend.store.models import cases
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.helpers import act, case_row
from tests.images import png

pytestmark = pytest.mark.browser
GRID = "361102001001G02"


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


def _shot(b: Any, tmp_path: Path, name: str) -> None:
    height = b.execute_script("return document.documentElement.scrollHeight")
    b.set_window_size(390, max(844, int(height) + 140))
    path = tmp_path / f"{name}.png"
    b.save_screenshot(str(path))
    b.set_window_size(390, 844)
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
