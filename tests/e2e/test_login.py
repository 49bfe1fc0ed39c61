"""A worker logs in on a tablet and sees the home page; bad passwords get a Chinese message."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e


def test_worker_logs_in_at_768x1024_and_sees_home(live_server, tablet):
    page = tablet
    page.goto(live_server + "/")
    assert page.url.endswith("/login?next=/%3F") or "/login" in page.url
    page.get_by_label("工号").fill("worker")
    page.get_by_label("密码").fill("Demo@2026")
    shot(page, "01-login-768x1024")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_role("heading", name="您好，张小明").is_visible()
    assert page.get_by_text("桃源村第一网格").first.is_visible()
    shot(page, "02-home-768x1024")
    # Large-text mode is remembered (on the account; other tests on this server may have left it on for worker).
    def large() -> bool:
        return "large-text" in page.evaluate("document.documentElement.className")

    before = large()
    page.get_by_role("button", name="大字").first.click()
    assert large() is not before
    expect(page.locator('[data-action="toggle-large-text"][data-saving]')).to_have_count(0)  # saved
    page.reload()
    assert large() is not before
    page.get_by_role("button", name="大字").first.click()  # leave the account as it was
    expect(page.locator('[data-action="toggle-large-text"][data-saving]')).to_have_count(0)  # saved


def test_wrong_password_shows_a_chinese_message(live_server, tablet):
    page = tablet
    page.goto(live_server + "/login")
    page.get_by_label("工号").fill("worker")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().strip() == "工号或密码不正确"


def test_no_console_errors_or_csp_violations_on_the_login_page(live_server, tablet):
    errors = []
    tablet.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tablet.goto(live_server + "/login")
    tablet.wait_for_load_state("networkidle")
    assert errors == []
