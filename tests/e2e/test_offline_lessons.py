"""An opened lesson stays readable offline for its reader only; logout takes it off the tablet."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import login, shot, wait_until
from tests.e2e.test_courses import courses_loaded  # noqa: F401  (shared session fixture)

pytestmark = pytest.mark.e2e
LESSON = "/courses/county-grid-duties/lessons/duties-and-norms"



def test_opened_lesson_reads_offline_then_logout_removes_it(courses_loaded, tablet):  # noqa: F811
    page, base = tablet, courses_loaded
    login(page, base)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.goto(base + LESSON)
    title = page.locator("h1").first.inner_text()
    wait_until(page,
        "caches.keys().then(ks => Promise.all(ks.filter(k => k.startsWith('lms-pages-'))"
        ".map(k => caches.open(k).then(c => c.match(location.href))))).then(rs => rs.some(Boolean))")
    page.context.set_offline(True)
    page.reload()
    assert page.locator("h1").first.inner_text() == title
    assert not page.locator("#offline-banner").is_hidden()
    shot(page, "offline-lesson-768x1024")
    page.context.set_offline(False)
    page.goto(base + "/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.context.set_offline(True)
    page.goto(base + LESSON)
    assert page.get_by_role("heading", name="当前没有网络").is_visible()
    page.context.set_offline(False)
