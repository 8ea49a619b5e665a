"""Signing in, administering people and signing out in a real headless Chromium: the forms a
browser posts pass the gate's origin check (a page that hid its origin would be refused)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.people import PASSWORD, make_person

pytestmark = pytest.mark.browser


@pytest.fixture
def site(system) -> Iterator[str]:
    app = create_app(system)
    with serving(app) as url:
        yield url
    app.state.walls.stop()


def test_an_admin_signs_in_makes_a_person_and_signs_out(system, site):
    make_person(system, "admin", username="root", display_name="管理员甲")
    b = chromium(1280, 900)
    try:
        b.get(site + "/admin")
        wait = WebDriverWait(b, 30)
        wait.until(lambda d: "/login" in d.current_url)
        b.find_element(By.ID, "username").send_keys("root")
        b.find_element(By.ID, "password").send_keys(PASSWORD)
        b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith("/admin"))
        assert "管理员甲" in b.page_source
        b.find_element(By.ID, "username").send_keys("zhou")
        b.find_element(By.ID, "display_name").send_keys("周敏")
        b.find_element(By.CSS_SELECTOR, "#role option[value=leader]").click()
        b.find_element(By.CSS_SELECTOR, "form.card button.primary").click()
        wait.until(lambda d: "已创建 zhou" in d.page_source)
        assert b.find_element(By.CSS_SELECTOR, "tr[data-user=zhou]")
        b.find_element(By.CSS_SELECTOR, "tr[data-user=zhou] form button").click()  # reset
        wait.until(lambda d: "密码已重置" in d.page_source)
        b.find_element(By.CSS_SELECTOR, "header form button").click()  # sign out
        wait.until(lambda d: "/login?out=1" in d.current_url)
        assert "您已安全退出" in b.page_source
        b.get(site + "/admin")
        wait.until(lambda d: "/login" in d.current_url)
    finally:
        b.quit()
