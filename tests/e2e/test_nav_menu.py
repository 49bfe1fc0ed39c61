"""The menu bar fits the screen for every role; the operators' pages open from one 管理 menu."""
from __future__ import annotations

import pytest

from tests.e2e.a11y import serious_violations
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e

_HEADER_FITS = """(() => { const h = document.querySelector('header'); const r = h.getBoundingClientRect();
  return document.documentElement.scrollWidth <= innerWidth + 1 &&
    Array.from(h.querySelectorAll('a, button, summary')).filter(e => e.checkVisibility())
      .every(e => { const b = e.getBoundingClientRect(); return b.right <= innerWidth + 1 && b.bottom <= r.bottom + 1; }); })()"""


@pytest.mark.parametrize("width, height", [(1280, 800), (768, 1024)])
@pytest.mark.parametrize("username", ["trainer-county", "hr", "admin"])
def test_operators_menu_bar_fits_and_the_management_menu_opens(live_server, browser, username, width, height):
    # bypass_csp: axe is an injected script, which our CSP forbids.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True,
                                  bypass_csp=True)
    page = context.new_page()
    try:
        login(page, live_server, username)
        assert page.evaluate(_HEADER_FITS)
        summary = page.locator("header summary", has_text="管理")
        summary.click()
        menu = page.locator("header .nav-manage-list")
        assert menu.is_visible()
        assert page.evaluate(_HEADER_FITS.replace("b.bottom <= r.bottom + 1", "true"))
        if username == "trainer-county" and width == 1280:
            shot(page, f"nav-manage-open-{width}x{height}")
        assert serious_violations(page) == []
        # A click elsewhere closes it; Escape too.
        page.locator("main").click(position={"x": 5, "y": 5})
        assert not menu.is_visible()
        summary.click()
        page.keyboard.press("Escape")
        assert not menu.is_visible()
        summary.click()
        first = menu.locator("a").first
        label = first.inner_text()
        first.click()
        page.wait_for_load_state()
        assert page.locator("header summary.active", has_text="管理").count() == 1
        assert page.locator("header .nav-manage-link.active").text_content().strip() == label
    finally:
        context.close()


def test_worker_bar_has_no_management_menu_and_fits_a_phone(live_server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, "worker")
        assert page.locator("header summary", has_text="管理").count() == 0
        page.get_by_role("button", name="展开菜单").click()
        assert page.get_by_role("link", name="上报演练").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
    finally:
        context.close()
