"""The installable shell: service worker, offline page without personal data, logout clears the tablet."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import login, shot, wait_until

pytestmark = pytest.mark.e2e



def test_manifest_and_worker_are_served(live_server, tablet):
    manifest = tablet.request.get(live_server + "/manifest.webmanifest")
    assert manifest.ok and manifest.json()["lang"] == "zh-CN"
    worker = tablet.request.get(live_server + "/sw.js")
    assert worker.headers["service-worker-allowed"] == "/"
    assert "__SHELL__" not in worker.text() and "/offline" in worker.text()


def test_offline_navigation_shows_the_public_offline_page_and_logout_clears_caches(live_server, tablet):
    page = tablet
    login(page, live_server)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")
    wait_until(page, "caches.has('lms-meta')")
    page.context.set_offline(True)
    page.goto(live_server + "/users?never-cached=1")
    assert page.get_by_role("heading", name="当前没有网络").is_visible()
    assert "张小明" not in page.content()
    shot(page, "offline-page-768x1024")
    page.context.set_offline(False)
    page.goto(live_server + "/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    caches = page.evaluate("caches.keys()")
    assert not [name for name in caches if name.startswith("lms-pages-")]
    marker = page.evaluate("caches.open('lms-meta').then(c => c.match('/__lms/session-marker')).then(r => !!r)")
    assert marker is False


def test_offline_banner_follows_the_connection(live_server, tablet):
    page = tablet
    login(page, live_server)
    assert page.locator("#offline-banner").is_hidden()
    page.context.set_offline(True)
    wait_until(page, "!document.getElementById('offline-banner').hidden")
    assert "当前离线" in page.locator("#offline-banner").inner_text()
    page.context.set_offline(False)
    wait_until(page, "document.getElementById('offline-banner').hidden")
