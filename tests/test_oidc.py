"""Single sign-on against a real OpenID Connect provider on loopback (panva's oidc-provider in
Node, tests/oidc/provider.mjs): the whole authorization code flow with PKCE, the ID token
checked, the subject mapped to a linked account; refusals for the unlinked, a forged state, a
replayed code and a provider that is down."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.api.app import create_api
from backend.auth.sessions import COOKIE
from backend.store.models import audit_log
from tests.browser import free_port
from tests.people import make_person

HERE = Path(__file__).parent / "oidc"
OURS = "http://gw.test"
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the sign-on tests: ./run test installs it"
    assert (HERE / "node_modules" / "oidc-provider").is_dir(), (
        "tests/oidc/node_modules is missing: ./run test runs npm ci there"
    )
    port = free_port()
    proc = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), str(port), f"{OURS}/login/sso/callback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def site(system, issuer):
    s = system.settings
    s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret = (
        issuer,
        "gridwatch",
        "gridwatch-test-secret",
    )
    return TestClient(create_api(system), follow_redirects=False, base_url=OURS)


def _through_the_provider(start: str, login: str) -> str:
    """A person at the provider: signs in as ``login`` and consents; the URL they are sent
    back to."""
    with httpx.Client(follow_redirects=False, timeout=10) as idp:
        url = start
        for _ in range(12):
            if url.startswith(OURS):
                return url
            r = idp.get(url)
            if r.status_code in (302, 303):
                url = str(r.url.join(r.headers["location"]))
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
            assert form, r.text[:500]
            data = {"login": login, "password": "anything"} if 'name="login"' in r.text else {}
            data.update(
                dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
            )
            r = idp.post(str(r.url.join(form.group(1))), data=data)
            assert r.status_code in (302, 303), r.text[:500]
            url = str(r.url.join(r.headers["location"]))
        raise AssertionError("the provider never sent the person back")


def _path(url: str) -> str:
    u = urlsplit(url)
    return f"{u.path}?{u.query}"


def test_a_linked_person_signs_in_through_the_identity_service(system, site):
    make_person(system, "leader", username="wang", oidc_subject="wang.qiang")
    page = site.get("/login")
    assert 'id="sso"' in page.text and "统一身份认证登录" in page.text
    go = site.get("/login/sso?next=/leader")
    assert go.status_code == 303 and go.headers["location"].startswith(system.settings.oidc_issuer)
    assert "code_challenge=" in go.headers["location"] and "nonce=" in go.headers["location"]
    back = _through_the_provider(go.headers["location"], "wang.qiang")
    done = site.get(_path(back))
    assert done.status_code == 303 and done.headers["location"] == "/leader", done.text
    assert COOKIE in site.cookies
    with system.db.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "login")).mappings().one()
    assert row["actor"] == "user:wang" and row["detail"] == {"via": "sso"}
    again = site.get(_path(back))  # the same code a second time: the provider refuses it
    assert again.status_code == 401 and "统一身份认证" in again.text


def test_an_unlinked_subject_is_refused_and_logged(system, site):
    go = site.get("/login/sso")
    back = _through_the_provider(go.headers["location"], "stranger")
    r = site.get(_path(back))
    assert r.status_code == 401 and "尚未开通" in r.text
    assert COOKIE not in site.cookies
    with system.db.connect() as conn:
        row = conn.execute(select(audit_log)).mappings().one()
    assert row["action"] == "login_refused" and row["actor"] == "sso:stranger"


def test_a_forged_or_missing_state_is_refused(system, site):
    go = site.get("/login/sso")
    back = _through_the_provider(go.headers["location"], "someone")
    forged = re.sub(r"state=[^&]+", "state=forged", _path(back))
    assert site.get(forged).status_code == 401
    fresh = TestClient(site.app, follow_redirects=False, base_url=OURS)  # no gw_sso cookie
    r = fresh.get(_path(back))
    assert r.status_code == 401 and "重新登录" in r.text
    assert site.get("/login/sso/callback?error=access_denied").status_code == 401


def test_a_provider_that_is_down_is_said_plainly(system, site):
    system.settings.oidc_issuer = f"http://127.0.0.1:{free_port()}"
    r = site.get("/login/sso")
    assert r.status_code == 502 and "暂时无法连接" in r.text
    system.settings.oidc_issuer = None
    assert site.get("/login/sso").status_code == 404
    assert 'id="sso"' not in site.get("/login").text
