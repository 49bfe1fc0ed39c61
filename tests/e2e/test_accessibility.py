"""WCAG 2.1 AA with axe-core on the pages every worker sees, in normal and large-text mode."""
from __future__ import annotations

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def a11y_page(browser):
    # bypass_csp: our CSP forbids injected scripts, which is exactly what axe is.
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()



def test_login_page_has_no_serious_violations(live_server, a11y_page):
    a11y_page.goto(live_server + "/login")
    assert serious_violations(a11y_page) == []


@pytest.mark.parametrize("path", ["/", "/inbox", "/password"])
@pytest.mark.parametrize("large_text", [False, True])
def test_worker_pages_have_no_serious_violations(live_server, a11y_page, path, large_text):
    login(a11y_page, live_server)
    if large_text:
        a11y_page.get_by_role("button", name="大字").first.click()
    a11y_page.goto(live_server + path)
    assert serious_violations(a11y_page) == []


def test_hr_user_list_has_no_serious_violations(live_server, a11y_page):
    login(a11y_page, live_server, "hr")
    a11y_page.goto(live_server + "/users")
    assert serious_violations(a11y_page) == []


def test_the_checker_itself_catches_a_real_violation(a11y_page):
    a11y_page.set_content('<html lang="zh-CN"><body><main><button></button><img src="x.png"></main></body></html>')
    found = serious_violations(a11y_page)
    assert any(item.startswith("button-name") for item in found)
    assert any(item.startswith("image-alt") for item in found)
